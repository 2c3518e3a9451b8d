import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grid.crs import (
    CoordSys,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Published pairs (input lon, lat → output lon, lat).
# wandergis/coordtransform README.md, "result" block for (116.404, 39.915):
COORDTRANSFORM_README = [
    (bd09_to_gcj02, (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    (gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    (wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]
# googollee/eviltransform python/test.py TESTS (given there as wgsLat, wgsLng, gcjLat, gcjLng):
EVILTRANSFORM_TESTS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # beijing
]

china_lon = st.floats(min_value=73.0, max_value=135.0)
china_lat = st.floats(min_value=1.0, max_value=55.0)


@pytest.mark.parametrize(("convert", "given_point", "expected"), COORDTRANSFORM_README)
def test_coordtransform_readme_pairs(convert, given_point, expected) -> None:
    assert convert(*given_point) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_TESTS)
def test_eviltransform_pairs(wgs, gcj) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    # eviltransform's own exact inverse promises 0.5 m; ours is exact to far better.
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-8)


def test_exact_inverse_against_coordtransforms_one_step_inverse() -> None:
    # coordtransform's gcj02towgs84 is a one-step approximation: (116.39775550083061, 39.91359571849836).
    # The exact inverse lies within a metre (1e-5°) of it and maps back onto the input.
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.39775550083061, 39.91359571849836), abs=1e-5)
    assert wgs84_to_gcj02(lon, lat) == pytest.approx((116.404, 39.915), abs=1e-9)


def test_xinyang_offset() -> None:
    # shared/data/SOURCES-geo-tickets.md: about +0.00588° lon / −0.00196° lat at (114.07E, 32.12N).
    lon, lat = wgs84_to_gcj02(114.07, 32.12)
    assert (lon - 114.07, lat - 32.12) == pytest.approx((0.00588, -0.00196), abs=1e-5)


@pytest.mark.parametrize("convert", [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
                                     wgs84_to_bd09, bd09_to_wgs84])
@pytest.mark.parametrize("point", [(-0.1276, 51.5072), (139.6917, 35.6895), (-74.006, 40.7128), (70.0, 30.0)])
def test_no_offset_outside_china(convert, point) -> None:
    assert convert(*point) == point


@given(china_lon, china_lat)
def test_wgs_gcj_round_trip(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-7)


@given(china_lon, china_lat)
def test_gcj_bd_round_trip(lon: float, lat: float) -> None:
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-5)  # the published BD-09 inverse is itself approximate


@given(china_lon, china_lat, st.sampled_from(list(CoordSys)))
def test_to_and_from_wgs84_round_trip(lon: float, lat: float, crs: CoordSys) -> None:
    tolerance = 1e-5 if crs is CoordSys.BD09 else 1e-7
    assert to_wgs84(*from_wgs84(lon, lat, crs), crs) == pytest.approx((lon, lat), abs=tolerance)


def test_arrays_in_arrays_out() -> None:
    lons, lats = np.array([[114.07, 0.0], [116.404, 121.5272106]]), np.array([[32.12, 0.0], [39.915, 31.1774276]])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lons, lats)
    assert gcj_lon.shape == gcj_lat.shape == (2, 2)
    assert gcj_lon[1, 0] == pytest.approx(116.41024449916938)
    assert (gcj_lon[0, 1], gcj_lat[0, 1]) == (0.0, 0.0)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert np.abs(back_lon - lons).max() < 1e-7 and np.abs(back_lat - lats).max() < 1e-7


def test_scalars_in_scalars_out() -> None:
    lon, lat = to_wgs84(114.075031, 32.123274, CoordSys.GCJ02)
    assert isinstance(lon, float) and isinstance(lat, float)


@pytest.mark.parametrize(("name", "expected"), [
    ("wgs84", CoordSys.WGS84), ("WGS-84", CoordSys.WGS84), ("EPSG:4326", CoordSys.WGS84), ("epsg:4326", CoordSys.WGS84),
    ("gcj02", CoordSys.GCJ02), ("GCJ-02", CoordSys.GCJ02), (" gcj_02 ", CoordSys.GCJ02),
    ("bd09", CoordSys.BD09), ("BD-09", CoordSys.BD09), ("bd09ll", CoordSys.BD09), ("BD09LL", CoordSys.BD09),
])
def test_parse_spellings(name: str, expected: CoordSys) -> None:
    assert CoordSys.parse(name) is expected


@pytest.mark.parametrize("name", ["", "utm", "EPSG:3857", "bd09mc", "gcj", "mars"])
def test_parse_refuses_unknown_names_listing_the_accepted(name: str) -> None:
    with pytest.raises(ValueError, match=r"accepted: wgs84 \(WGS-84, EPSG:4326"):
        CoordSys.parse(name)
