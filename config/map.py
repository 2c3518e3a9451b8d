"""The browser map: an optional base-map tile layer and the CRS its tiles are drawn in."""
from typing import Literal

from pydantic import Field

from config.base import StrictModel


class MapConfig(StrictModel):
    tile_url: str | None = Field(None, description="XYZ tile URL template; null = no base map (intranet)")
    tile_crs: Literal["wgs84", "gcj02"] = Field("wgs84", description="CRS the tiles are drawn in (Amap: gcj02)")
    attribution: str = Field("", description="attribution shown for the tiles")
    max_zoom: int = Field(19, ge=1, le=22, description="deepest zoom level")
