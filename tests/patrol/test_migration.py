"""Migration 0012 goes up and down cleanly on both databases, the cases' rows kept."""
import pytest
from alembic import command
from sqlalchemy import inspect, text

from dispatch.db import alembic_config, make_engine

PATROL_TABLES = {"roster_shifts", "patrols", "patrol_positions", "patrol_check_ins"}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return request.getfixturevalue("empty_postgres_url")


def test_patrol_migration_up_down_up(database_url) -> None:
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        connection.execute(text("INSERT INTO squads (code, name) VALUES ('S1', '一中队')"))
        connection.execute(text("INSERT INTO cells (code, district_code, squad_code, geometry) "
                                "VALUES ('C1', '411502', 'S1', '{}')"))
        connection.execute(text(
            "INSERT INTO cases (id, category, status, priority, lon, lat, cell_code, squad_code, reported_at, "
            "rework_count, overdue) VALUES (1, '0501', 'reported', 2, 114.0, 32.1, 'C1', 'S1', '2026-12-01', 0, false)"))
        command.upgrade(config, "head")
        assert PATROL_TABLES <= set(inspect(connection).get_table_names())
        assert connection.scalar(text("SELECT assigned_to FROM cases WHERE id = 1")) is None
        command.downgrade(config, "0011")
        assert not PATROL_TABLES & set(inspect(connection).get_table_names())
        assert "assigned_to" not in {c["name"] for c in inspect(connection).get_columns("cases")}
        command.upgrade(config, "head")
        assert connection.scalar(text("SELECT count(*) FROM cases")) == 1
    engine.dispose()
