"""Pure geometry for the city grid: coordinate systems, district boundaries, unit cells and squads."""
from grid.boundary import read_boundary
from grid.cells import UnitGrid, build_cells, load_cells_geojson
from grid.crs import (
    CoordSys,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from grid.demo import demo_bounds, demo_city
from grid.squads import assign_by_blocks, assign_by_cells, assign_by_district, squad_areas

__all__ = [
    "CoordSys", "UnitGrid", "assign_by_blocks", "assign_by_cells", "assign_by_district", "bd09_to_gcj02",
    "bd09_to_wgs84", "build_cells", "demo_bounds", "demo_city", "from_wgs84", "gcj02_to_bd09", "gcj02_to_wgs84",
    "load_cells_geojson", "out_of_china", "read_boundary", "squad_areas", "to_wgs84", "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
