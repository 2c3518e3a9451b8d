"""The browser map: an optional base-map tile layer and the CRS its tiles are drawn in."""
from typing import Literal

from pydantic import Field, model_validator

from config.base import StrictModel


class BasemapConfig(StrictModel):
    """The offline vector base map, built from an OpenStreetMap extract by `python -m webapp basemap build`."""

    file: str = Field("var/basemap.pmtiles", min_length=1,
                      description="PMTiles file the platform serves and the pages draw when it exists")
    label_keys: list[str] = Field(["name:zh-Hans", "name:zh", "name"], min_length=1,
                                  description="OSM tags tried in order for a street's or place's label")
    min_zoom: int = Field(10, ge=0, le=15, description="shallowest zoom level built")
    max_zoom: int = Field(15, ge=10, le=16, description="deepest zoom level built; the pages magnify beyond it")

    @model_validator(mode="after")
    def verify_zoom_range(self) -> "BasemapConfig":
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"min_zoom ({self.min_zoom}) is deeper than max_zoom ({self.max_zoom})")
        return self


class MapConfig(StrictModel):
    tile_url: str | None = Field(None, description="XYZ tile URL template; null = the offline base map (basemap)")
    tile_crs: Literal["wgs84", "gcj02"] = Field("wgs84", description="CRS the tiles are drawn in (Amap: gcj02)")
    attribution: str = Field("", description="attribution shown for the tiles")
    max_zoom: int = Field(19, ge=1, le=22, description="deepest zoom level")
    basemap: BasemapConfig = Field(default_factory=BasemapConfig)
