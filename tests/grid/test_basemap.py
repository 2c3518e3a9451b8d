"""The offline base map builder: OSM objects → layers, and a real extract → a PMTiles file whose tiles hold its streets."""
import json
import subprocess
from pathlib import Path

import osmium
import pytest

from grid.basemap import ROAD_KINDS, area_feature, build_basemap, label, line_feature, tippecanoe_binary
from tests.requirements import shared_path

LABEL_KEYS = ["name:zh-Hans", "name:zh", "name"]
NINGHUA = "data/geo/osm/fujian_ninghua_invisiphantom_map.osm"
LINE = {"type": "LineString", "coordinates": [[116.65, 26.26], [116.66, 26.27]]}
AREA = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}


@pytest.mark.parametrize("tags, expected", [
    ({"name": "中山路", "name:zh": "中山路", "name:en": "Zhongshan Road"}, "中山路"),
    ({"name": "Main Street", "name:zh-Hans": "主街"}, "主街"),
    ({"name": "北大街"}, "北大街"),
    ({"name:en": "Only English"}, None),
])
def test_labels_prefer_chinese_names(tags, expected) -> None:
    assert label(tags, LABEL_KEYS) == expected


@pytest.mark.parametrize("tags, layer, kind, min_zoom", [
    ({"highway": "primary"}, "roads", "major", 0),
    ({"highway": "residential"}, "roads", "minor", 12),
    ({"highway": "footway"}, "roads", "path", 15),
    ({"railway": "subway"}, "roads", "rail", 10),
    ({"waterway": "river"}, "water", None, 10),
    ({"power": "line"}, None, None, None),
    ({"highway": "bus_stop"}, None, None, None),
])
def test_lines_fall_into_layers(tags, layer, kind, min_zoom) -> None:
    made = line_feature(tags, LINE, "某路")
    if layer is None:
        assert made is None
        return
    assert made["tippecanoe"] == {"layer": layer, "minzoom": min_zoom}
    assert made["properties"].get("kind") == kind and made["properties"]["name"] == "某路"


@pytest.mark.parametrize("tags, layer, kind", [
    ({"natural": "water", "water": "pond"}, "water", None),
    ({"leisure": "park"}, "landuse", "green"),
    ({"landuse": "residential"}, "landuse", "residential"),
    ({"building": "yes"}, "buildings", None),
    ({"amenity": "school"}, "landuse", "other"),
    ({"amenity": "parking"}, None, None),
])
def test_areas_fall_into_layers(tags, layer, kind) -> None:
    made = area_feature(tags, AREA, None)
    assert (made and made["tippecanoe"]["layer"]) == layer
    if made:
        assert made["properties"].get("kind") == kind and "name" not in made["properties"]


def streets_of(extract: Path) -> set[str]:
    """Names of the extract's streets of the kinds the base map keeps, read straight from the OSM file."""
    names = set()
    for obj in osmium.FileProcessor(str(extract)):
        if obj.is_way() and obj.tags.get("highway") in ROAD_KINDS and obj.tags.get("name"):
            names.add(label(dict(obj.tags), LABEL_KEYS))
    return names


def decoded(pmtiles: Path, zoom: int) -> dict[str, list[dict]]:
    """Every feature of the tiles at `zoom`, by layer, decoded by tippecanoe's own decoder."""
    decoder = str(Path(tippecanoe_binary()).with_name("tippecanoe-decode"))
    text = subprocess.run([decoder, "-z", str(zoom), "-Z", str(zoom), str(pmtiles)], check=True,
                          capture_output=True, text=True).stdout
    layers: dict[str, list[dict]] = {}
    for tile in json.loads(text)["features"]:
        for layer in tile["features"]:
            layers.setdefault(layer["properties"]["layer"], []).extend(layer["features"])
    return layers


def test_a_real_extract_becomes_tiles_with_its_streets_named_in_chinese(tmp_path: Path) -> None:
    extract = shared_path(NINGHUA)
    output = tmp_path / "nested" / "ninghua.pmtiles"
    summary = build_basemap(extract=extract, output=output, label_keys=LABEL_KEYS, min_zoom=10, max_zoom=15,
                            name="ninghua")
    assert output.is_file() and summary.size_bytes == output.stat().st_size > 0
    assert (summary.min_zoom, summary.max_zoom) == (10, 15) and summary.tiles > 0
    west, south, east, north = summary.bounds
    assert west < 116.65 < east and south < 26.265 < north  # the extract's middle
    layers = decoded(output, 15)
    named = {feature["properties"].get("name") for feature in layers["roads"]}
    expected = streets_of(extract)
    assert expected and expected <= named  # every named street of the extract, e.g. 中环中路
    assert layers["buildings"] and layers["places"]
    assert {"roads"} <= set(decoded(output, 10))  # major roads already at the shallowest zoom


def test_bad_extracts_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extract: no such file"):
        build_basemap(extract=tmp_path / "absent.osm", output=tmp_path / "x.pmtiles", label_keys=LABEL_KEYS,
                      min_zoom=10, max_zoom=15, name="x")
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="1" version="1"/></osm>')
    with pytest.raises(ValueError, match="has no streets"):
        build_basemap(extract=empty, output=tmp_path / "x.pmtiles", label_keys=LABEL_KEYS, min_zoom=10, max_zoom=15,
                      name="x")
    assert not (tmp_path / "x.pmtiles").exists()
