import pytest
import shapely
from geopandas import GeoSeries

from grid.cells import UnitGrid
from grid.crs import gcj02_to_wgs84
from grid.demo import demo_bounds, demo_city
from grid.squads import squad_areas

SEAT_GCJ02 = (114.075031, 32.123274)


@pytest.fixture(scope="module")
def demo():
    return demo_city()


def test_demo_city_counts(demo) -> None:
    cells, squads = demo
    assert len(cells) == 16 * 12
    assert cells["code"].tolist() == [f"411502{n:06d}" for n in range(1, 193)]
    assert set(cells["district_code"]) == {"411502"} and set(cells["district_name"]) == {"浉河区"}
    assert [s["code"] for s in squads] == ["SQ01", "SQ02", "SQ03", "SQ04"]
    assert [s["name"] for s in squads] == ["浉河区第一执法中队", "浉河区第二执法中队", "浉河区第三执法中队", "浉河区第四执法中队"]
    assert all(s["district_code"] == "411502" for s in squads)
    assert cells["squad_code"].notna().all()
    assert cells["squad_code"].value_counts().to_dict() == {"SQ01": 48, "SQ02": 48, "SQ03": 48, "SQ04": 48}


def test_demo_cells_are_250m_squares(demo) -> None:
    cells, _ = demo
    areas = cells.to_crs(cells.estimate_utm_crs()).area
    assert areas.to_numpy() == pytest.approx(250 * 250, rel=1e-5)


def test_squad_areas_union_to_the_city(demo) -> None:
    cells, _ = demo
    areas = squad_areas(cells)
    city = shapely.union_all(cells.geometry.to_numpy())
    union = shapely.union_all(areas.geometry.to_numpy())
    assert shapely.symmetric_difference(union, city).area < city.area * 1e-9
    assert shapely.area(areas.geometry.to_numpy()).sum() == pytest.approx(city.area, rel=1e-9)  # no overlaps


def test_demo_is_4km_by_3km_around_the_converted_seat(demo) -> None:
    west, south, east, north = demo_bounds()
    seat_lon, seat_lat = gcj02_to_wgs84(*SEAT_GCJ02)
    # The rectangle is centred on the seat in metres; its lon/lat box's middle is within a metre of it.
    assert ((west + east) / 2, (south + north) / 2) == pytest.approx((seat_lon, seat_lat), abs=1e-5)
    cells, _ = demo
    assert tuple(cells.total_bounds) == pytest.approx((west, south, east, north), abs=1e-9)
    utm = cells.to_crs(cells.estimate_utm_crs()).total_bounds
    # The rectangle is square to the UTM grid, which is turned ~1.5° from north here: its lon/lat box is larger.
    assert (utm[2] - utm[0], utm[3] - utm[1]) == pytest.approx((4000, 3000), abs=0.01)


@pytest.mark.parametrize(("east_m", "north_m", "squad"), [
    (-125, 125, "SQ01"),   # north-west block
    (125, 125, "SQ02"),    # north-east
    (-125, -125, "SQ03"),  # south-west
    (125, -125, "SQ04"),   # south-east
    (-1875, 1375, "SQ01"),  # the north-west corner cell
    (1875, -1375, "SQ04"),  # the south-east corner cell
])
def test_points_around_the_seat_find_their_squads(demo, east_m: float, north_m: float, squad: str) -> None:
    cells, _ = demo
    grid = UnitGrid(cells)
    utm = cells.estimate_utm_crs()
    seat = shapely.Point(gcj02_to_wgs84(*SEAT_GCJ02))
    point = GeoSeries([seat], crs="EPSG:4326").to_crs(utm).translate(east_m, north_m).to_crs("EPSG:4326").iloc[0]
    code = grid.locate_one(point.x, point.y)
    assert cells.set_index("code").loc[code, "squad_code"] == squad


def test_outside_the_demo_city_is_no_cell(demo) -> None:
    west, south, east, north = demo_bounds()
    grid = UnitGrid(demo[0])
    assert grid.locate([west - 0.001, east + 0.001, (west + east) / 2], [south, north, north + 0.001]).tolist() == [
        None, None, None]


def test_demo_city_is_the_same_every_time(demo) -> None:
    again, _ = demo_city()
    assert shapely.equals_exact(again.geometry.to_numpy(), demo[0].geometry.to_numpy()).all()
