import json
import re
from pathlib import Path

import pytest
import shapely

from grid.boundary import read_boundary
from grid.crs import CoordSys, gcj02_to_wgs84, wgs84_to_gcj02
from tests.grid.conftest import square

XINYANG_GCJ02 = square(114.0, 32.0, 0.1)  # a 0.1° square near Xinyang, in GCJ-02
FEATURE = {"type": "Feature", "properties": {"adcode": 411502, "name": "浉河区"}, "geometry": XINYANG_GCJ02}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "boundary.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("data", [
    {"type": "FeatureCollection", "features": [FEATURE]},
    FEATURE,
    [FEATURE],  # a bare JSON array, as in the DataV district files
    {"type": "FeatureCollection", "features": [
        FEATURE, {"type": "Feature", "properties": {"name": "a label"}, "geometry": {"type": "Point", "coordinates": [114, 32]}},
    ]},  # features without a polygon are skipped
])
def test_read_boundary_shapes(tmp_path: Path, data: object) -> None:
    boundary = read_boundary(_write(tmp_path, data), crs=CoordSys.GCJ02)
    assert boundary.crs.equals("EPSG:4326")
    assert boundary[["district_code", "district_name"]].values.tolist() == [["411502", "浉河区"]]
    corner = shapely.get_coordinates(boundary.geometry.iloc[0])[0]
    assert tuple(corner) == pytest.approx(gcj02_to_wgs84(114.0, 32.0), abs=1e-12)


@pytest.mark.parametrize("crs", list(CoordSys))
def test_every_vertex_is_converted(tmp_path: Path, crs: CoordSys) -> None:
    boundary = read_boundary(_write(tmp_path, [FEATURE]), crs=crs)
    xy = shapely.get_coordinates(boundary.geometry.iloc[0])
    original = shapely.get_coordinates(shapely.geometry.shape(XINYANG_GCJ02))
    if crs is CoordSys.WGS84:
        assert (xy == original).all()
    else:
        assert len(xy) == len(original) and (abs(xy - original).max(axis=0) > 1e-3).all()
    if crs is CoordSys.GCJ02:
        back_lon, back_lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        assert abs(back_lon - original[:, 0]).max() < 1e-9 and abs(back_lat - original[:, 1]).max() < 1e-9


def test_own_fields_and_missing_name(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {"code": "411503"}, "geometry": XINYANG_GCJ02}
    boundary = read_boundary(_write(tmp_path, [feature]), crs=CoordSys.WGS84, district_field="code", name_field="mc")
    assert boundary[["district_code", "district_name"]].values.tolist() == [["411503", None]]


def test_self_intersecting_polygons_are_repaired(tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[114, 32], [114.1, 32.1], [114.1, 32], [114, 32.1], [114, 32]]]}
    boundary = read_boundary(_write(tmp_path, [{**FEATURE, "geometry": bowtie}]), crs=CoordSys.WGS84)
    assert boundary.geometry.is_valid.all()
    assert shapely.area(boundary.geometry.iloc[0]) == pytest.approx(0.005)


@pytest.mark.parametrize(("data", "problem"), [
    ({"type": "FeatureCollection", "features": []}, "no Polygon or MultiPolygon features"),
    ([{"type": "Feature", "properties": {"adcode": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}],
     "no Polygon or MultiPolygon features"),
    ([{"type": "Feature", "properties": {"name": "x"}, "geometry": XINYANG_GCJ02}],
     "polygon feature 0 has no 'adcode' property \\(properties: name\\)"),
    ({"type": "Polygon", "coordinates": []}, "expected a FeatureCollection, a Feature or a JSON array of Features"),
    ([{"type": "Polygon"}], "every item must be a GeoJSON Feature"),
])
def test_clear_errors_name_the_file(tmp_path: Path, data: object, problem: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: {problem}"):
        read_boundary(path, crs=CoordSys.GCJ02)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "boundary.json"
    path.write_text("<kml/>", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: not JSON"):
        read_boundary(path, crs=CoordSys.GCJ02)
