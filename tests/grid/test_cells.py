import json
import re

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from grid.cells import UnitGrid, build_cells, load_cells_geojson
from grid.crs import CoordSys, wgs84_to_gcj02
from tests.grid.conftest import make_l_city, square, utm_rectangles

C1, C2, C3, C4, C5 = (f"41150200000{n}" for n in range(1, 6))


@pytest.mark.parametrize(("lon", "lat", "expected"), [
    (0.5, 1.5, C1),     # inside
    (2.5, 0.75, None),  # in the notch
    (1.0, 1.5, C1),     # edge shared by 01 and 02: the lowest code
    (0.5, 1.0, C1),     # edge shared by 01 and 04
    (1.5, 1.0, C2),     # edge shared by 02 and 05
    (1.0, 0.5, C4),     # edge shared by 04 and 05
    (1.0, 1.0, C1),     # corner shared by 01, 02, 04 and 05
    (2.0, 1.0, C2),     # corner shared by 02, 03 and 05 (and the notch)
    (0.0, 0.0, C4),     # outer corner
    (0.0, 0.5, C4),     # outer edge
    (3.0, 2.0, C3),     # outer corner
    (3.0, 1.5, C3),     # outer edge
    (2.5, 1.0, C3),     # edge between 03 and the notch: the city's outer boundary
    (2.0, 0.5, C5),     # edge between 05 and the notch
    (2.0, 0.0, C5),     # outer corner at the notch
    (-1e-9, 0.5, None),  # just outside: never the nearest cell
    (3.5, 1.5, None),
    (1.5, 2.0 + 1e-9, None),
])
def test_locate_table(l_city: UnitGrid, lon: float, lat: float, expected: str | None) -> None:
    assert l_city.locate_one(lon, lat) == expected
    assert l_city.locate([lon], [lat]).tolist() == [expected]


def test_locate_is_vectorised_and_keeps_the_shape(l_city: UnitGrid) -> None:
    codes = l_city.locate(np.array([[0.5, 2.5], [1.5, 9.0]]), np.array([[0.5, 1.5], [0.5, 9.0]]))
    assert codes.dtype == object and codes.shape == (2, 2)
    assert codes.tolist() == [[C4, C3], [C5, None]]
    assert l_city.locate([], []).shape == (0,)
    assert l_city.locate(1.5, [0.5, 1.5]).tolist() == [C5, C2]  # broadcasts


def test_border_rule_follows_codes_not_input_order() -> None:
    left, right = square(0, 0), square(1, 0)
    grid = UnitGrid.from_records([
        {"code": "411502000009", "district_code": "411502", "squad_code": "A", "geometry": left},
        {"code": "411502000003", "district_code": "411502", "squad_code": "B", "geometry": right},
    ])
    assert grid.locate_one(1.0, 0.5) == "411502000003"
    assert grid.cells["code"].tolist() == ["411502000003", "411502000009"]


def _brute_force(grid: UnitGrid, lon: float, lat: float) -> str | None:
    covering = grid.cells["code"][shapely.covers(grid.cells.geometry.to_numpy(), shapely.Point(lon, lat))]
    return min(covering, default=None)


quarters = st.integers(min_value=-4, max_value=16).map(lambda k: k / 4)  # hits edges and corners often
coordinates = st.one_of(quarters, st.floats(min_value=-1.0, max_value=4.0))


@given(coordinates, coordinates)
def test_any_point_maps_to_at_most_one_cell_the_lowest_covering(lon: float, lat: float) -> None:
    grid = make_l_city()  # hypothesis runs many examples per test: no function-scoped fixture
    assert grid.locate_one(lon, lat) == _brute_force(grid, lon, lat)


def test_grid_properties_and_geojson(l_city: UnitGrid) -> None:
    assert len(l_city) == 5
    assert l_city.squad_codes == ["SQ01", "SQ02"]
    collection = l_city.to_geojson()
    assert collection["type"] == "FeatureCollection"
    first = collection["features"][0]
    assert first["properties"] == {"code": C1, "district_code": "411502", "squad_code": "SQ01"}
    assert shapely.geometry.shape(first["geometry"]).equals(shapely.geometry.shape(square(0, 1)))
    again = UnitGrid.from_records([{**f["properties"], "geometry": f["geometry"]} for f in collection["features"]])
    assert again.to_geojson() == collection


@pytest.mark.parametrize(("change", "message"), [
    (lambda cells: cells.drop(columns="squad_code"), "lack columns: squad_code"),
    (lambda cells: cells.set_crs("EPSG:3857", allow_override=True), "must be in EPSG:4326"),
    (lambda cells: cells.assign(code=C1), "duplicate cell codes: " + C1),
])
def test_grid_refuses_bad_cells(l_city: UnitGrid, change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UnitGrid(change(l_city.cells))


# build_cells on rectangles laid out in metres (UTM 50N near Xinyang)

def _areas_m2(cells) -> np.ndarray:
    return cells.to_crs("EPSG:32650").area.to_numpy()


def _assert_tiles(cells, boundary) -> None:
    """The cells cover the boundary exactly, without overlaps (areas in square degrees: no reprojection)."""
    union = shapely.union_all(cells.geometry.to_numpy())
    city = shapely.union_all(boundary.geometry.to_numpy())
    assert shapely.area(cells.geometry.to_numpy()).sum() == pytest.approx(city.area, rel=1e-9)
    assert shapely.symmetric_difference(union, city).area < city.area * 1e-9


def test_build_exact_rectangle_gives_whole_cells_numbered_from_the_north_west() -> None:
    boundary = utm_rectangles([("411502", 0, 0, 1000, 750)])
    cells = build_cells(boundary, cell_size_m=250, district_field="adcode")
    assert cells["code"].tolist() == [f"411502{n:06d}" for n in range(1, 13)]
    assert _areas_m2(cells) == pytest.approx(np.full(12, 62_500.0), rel=1e-6)
    centroids = cells.to_crs("EPSG:32650").centroid
    x, y = centroids.x.to_numpy() - 220_000, centroids.y.to_numpy() - 3_558_000
    assert x[:4] == pytest.approx([125, 375, 625, 875], abs=0.01)  # first row, from the west
    assert y[:4] == pytest.approx([625] * 4, abs=0.01)  # the northern row
    assert (x[4], y[4]) == pytest.approx((125, 375), abs=0.01)
    assert cells["squad_code"].isna().all()


@pytest.mark.parametrize(("min_fraction", "count", "widest_m"), [
    (0.05, 16, 260.0),  # the 10 m wide column (4 % of a cell) joins its western neighbours
    (0.03, 20, 250.0),  # below the threshold it stays as cells of its own
])
def test_slivers_merge_into_a_neighbour_and_leave_no_gap(min_fraction: float, count: int, widest_m: float) -> None:
    boundary = utm_rectangles([("411502", 0, 0, 1010, 1000)])
    cells = build_cells(boundary, cell_size_m=250, district_field="adcode", min_fraction=min_fraction)
    assert len(cells) == count
    assert _areas_m2(cells).max() == pytest.approx(widest_m * 250, rel=1e-6)
    _assert_tiles(cells, boundary)


def test_two_districts_are_cut_along_their_border() -> None:
    boundary = utm_rectangles([("411503", 600, 0, 1000, 500), ("411502", 0, 0, 600, 500)])
    cells = build_cells(boundary, cell_size_m=250, district_field="adcode")
    by_district = cells.groupby("district_code")["code"].agg(list).to_dict()
    # 411502 (0..600): columns 0-250, 250-500 and 500-600 (a 40 % piece); 411503 (600..1000): 600-750, 750-1000.
    assert by_district == {"411502": [f"411502{n:06d}" for n in range(1, 7)],
                           "411503": [f"411503{n:06d}" for n in range(1, 5)]}
    areas = dict(zip(cells["code"], _areas_m2(cells)))
    assert areas["411502000003"] == pytest.approx(100 * 250, rel=1e-5)
    assert areas["411503000001"] == pytest.approx(150 * 250, rel=1e-5)
    _assert_tiles(cells, boundary)
    grid = UnitGrid(cells)
    on_border = shapely.get_coordinates(boundary.geometry.iloc[0])[0]  # a vertex of 411503, on the shared border
    assert grid.locate_one(*on_border) is not None


def test_rebuilding_gives_the_same_codes_and_shapes() -> None:
    boundary = utm_rectangles([("411502", 0, 0, 1333, 987), ("411503", 1333, -120, 2100, 700)])
    first = build_cells(boundary, cell_size_m=200, district_field="adcode")
    second = build_cells(boundary.iloc[::-1], cell_size_m=200, district_field="adcode")
    assert first["code"].tolist() == second["code"].tolist()
    assert shapely.equals_exact(first.geometry.to_numpy(), second.geometry.to_numpy()).all()


def test_progress_reports_rows_up_to_the_total() -> None:
    calls: list[tuple[int, int]] = []
    build_cells(utm_rectangles([("411502", 0, 0, 1000, 1000)]), cell_size_m=250, district_field="adcode",
                progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 4) for n in range(1, 5)]


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b.rename(columns={"adcode": "code"}), "no 'adcode' column"),
    (lambda b: b.assign(adcode="4115"), "must have 6 digits: 4115"),
    (lambda b: b.to_crs("EPSG:32650"), "must be in EPSG:4326"),
])
def test_build_refuses_bad_boundaries(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_cells(change(utm_rectangles([("411502", 0, 0, 500, 500)])), cell_size_m=250, district_field="adcode")


def test_integer_district_codes_are_accepted() -> None:
    boundary = utm_rectangles([("411502", 0, 0, 500, 500)]).assign(adcode=411502)
    cells = build_cells(boundary, cell_size_m=250, district_field="adcode")
    assert cells["district_code"].unique().tolist() == ["411502"]


@pytest.mark.parametrize("crs", list(CoordSys))
def test_load_cells_geojson_converts_to_wgs84(l_city: UnitGrid, crs: CoordSys) -> None:
    collection = l_city.to_geojson()
    cells = load_cells_geojson(collection, crs=crs)
    assert cells["code"].tolist() == [C1, C2, C3, C4, C5]
    # The squares lie near (0, 0), outside China: no offset applies in any system.
    assert shapely.equals(cells.geometry.to_numpy(), l_city.cells.geometry.to_numpy()).all()


def test_load_cells_geojson_from_gcj02_file_with_own_fields(tmp_path) -> None:
    lon, lat = wgs84_to_gcj02(114.07, 32.12)
    features = [{"type": "Feature", "properties": {"wgbm": "411502000001", "qh": "411502"},
                 "geometry": square(float(lon), float(lat), 0.01)}]
    path = tmp_path / "cells.json"
    path.write_text(json.dumps(features), encoding="utf-8")
    cells = load_cells_geojson(path, crs=CoordSys.GCJ02, code_field="wgbm", district_field="qh", squad_field="zd")
    assert cells["squad_code"].tolist() == [None]
    assert shapely.get_coordinates(cells.geometry.iloc[0])[0] == pytest.approx([114.07, 32.12], abs=1e-7)
    with pytest.raises(ValueError, match=f"{re.escape(str(path))}: polygon feature 0 has no 'code' property"):
        load_cells_geojson(path, crs=CoordSys.GCJ02)
