"""Reading district boundaries (and other polygon GeoJSON) into WGS-84 GeoDataFrames."""
import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geopandas import GeoDataFrame

from grid.crs import CoordSys, geometries_to_wgs84

GeoJSONSource = str | Path | dict[str, Any] | list[dict[str, Any]]
POLYGONAL = ("Polygon", "MultiPolygon")


def geojson_features(source: GeoJSONSource) -> tuple[list[dict[str, Any]], str]:
    """The features of a FeatureCollection, a single Feature or a bare JSON array of Features, and a name for errors."""
    if isinstance(source, (str, Path)):
        origin = str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{origin}: not JSON ({exc})") from exc
    else:
        origin, data = "GeoJSON input", source
    if isinstance(data, list):
        features = data
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
    elif isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    else:
        raise ValueError(f"{origin}: expected a FeatureCollection, a Feature or a JSON array of Features")
    if not all(isinstance(f, dict) and f.get("type") == "Feature" for f in features):
        raise ValueError(f"{origin}: every item must be a GeoJSON Feature")
    return features, origin


def polygon_frame(
    source: GeoJSONSource, *, crs: CoordSys, fields: dict[str, str], optional: frozenset[str] = frozenset(),
) -> GeoDataFrame:
    """Polygon features as a WGS-84 GeoDataFrame with columns renamed {column: property}, values as strings.

    Features without a polygon are skipped; a property in `optional` may be missing (None).
    """
    features, origin = geojson_features(source)
    polygons = [f for f in features if (f.get("geometry") or {}).get("type") in POLYGONAL]
    if not polygons:
        raise ValueError(f"{origin}: no Polygon or MultiPolygon features")
    columns: dict[str, list[str | None]] = {column: [] for column in fields}
    for index, feature in enumerate(polygons):
        properties = feature.get("properties") or {}
        for column, prop in fields.items():
            value = properties.get(prop)
            if value is None and column not in optional:
                raise ValueError(f"{origin}: polygon feature {index} has no {prop!r} property "
                                 f"(properties: {', '.join(properties) or 'none'})")
            columns[column].append(None if value is None else str(value))
    geometries = shapely.from_geojson([json.dumps(f["geometry"]) for f in polygons])
    geometries = geometries_to_wgs84(geometries, crs)
    # Boundary files may carry small self-intersections; overlay operations need valid polygons.
    invalid = ~shapely.is_valid(geometries)
    geometries[invalid] = shapely.make_valid(geometries[invalid], method="structure", keep_collapsed=False)
    return GeoDataFrame(columns, geometry=np.asarray(geometries), crs="EPSG:4326")


def read_boundary(
    path: str | Path, *, crs: CoordSys, district_field: str = "adcode", name_field: str = "name",
) -> GeoDataFrame:
    """District polygons in EPSG:4326 with columns district_code, district_name (None where absent), geometry.

    `crs` is the system of the file's coordinates: DataV/AMap files are GCJ-02 although they declare none.
    """
    return polygon_frame(path, crs=crs, fields={"district_code": district_field, "district_name": name_field},
                         optional=frozenset({"district_name"}))
