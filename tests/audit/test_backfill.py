"""Migration 0009 gives the rows written before it their hashes, case by case in id order."""
import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text

from dispatch.audit.chain import GENESIS, entry_hash
from dispatch.audit.service import AuditReport, verify_chains
from dispatch.db import alembic_config, make_engine, make_session_factory


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return request.getfixturevalue("empty_postgres_url")


def test_rows_from_before_the_migration_are_chained(database_url) -> None:
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(text("INSERT INTO squads (code, name) VALUES ('S1', '一中队')"))
        connection.execute(text("INSERT INTO cells (code, district_code, squad_code, geometry) "
                                "VALUES ('C1', '411502', 'S1', '{}')"))
        for case_id in (1, 2):
            connection.execute(text(
                "INSERT INTO cases (id, category, status, priority, lon, lat, cell_code, squad_code, reported_at, "
                "rework_count, overdue) VALUES (:id, '0501', 'reported', 2, 114.0, 32.1, 'C1', 'S1', :at, 0, false)"
            ), {"id": case_id, "at": dt.datetime(2026, 11, 1, 8, 0)})
        for case_id, kind, note in ((1, "created", None), (2, "created", None), (1, "registered", "立案")):
            connection.execute(text(
                "INSERT INTO case_events (case_id, kind, actor, at, note, data) "
                "VALUES (:case_id, :kind, 'old', :at, :note, '{\"k\": 1}')"
            ), {"case_id": case_id, "kind": kind, "note": note, "at": dt.datetime(2026, 11, 1, 8, 30)})
        command.upgrade(config, "head")
    with make_session_factory(engine)() as session:
        report = AuditReport()
        verify_chains(session=session, report=report)
        rows = session.execute(text("SELECT id, case_id, prev_hash, hash FROM case_events ORDER BY id")).all()
    engine.dispose()
    assert report.ok and (report.cases, report.events) == (2, 3)
    assert rows[0].prev_hash == GENESIS and rows[1].prev_hash == GENESIS and rows[2].prev_hash == rows[0].hash
    fields = {"case_id": 1, "kind": "created", "actor": "old", "from_status": None, "to_status": None, "note": None,
              "at": dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.timezone.utc), "data": {"k": 1}}
    assert rows[0].hash == entry_hash(fields, GENESIS)
