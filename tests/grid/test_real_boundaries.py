"""Cutting the real DataV boundaries of 信阳市 (GCJ-02 files, see shared/data/SOURCES-geo-tickets.md §1)."""
import time

import pytest
import shapely

from grid.boundary import read_boundary
from grid.cells import UnitGrid, build_cells
from grid.crs import CoordSys, gcj02_to_wgs84
from tests.requirements import shared_path

SHIHE_SEAT_GCJ02 = (114.075031, 32.123274)  # `center` of 浉河区 in the DataV files: its government seat
XINYANG_COUNTIES = {"411502", "411503", "411521", "411522", "411523", "411524", "411525", "411526", "411527", "411528"}


def _boundary(name: str, crs: CoordSys = CoordSys.GCJ02):
    return read_boundary(shared_path(f"data/geo/datav/{name}"), crs=crs)


@pytest.fixture(scope="module")
def xinyang_1000m():
    boundary = _boundary("411500_full.json")
    started = time.perf_counter()
    cells = build_cells(boundary, cell_size_m=1000, district_field="district_code")
    return boundary, cells, time.perf_counter() - started


def test_all_ten_counties_are_cut_quickly(xinyang_1000m) -> None:
    boundary, cells, seconds = xinyang_1000m
    assert set(boundary["district_code"]) == set(cells["district_code"]) == XINYANG_COUNTIES
    assert seconds < 20  # the real budget is "well under a minute" at 500 m; 1000 m takes well under a second
    assert cells["code"].is_unique and cells["code"].str.fullmatch(r"\d{12}").all()
    assert (cells["code"].str[:6] == cells["district_code"]).all()
    assert set(cells["district_name"]) >= {"浉河区", "平桥区", "固始县"}


def test_cells_cover_the_city_and_count_about_area_over_cell_area(xinyang_1000m) -> None:
    boundary, cells, _ = xinyang_1000m
    city_km2 = boundary.to_crs(boundary.estimate_utm_crs()).area.sum() / 1e6
    assert 18_500 < city_km2 < 19_500  # 信阳市: about 18,900 km²
    # Partly clipped cells along ten county borders push the count a few % above area / cell area.
    assert city_km2 < len(cells) < city_km2 * 1.08
    # Square degrees here, so the comparison involves no reprojection at all.
    assert shapely.area(cells.geometry.to_numpy()).sum() == pytest.approx(
        shapely.area(boundary.geometry.to_numpy()).sum(), rel=1e-9)


def test_the_government_seat_lands_in_shihe(xinyang_1000m) -> None:
    _, cells, _ = xinyang_1000m
    grid = UnitGrid(cells)
    converted = grid.locate_one(*gcj02_to_wgs84(*SHIHE_SEAT_GCJ02))
    assert converted is not None and converted.startswith("411502")
    # Taken as WGS-84 by mistake, the GCJ-02 seat moves ~560 m; deep inside the district and a 1 km cell
    # it happens to stay in the same cell.
    assert grid.locate_one(*SHIHE_SEAT_GCJ02) == converted


def test_bare_array_district_file_at_250m() -> None:
    cells = build_cells(_boundary("411502.json"), cell_size_m=250, district_field="district_code")
    grid = UnitGrid(cells)
    converted = grid.locate_one(*gcj02_to_wgs84(*SHIHE_SEAT_GCJ02))
    mistaken = grid.locate_one(*SHIHE_SEAT_GCJ02)
    # With 250 m cells the unconverted point is two cells further east: both in 浉河区, not the same cell.
    assert converted.startswith("411502") and mistaken.startswith("411502") and mistaken != converted


def test_reading_datav_as_wgs84_shifts_the_district_by_the_gcj_offset() -> None:
    right = _boundary("411502.json").geometry.iloc[0].centroid
    wrong = _boundary("411502.json", CoordSys.WGS84).geometry.iloc[0].centroid
    # SOURCES-geo-tickets.md: about +0.00588° lon / −0.00196° lat at Xinyang; it varies a little across the district.
    assert (wrong.x - right.x, wrong.y - right.y) == pytest.approx((0.0059, -0.0021), abs=3e-4)
