"""Small hand-made grids and boundaries for the grid tests."""
import numpy as np
import pytest
import shapely
from geopandas import GeoDataFrame
from pyproj import Transformer

from grid.cells import UnitGrid

# Unit squares in degrees (exact binary fractions, so edge points are exactly on edges), an L-shaped city:
#
#   y=2 +-----+-----+-----+
#       |  01 |  02 |  03 |
#   y=1 +-----+-----+-----+
#       |  04 |  05 |        <- (2..3, 0..1) is a notch outside the city
#   y=0 +-----+-----+
#      x=0   x=1   x=2   x=3
SQUARES = {
    "411502000001": (0, 1), "411502000002": (1, 1), "411502000003": (2, 1),
    "411502000004": (0, 0), "411502000005": (1, 0),
}


def square(x: float, y: float, size: float = 1.0) -> dict:
    return {"type": "Polygon",
            "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def make_l_city() -> UnitGrid:
    # Records in reverse order: the grid sorts them by code itself.
    return UnitGrid.from_records([
        {"code": code, "district_code": "411502", "squad_code": "SQ01" if y else "SQ02", "geometry": square(x, y)}
        for code, (x, y) in reversed(SQUARES.items())
    ])


@pytest.fixture
def l_city() -> UnitGrid:
    return make_l_city()


def utm_rectangles(parts: list[tuple[str, float, float, float, float]], *, step_m: float = 50.0) -> GeoDataFrame:
    """Districts (code, west, south, east, north in metres from a point near Xinyang) in EPSG:4326.

    Edges get a vertex every `step_m` metres, so they stay straight in UTM zone 50N.
    """
    to_wgs84 = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    origin_x, origin_y = 220_000.0, 3_558_000.0  # UTM 50N, about 114.07E 32.12N
    geometries = []
    for _, west, south, east, north in parts:
        ring = shapely.segmentize(shapely.box(west, south, east, north).exterior, step_m)
        xy = shapely.get_coordinates(ring)
        lon, lat = to_wgs84.transform(xy[:, 0] + origin_x, xy[:, 1] + origin_y)
        geometries.append(shapely.Polygon(np.column_stack([lon, lat])))
    return GeoDataFrame({"adcode": [p[0] for p in parts]}, geometry=geometries, crs="EPSG:4326")
