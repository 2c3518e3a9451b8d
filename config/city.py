"""Which city the platform serves and how its unit grid is cut."""
from typing import Literal

from pydantic import Field

from config.base import StrictModel


class SquadConfig(StrictModel):
    code: str = Field(min_length=1, max_length=32, description="squad code")
    name: str = Field(min_length=1, max_length=100, description="squad name, e.g. 浉河区第一执法中队")
    districts: list[str] = Field(min_length=1, description="district codes whose cells this squad answers for")


class CityConfig(StrictModel):
    name: str = Field("信阳市浉河区（演示）", description="shown in the UI")
    source: Literal["demo", "boundary"] = Field("demo", description="demo city or a boundary file")
    boundary: str | None = Field(None, description="district boundary GeoJSON when source is boundary: cut into cells "
                                                   "on the first start; null = store a grid with `grid build`/`import`")
    boundary_crs: Literal["wgs84", "gcj02", "bd09"] = Field("wgs84", description="CRS of the boundary file")
    district_field: str = Field("adcode", description="property holding the district code")
    name_field: str = Field("name", description="property holding the district name")
    cell_size_m: float = Field(250, ge=10, le=5000, description="unit grid cell edge in metres")
    squads: list[SquadConfig] = Field([], description="squads by district; unlisted districts get one each")
    demo_accounts: bool = Field(True, description="with the demo city, create demo users and tokens")
