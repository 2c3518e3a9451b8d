"""Which squad (执法中队) answers for which cells: pure functions on the cells GeoDataFrame.

Each assign_* function returns the cells with `squad_code` set and the squads as dicts
{code, name, district_code}; district_code is None for a squad spanning several districts.
"""
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from geopandas import GeoDataFrame

Squad = dict[str, str | None]


def _single_district(cells: GeoDataFrame, squad_code: str) -> str | None:
    districts = cells.loc[cells["squad_code"] == squad_code, "district_code"].unique()
    return str(districts[0]) if len(districts) == 1 else None


def assign_by_district(cells: GeoDataFrame, squads: Sequence[Mapping[str, Any]]) -> tuple[GeoDataFrame, list[Squad]]:
    """One squad per listed {code, name, districts}; each unlisted district gets squad `<district code>`.

    The generated squad is named "<district name>执法中队" when the cells have a district_name, else
    "<district code>执法中队".
    """
    owner: dict[str, str] = {}
    result: list[Squad] = []
    for squad in squads:
        districts = [str(d) for d in squad["districts"]]
        for district in districts:
            if district in owner:
                raise ValueError(f"district {district} is listed for squads {owner[district]} and {squad['code']}")
            owner[district] = squad["code"]
        result.append({"code": squad["code"], "name": squad["name"],
                       "district_code": districts[0] if len(districts) == 1 else None})
    names = (dict(zip(cells["district_code"], cells["district_name"])) if "district_name" in cells.columns else {})
    for district in sorted(set(cells["district_code"]) - owner.keys()):
        result.append({"code": district, "name": f"{names.get(district) or district}执法中队", "district_code": district})
        owner[district] = district
    return cells.assign(squad_code=cells["district_code"].map(owner)), result


def assign_by_cells(
    cells: GeoDataFrame, mapping: Mapping[str, str], names: Mapping[str, str] | None = None,
) -> tuple[GeoDataFrame, list[Squad]]:
    """Squads from an explicit cell code → squad code mapping, which must cover every cell and name no other.

    `names` maps squad codes to display names (default: the code).
    """
    unknown = sorted(set(mapping) - set(cells["code"]))
    if unknown:
        raise ValueError(f"the mapping names cells the grid does not have: {', '.join(unknown[:10])}")
    unassigned = sorted(set(cells["code"]) - set(mapping))
    if unassigned:
        raise ValueError(f"{len(unassigned)} cells have no squad, e.g. {', '.join(unassigned[:10])}")
    assigned = cells.assign(squad_code=cells["code"].map(mapping))
    names = names or {}
    squads = [{"code": code, "name": names.get(code, code), "district_code": _single_district(assigned, code)}
              for code in sorted(set(mapping.values()))]
    return assigned, squads


def assign_by_blocks(
    cells: GeoDataFrame, rows: int, cols: int, squad_prefix: str, names: Sequence[str] | None = None,
) -> tuple[GeoDataFrame, list[Squad]]:
    """Split the city's bounding box (in its UTM zone) into rows × cols blocks, one squad each.

    A cell goes to the block holding its centroid. Squads are `<prefix>01`, `<prefix>02`, ... by block
    row from the north, then column from the west; `names` gives their names in that order.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"rows and cols must be at least 1, not {rows} × {cols}")
    if names is not None and len(names) != rows * cols:
        raise ValueError(f"{rows * cols} blocks need {rows * cols} names, not {len(names)}")
    projected = cells.to_crs(cells.estimate_utm_crs())
    west, south, east, north = projected.total_bounds
    centroids = projected.centroid
    col = np.minimum(((centroids.x - west) / ((east - west) / cols)).astype(int), cols - 1)
    row = np.minimum(((north - centroids.y) / ((north - south) / rows)).astype(int), rows - 1)
    codes = [f"{squad_prefix}{k:02d}" for k in range(1, rows * cols + 1)]
    assigned = cells.assign(squad_code=np.asarray(codes, dtype=object)[row * cols + col])
    squads = [{"code": code, "name": names[k] if names is not None else code,
               "district_code": _single_district(assigned, code)} for k, code in enumerate(codes)]
    return assigned, squads


def squad_areas(cells: GeoDataFrame) -> GeoDataFrame:
    """One row per squad: squad_code and the union of its cells."""
    areas = cells.geometry.groupby(cells["squad_code"].to_numpy()).agg(shapely.union_all)
    return GeoDataFrame({"squad_code": areas.index.tolist()}, geometry=areas.to_numpy(), crs=cells.crs)
