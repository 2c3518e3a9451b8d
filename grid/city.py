"""A city's grid from its district boundary file: cells cut to size, one squad per district unless listed."""
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from geopandas import GeoDataFrame

from grid.boundary import read_boundary
from grid.cells import build_cells
from grid.crs import CoordSys
from grid.squads import Squad, assign_by_district


def cut_city(
    boundary: str | Path, *, crs: CoordSys, cell_size_m: float, district_field: str, name_field: str,
    squads: Sequence[Mapping[str, Any]], progress: Callable[[int, int], None] | None = None,
) -> tuple[GeoDataFrame, list[Squad]]:
    """Cells (EPSG:4326, with squad codes) and squads for the districts of `boundary`."""
    districts = read_boundary(boundary, crs=crs, district_field=district_field, name_field=name_field)
    cells = build_cells(districts, cell_size_m=cell_size_m, district_field="district_code", progress=progress)
    return assign_by_district(cells, squads)
