"""A grid for records from a city we have no boundary of: a rectangle around their coordinates, cut into cells."""
from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.squad.models import Cell
from dispatch.squad.service import store_grid
from grid.cells import WGS84, UnitGrid, build_cells
from grid.squads import assign_by_district

EXTENT_DISTRICT_BASE = 900_000  # district codes 900001, 900002...: no real adcode starts with 9


def extent_boundary(lons: Sequence[float], lats: Sequence[float], *, margin_deg: float, district_code: str,
                    name: str) -> GeoDataFrame:
    """One district: the points' bounding box grown by `margin_deg` on every side."""
    box = shapely.box(min(lons) - margin_deg, min(lats) - margin_deg, max(lons) + margin_deg, max(lats) + margin_deg)
    return GeoDataFrame({"district_code": [district_code], "district_name": [name]}, geometry=[box], crs=WGS84)


def stored_cells(session: Session) -> GeoDataFrame:
    cells = session.scalars(select(Cell).order_by(Cell.code)).all()
    return GeoDataFrame({"code": [c.code for c in cells], "district_code": [c.district_code for c in cells],
                         "squad_code": [c.squad_code for c in cells]},
                        geometry=[shape(c.geometry) for c in cells], crs=WGS84)


def add_extent_grid(
    *, session: Session, grid: UnitGrid | None, lons: Sequence[float], lats: Sequence[float], cell_size_m: float,
    name: str,
) -> int:
    """Add a district (and its squad) of cells around the points the grid does not cover; returns the cells added."""
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    if grid is not None and lons.size:
        outside = np.array([code is None for code in grid.locate(lons, lats)])
        lons, lats = lons[outside], lats[outside]
    if not lons.size:
        return 0
    old = stored_cells(session)
    used = {int(code) for code in old["district_code"] if str(code).startswith("9")}
    district_code = str(max(used | {EXTENT_DISTRICT_BASE}) + 1)
    margin_deg = cell_size_m / 111_320.0  # one cell's width, so edge points are well inside
    boundary = extent_boundary(lons, lats, margin_deg=margin_deg, district_code=district_code, name=name)
    new, squads = assign_by_district(build_cells(boundary, cell_size_m=cell_size_m, district_field="district_code"), [])
    columns = ["code", "district_code", "squad_code", "geometry"]
    store_grid(session=session, cells=GeoDataFrame(pd.concat([old[columns], new[columns]]), crs=WGS84), squads=squads)
    return len(new)
