"""The demo city: a 4 km × 3 km piece of 浉河区, Xinyang, cut into 250 m cells for four squads."""
import numpy as np
import shapely
from geopandas import GeoDataFrame, GeoSeries
from pyproj import Transformer

from grid.cells import WGS84, build_cells
from grid.crs import gcj02_to_wgs84
from grid.squads import Squad, assign_by_blocks

DISTRICT_CODE = "411502"
DISTRICT_NAME = "浉河区"
SEAT_GCJ02 = (114.075031, 32.123274)  # 浉河区 government seat, the `center` of the DataV boundary
WIDTH_M, HEIGHT_M, CELL_SIZE_M = 4000.0, 3000.0, 250.0
SQUAD_PREFIX = "SQ"
SQUAD_NAMES = ("浉河区第一执法中队", "浉河区第二执法中队", "浉河区第三执法中队", "浉河区第四执法中队")


def demo_boundary() -> GeoDataFrame:
    """The demo district: a rectangle in the seat's UTM zone, with a vertex every cell so its edges stay straight there."""
    seat = GeoSeries(shapely.points([gcj02_to_wgs84(*SEAT_GCJ02)]), crs=WGS84)
    utm = seat.estimate_utm_crs()
    centre = seat.to_crs(utm).iloc[0]
    xs = centre.x + np.arange(-WIDTH_M / 2, WIDTH_M / 2 + 1, CELL_SIZE_M)
    ys = centre.y + np.arange(-HEIGHT_M / 2, HEIGHT_M / 2 + 1, CELL_SIZE_M)
    ring_x = np.concatenate([xs, np.full(ys.size - 2, xs[-1]), xs[::-1], np.full(ys.size - 1, xs[0])])
    ring_y = np.concatenate([np.full(xs.size, ys[0]), ys[1:-1], np.full(xs.size, ys[-1]), ys[-2::-1]])
    lon, lat = Transformer.from_crs(utm, WGS84, always_xy=True).transform(ring_x, ring_y)
    return GeoDataFrame({"district_code": [DISTRICT_CODE], "district_name": [DISTRICT_NAME]},
                        geometry=[shapely.Polygon(np.column_stack([lon, lat]))], crs=WGS84)


def demo_bounds() -> tuple[float, float, float, float]:
    """The demo city's WGS-84 bounding box (west, south, east, north)."""
    west, south, east, north = demo_boundary().total_bounds
    return float(west), float(south), float(east), float(north)


def demo_city() -> tuple[GeoDataFrame, list[Squad]]:
    """The demo cells (16 × 12, codes 411502000001...) and squads SQ01..SQ04 by 2 × 2 blocks from the north-west."""
    cells = build_cells(demo_boundary(), cell_size_m=CELL_SIZE_M, district_field="district_code")
    return assign_by_blocks(cells, 2, 2, SQUAD_PREFIX, names=SQUAD_NAMES)
