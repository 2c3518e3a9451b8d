"""Storing the city grid and reading squads and cells back."""
from typing import Any

from geopandas import GeoDataFrame
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from dispatch.case.models import Case
from dispatch.squad.models import Cell, Squad
from grid.cells import UnitGrid


def store_grid(*, session: Session, cells: GeoDataFrame, squads: list[dict[str, Any]]) -> None:
    """Replace the stored grid: squads {code, name, district_code}; cells with code, district_code, squad_code.

    Cells that cases refer to must survive a rebuild: cell codes are stable for the same input.
    """
    new_codes = set(cells["code"])
    in_use = set(session.scalars(select(Case.cell_code).distinct()))
    lost = sorted(in_use - new_codes)
    if lost:
        raise ValueError(f"the new grid drops cells that cases refer to: {', '.join(lost[:10])}")
    for squad in squads:
        session.merge(Squad(code=squad["code"], name=squad["name"], district_code=squad.get("district_code")))
    session.flush()
    existing = set(session.scalars(select(Cell.code)))
    obsolete = sorted(existing - new_codes)
    for start in range(0, len(obsolete), 500):  # bounded IN lists: SQLite caps parameters
        session.execute(delete(Cell).where(Cell.code.in_(obsolete[start:start + 500])))
    rows = [
        {"code": row.code, "district_code": row.district_code, "squad_code": row.squad_code,
         "geometry": row.geometry.__geo_interface__}
        for row in cells.itertuples()
    ]
    # Bulk statements: a real city has tens of thousands of cells.
    inserts = [row for row in rows if row["code"] not in existing]
    updates = [row for row in rows if row["code"] in existing]
    if inserts:
        session.execute(insert(Cell), inserts)
    if updates:
        session.execute(update(Cell), updates)
    session.flush()

def list_squads(*, session: Session) -> list[dict[str, Any]]:
    counts = dict(session.execute(select(Cell.squad_code, func.count()).group_by(Cell.squad_code)).all())
    return [
        {"code": squad.code, "name": squad.name, "district_code": squad.district_code,
         "cell_count": counts.get(squad.code, 0)}
        for squad in session.scalars(select(Squad).order_by(Squad.code))
    ]


def load_unit_grid(*, session: Session) -> UnitGrid | None:
    """The stored grid, or None before one was built."""
    cells = session.scalars(select(Cell).order_by(Cell.code)).all()
    if not cells:
        return None
    return UnitGrid.from_records([
        {"code": c.code, "district_code": c.district_code, "squad_code": c.squad_code, "geometry": c.geometry}
        for c in cells
    ])
