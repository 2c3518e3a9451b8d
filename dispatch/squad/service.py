"""Storing the city grid and reading squads and cells back."""
import datetime as dt
from dataclasses import dataclass
from typing import Any

from geopandas import GeoDataFrame
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from dispatch.case.enums import OPEN_STATUSES, EventKind
from dispatch.case.events import record_event
from dispatch.case.models import Case
from dispatch.squad.models import Cell, Squad
from dispatch.ticket.models import Ticket
from grid.cells import UnitGrid

OPEN_VALUES = [status.value for status in OPEN_STATUSES]


@dataclass(frozen=True)
class Replacement:
    """What storing a new grid over one that cases use did to them."""

    cases: int
    open_cases: int
    moved: int  # cases now in another cell or squad
    moved_squad: list[int]  # ids of the open ones now with another squad
    squads_without_cells: list[str]


def count_cases(*, session: Session) -> tuple[int, int]:
    """(all cases, open ones): a grid they lie on is not replaced unless asked to."""
    total = session.scalar(select(func.count()).select_from(Case)) or 0
    open_cases = session.scalar(select(func.count()).select_from(Case).where(Case.status.in_(OPEN_VALUES))) or 0
    return total, open_cases


def store_grid(*, session: Session, cells: GeoDataFrame, squads: list[dict[str, Any]],
               replace_for_cases: str | None = None) -> Replacement | None:
    """Replace the stored grid: squads {code, name, district_code}; cells with code, district_code, squad_code.

    Every stored case is placed in the new grid by its own coordinates (a case outside it refuses the change). A grid
    that would move cases to another cell or squad is refused unless `replace_for_cases` names who replaces it: then
    each moved case gets a `regridded` timeline entry and the result says what moved.
    """
    total, open_cases = count_cases(session=session)
    placed = place_cases(session=session, grid=UnitGrid(cells)) if total else {}
    current = {row.id: (row.cell_code, row.squad_code)
               for row in session.execute(select(Case.id, Case.cell_code, Case.squad_code))}
    moving = {case_id: place for case_id, place in placed.items() if place != current[case_id]}
    if moving and replace_for_cases is None:
        raise ValueError(f"the new grid would move {len(moving)} of the {total} stored cases ({open_cases} open) to "
                         "other cells or squads; replacing it places every case again by its coordinates")
    _store_squads_and_cells(session=session, cells=cells, squads=squads)
    moved_squad = _move_cases(session=session, moving=moving, actor=replace_for_cases or "")
    _delete_obsolete_cells(session=session, keep=set(cells["code"]))
    if not total:
        return None
    with_cells = set(session.scalars(select(Cell.squad_code).distinct()))
    return Replacement(cases=total, open_cases=open_cases, moved=len(moving), moved_squad=moved_squad,
                       squads_without_cells=sorted(set(session.scalars(select(Squad.code))) - with_cells))


def place_cases(*, session: Session, grid: UnitGrid) -> dict[int, tuple[str, str]]:
    """Each case's (cell, squad) in `grid` by its coordinates; refuses when a case lies outside it."""
    rows = session.execute(select(Case.id, Case.lon, Case.lat).order_by(Case.id)).all()
    codes = grid.locate([r.lon for r in rows], [r.lat for r in rows])
    outside = [r.id for r, code in zip(rows, codes) if code is None]
    if outside:
        raise ValueError(f"{len(outside)} cases lie outside the new grid (ids {', '.join(map(str, outside[:10]))}): "
                         "it must cover every stored case")
    squad_of = dict(zip(grid.cells["code"], grid.cells["squad_code"]))
    return {r.id: (code, squad_of[code]) for r, code in zip(rows, codes)}


def _move_cases(*, session: Session, moving: dict[int, tuple[str, str]], actor: str) -> list[int]:
    """Put each case in its new (cell, squad), recorded on its timeline; the open cases that changed squad."""
    now = dt.datetime.now(dt.timezone.utc)
    moved_squad = []
    for case in session.scalars(select(Case).where(Case.id.in_(list(moving))).order_by(Case.id)):
        cell_code, squad_code = moving[case.id]
        if squad_code != case.squad_code and case.status in OPEN_VALUES:
            moved_squad.append(case.id)
        record_event(session=session, case=case, kind=EventKind.REGRIDDED, actor=actor, at=now,
                     note=f"网格更新：{case.cell_code} → {cell_code}",
                     data={"from": {"cell_code": case.cell_code, "squad_code": case.squad_code},
                           "to": {"cell_code": cell_code, "squad_code": squad_code}})
        case.cell_code, case.squad_code = cell_code, squad_code
        session.execute(update(Ticket).where(Ticket.case_id == case.id).values(cell_code=cell_code))
    session.flush()
    return moved_squad


def _store_squads_and_cells(*, session: Session, cells: GeoDataFrame, squads: list[dict[str, Any]]) -> None:
    for squad in squads:
        session.merge(Squad(code=squad["code"], name=squad["name"], district_code=squad.get("district_code")))
    session.flush()
    existing = set(session.scalars(select(Cell.code)))
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


def _delete_obsolete_cells(*, session: Session, keep: set[str]) -> None:
    obsolete = sorted(set(session.scalars(select(Cell.code))) - keep)
    for start in range(0, len(obsolete), 500):  # bounded IN lists: SQLite caps parameters
        session.execute(delete(Cell).where(Cell.code.in_(obsolete[start:start + 500])))
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
