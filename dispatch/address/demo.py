"""A standard-address table for the demo city: streets across it, a door number every 40 metres."""
from grid.demo import DISTRICT_NAME, HEIGHT_M, WIDTH_M, demo_bounds
from grid.geodesy import offset_m

CITY_NAME = "信阳市"
# Fictitious layout with real 信阳 street names: east-west roads, then north-south roads.
EAST_WEST = ("新华路", "民权路", "胜利路", "中山路", "解放路")
NORTH_SOUTH = ("东方红大道", "四一路", "湖东大道", "工区路", "浉河中路", "新马路")
DOOR_SPACING_M = 40.0
MARGIN_M = 100.0  # keep addresses off the city's edge


def demo_addresses() -> list[dict[str, str]]:
    """Rows address, lon, lat (WGS-84), e.g. 信阳市浉河区新华路1号; odd numbers on one side, even on the other."""
    west, south, _, _ = demo_bounds()
    rows = []

    def add(street: str, number: int, east_m: float, north_m: float) -> None:
        lon, lat = offset_m(west, south, east_m, north_m)
        address = f"{CITY_NAME}{DISTRICT_NAME}{street}{number}号"
        rows.append({"address": address, "lon": f"{lon:.7f}", "lat": f"{lat:.7f}"})

    for index, street in enumerate(EAST_WEST):
        north = HEIGHT_M * (index + 1) / (len(EAST_WEST) + 1)
        for step in range(int((WIDTH_M - 2 * MARGIN_M) // DOOR_SPACING_M)):
            east = MARGIN_M + step * DOOR_SPACING_M
            add(street, 2 * step + 1, east, north + 10)  # north side odd
            add(street, 2 * step + 2, east, north - 10)
    for index, street in enumerate(NORTH_SOUTH):
        east = WIDTH_M * (index + 1) / (len(NORTH_SOUTH) + 1)
        for step in range(int((HEIGHT_M - 2 * MARGIN_M) // DOOR_SPACING_M)):
            north = MARGIN_M + step * DOOR_SPACING_M
            add(street, 2 * step + 1, east - 10, north)  # west side odd
            add(street, 2 * step + 2, east + 10, north)
    return rows
