"""The unit grid (单元网格): cutting a city into square cells and finding the cell of a point."""
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from geopandas import GeoDataFrame
from numpy.typing import ArrayLike
from pyproj import Transformer
from shapely.geometry import mapping, shape

from grid.boundary import GeoJSONSource, polygon_frame
from grid.crs import CoordSys

CELL_COLUMNS = ("code", "district_code", "squad_code")
WGS84 = "EPSG:4326"
METRES_PER_DEGREE = 111_320.0  # along a meridian, near enough to choose a densifying step
GEOMETRY_COLLECTION = 7
POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon
LATTICE_SLACK = 1e-6  # of a cell: 0.25 mm for 250 m cells
LATTICE_MARGIN = 1e-3  # of a cell; cell edges bow below 1e-6 of their length near Xinyang


class UnitGrid:
    """The city's cells (EPSG:4326), sorted by code, and a vectorised point-to-cell lookup.

    A point on an edge or corner shared by several cells belongs to the one with the lowest code;
    a point on the city's outer boundary is inside; a point outside every cell maps to None.

    >>> grid = UnitGrid.from_records([
    ...     {"code": "411502000001", "district_code": "411502", "squad_code": "SQ01",
    ...      "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}},
    ...     {"code": "411502000002", "district_code": "411502", "squad_code": "SQ02",
    ...      "geometry": {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}},
    ... ])
    >>> grid.locate([0.5, 1.0, 1.5, 5.0], [0.5, 0.5, 0.5, 0.5]).tolist()
    ['411502000001', '411502000001', '411502000002', None]
    """

    def __init__(self, cells: GeoDataFrame) -> None:
        missing = [c for c in (*CELL_COLUMNS, "geometry") if c not in cells.columns]
        if missing:
            raise ValueError(f"cells lack columns: {', '.join(missing)}")
        if cells.crs is None or not cells.crs.equals(WGS84):
            raise ValueError(f"cells must be in {WGS84}, not {cells.crs}")
        duplicated = cells["code"][cells["code"].duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"duplicate cell codes: {', '.join(map(str, duplicated[:10]))}")
        self._cells = cells.sort_values("code").reset_index(drop=True)
        self._codes = self._cells["code"].to_numpy(dtype=object)
        self._tree = shapely.STRtree(self._cells.geometry.to_numpy())

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> "UnitGrid":
        """A grid from dicts with code, district_code, squad_code and a GeoJSON geometry dict."""
        records = list(records)
        columns = {column: [r[column] for r in records] for column in CELL_COLUMNS}
        return cls(GeoDataFrame(columns, geometry=[shape(r["geometry"]) for r in records], crs=WGS84))

    @property
    def cells(self) -> GeoDataFrame:
        return self._cells

    @property
    def squad_codes(self) -> list[str]:
        """The distinct squad codes, sorted."""
        return sorted(self._cells["squad_code"].dropna().unique())

    def __len__(self) -> int:
        return len(self._cells)

    def to_geojson(self) -> dict[str, Any]:
        """A FeatureCollection with code, district_code and squad_code properties."""
        columns = [self._cells[c].tolist() for c in CELL_COLUMNS]
        features = [
            {"type": "Feature", "properties": dict(zip(CELL_COLUMNS, values)), "geometry": mapping(geometry)}
            for *values, geometry in zip(*columns, self._cells.geometry)
        ]
        return {"type": "FeatureCollection", "features": features}

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
        """Cell codes (dtype object, None outside the city) of WGS-84 points, shaped like the broadcast input."""
        lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        points = shapely.points(lon.ravel(), lat.ravel())
        point_index, cell_index = self._tree.query(points, predicate="covered_by")
        # Cells are sorted by code, so the smallest tree index is the lowest code: the border rule.
        first = np.full(points.size, len(self._codes))
        np.minimum.at(first, point_index, cell_index)
        codes = np.full(points.size, None, dtype=object)
        found = first < len(self._codes)
        codes[found] = self._codes[first[found]]
        return codes.reshape(lon.shape)

    def locate_one(self, lon: float, lat: float) -> str | None:
        return self.locate([lon], [lat])[0]


def _district_codes(values: Iterable[Any], field: str) -> list[str]:
    codes = [str(v) for v in values]
    bad = sorted({c for c in codes if not (len(c) == 6 and c.isdigit())})
    if bad:
        raise ValueError(f"district codes in {field!r} must have 6 digits: {', '.join(bad[:10])}")
    return codes


def _polygonal(geometries: np.ndarray) -> np.ndarray:
    """Intersection results reduced to their polygonal parts (touching boundaries add lines and points)."""
    geometries = geometries.copy()
    for i in np.flatnonzero(shapely.get_type_id(geometries) == GEOMETRY_COLLECTION):
        parts = shapely.get_parts(geometries[i])
        geometries[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGON_TYPES)])
    return geometries


def _lattice(boundary: GeoDataFrame, cell_size_m: float) -> np.ndarray:
    """Square cells of the boundary's UTM zone as EPSG:4326 quadrilaterals, shape (rows, cols) from the north-west."""
    utm = boundary.estimate_utm_crs()
    to_utm = Transformer.from_crs(WGS84, utm, always_xy=True)
    to_wgs84 = Transformer.from_crs(utm, WGS84, always_xy=True)
    # Densify before measuring: a long straight edge in degrees bows out between its vertices in metres.
    dense = shapely.segmentize(boundary.geometry.to_numpy(), cell_size_m / METRES_PER_DEGREE / 20)
    xy = shapely.get_coordinates(dense)
    x, y = to_utm.transform(xy[:, 0], xy[:, 1])
    west, south, east, north = x.min(), y.min(), x.max(), y.max()
    # An extent of n cells plus rounding error gets n cells, the last ones stretched by that sliver,
    # rather than an extra row of slivers.
    ncols = max(1, math.ceil((east - west) / cell_size_m - LATTICE_SLACK))
    nrows = max(1, math.ceil((north - south) / cell_size_m - LATTICE_SLACK))
    xs, ys = west + cell_size_m * np.arange(ncols + 1), north - cell_size_m * np.arange(nrows + 1)
    # Cell edges are straight in degrees, so between nodes they cut a little inside a straight line
    # in metres: the outermost nodes move out by a margin (the outer cells are clipped anyway).
    margin = LATTICE_MARGIN * cell_size_m
    xs[0], xs[-1] = west - margin, max(xs[-1], east) + margin
    ys[0], ys[-1] = north + margin, min(ys[-1], south) - margin
    node_x, node_y = np.meshgrid(xs, ys)
    lon, lat = to_wgs84.transform(node_x, node_y)
    nodes = np.stack([lon, lat], axis=-1)
    # Neighbouring cells share the very same node coordinates, so shared edges match exactly.
    rings = np.stack([nodes[:-1, :-1], nodes[:-1, 1:], nodes[1:, 1:], nodes[1:, :-1], nodes[:-1, :-1]], axis=2)
    return shapely.polygons(rings)


def _merge_slivers(rows: np.ndarray, cols: np.ndarray, pieces: np.ndarray, slivers: np.ndarray) -> np.ndarray:
    """Merge each sliver into the edge neighbour (same district) it shares the longest border with.

    Slivers next only to slivers wait for a later round, when those have joined a cell. A sliver
    that never finds a neighbour stays a cell, so the cells always cover the whole district.
    Returns the mask of pieces that remain cells; merged geometries are updated in place.
    """
    owner = {(r, c): i for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())) if not slivers[i]}
    pending = np.flatnonzero(slivers).tolist()
    while pending:
        waiting = []
        for i in pending:
            r, c = rows[i], cols[i]
            neighbours = [owner[p] for p in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)) if p in owner]
            shared = shapely.length(shapely.intersection(shapely.boundary(pieces[i]), pieces[neighbours]))
            if shared.size and shared.max() > 0:
                target = neighbours[int(np.argmax(shared))]
                pieces[target] = shapely.union(pieces[target], pieces[i])
                owner[(r, c)] = target
            else:
                waiting.append(i)
        if len(waiting) == len(pending):
            break
        pending = waiting
    keep = ~slivers
    keep[pending] = True
    return keep


def build_cells(
    boundary: GeoDataFrame, *, cell_size_m: float, district_field: str, name_field: str = "district_name",
    min_fraction: float = 0.05, progress: Callable[[int, int], None] | None = None,
) -> GeoDataFrame:
    """Cut district polygons (EPSG:4326) into square cells of `cell_size_m` metres in the boundary's UTM zone.

    Cells are clipped to each district. A clipped piece smaller than `min_fraction` of its full square is
    merged into a neighbour of the same district (see _merge_slivers), so no area is left uncovered.
    Codes are the district code and a six-digit sequence counted by row from the north, then by column
    from the west: the same input always gives the same codes. `progress(done, total)` is called per
    district row. Returns code, district_code, district_name (when `name_field` is a column), squad_code
    (None) and geometry, sorted by code.
    """
    if boundary.crs is None or not boundary.crs.equals(WGS84):
        raise ValueError(f"the boundary must be in {WGS84}, not {boundary.crs}")
    if district_field not in boundary.columns:
        raise ValueError(f"the boundary has no {district_field!r} column (columns: {', '.join(boundary.columns)})")
    if cell_size_m <= 0:
        raise ValueError(f"cell_size_m must be positive, not {cell_size_m}")
    districts = boundary.assign(district_code=_district_codes(boundary[district_field], district_field))
    names = (dict(zip(districts["district_code"], districts[name_field])) if name_field in districts.columns
             else None)
    district_shapes = districts.geometry.groupby(districts["district_code"]).agg(shapely.union_all)
    lattice = _lattice(districts, cell_size_m)
    quad_rows, quad_cols = np.divmod(np.arange(lattice.size), lattice.shape[1])
    quads = lattice.ravel()
    full_area = shapely.area(quads)
    tree = shapely.STRtree(quads)

    candidates = {code: tree.query(geometry, predicate="intersects") for code, geometry in district_shapes.items()}
    total, done = sum(np.unique(quad_rows[c]).size for c in candidates.values()), 0
    frames = []
    for code, geometry in district_shapes.items():
        shapely.prepare(geometry)
        index = np.sort(candidates[code])
        pieces = quads[index]
        border = ~shapely.contains_properly(geometry, pieces)
        rows = quad_rows[index]
        for row in np.unique(rows):  # row by row, so progress moves on a big district
            in_row = border & (rows == row)
            pieces[in_row] = _polygonal(shapely.intersection(pieces[in_row], geometry))
            done += 1
            if progress is not None:
                progress(done, total)
        fraction = shapely.area(pieces) / full_area[index]
        real = fraction > 0
        index, pieces, fraction = index[real], pieces[real], fraction[real]
        keep = _merge_slivers(quad_rows[index], quad_cols[index], pieces, fraction < min_fraction)
        # index is sorted, so the cells are in row-from-north, column-from-west order.
        sequence = np.arange(1, int(keep.sum()) + 1)
        frames.append({"code": [f"{code}{n:06d}" for n in sequence], "district_code": [code] * sequence.size,
                       "geometry": pieces[keep]})
    cells = GeoDataFrame(
        {"code": [c for f in frames for c in f["code"]],
         "district_code": [d for f in frames for d in f["district_code"]]},
        geometry=np.concatenate([f["geometry"] for f in frames]), crs=WGS84,
    )
    if names is not None:
        cells["district_name"] = cells["district_code"].map(names)
    cells["squad_code"] = None
    return cells.sort_values("code").reset_index(drop=True)


def load_cells_geojson(
    source: GeoJSONSource, *, crs: CoordSys, code_field: str = "code", district_field: str = "district_code",
    squad_field: str = "squad_code",
) -> GeoDataFrame:
    """An existing grid file (path, dict or feature list) as cells in EPSG:4326; a missing squad field gives None."""
    cells = polygon_frame(source, crs=crs,
                          fields={"code": code_field, "district_code": district_field, "squad_code": squad_field},
                          optional=frozenset({"squad_code"}))
    return cells.sort_values("code").reset_index(drop=True)
