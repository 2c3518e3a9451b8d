"""Plates on cases: leniency for first offences (首违不罚), off-site handling (非现场执法), who may search plates."""
from pydantic import Field

from config.base import StrictModel


class LeniencyRule(StrictModel):
    """A category's first-offence rule: within `window_days` a plate's first case is let off, later ones not."""

    window_days: int = Field(365, ge=1, le=3650, description="earlier cases of the plate counted this many days back")
    first: str = Field("warned", min_length=1, description="handling result suggested for a first offence")
    later: str = Field("simple_penalty", min_length=1, description="handling result suggested for a repeat offence")


class OffsiteConfig(StrictModel):
    """A camera parking case with two photos and a confident plate may be handled with a notice, no site visit."""

    enabled: bool = Field(False, description="the city practises off-site enforcement (非现场执法)")
    categories: list[str] = Field(["0505"], description="categories that may be handled off site")
    min_confidence: float = Field(0.9, ge=0.0, le=1.0, description="plate confidence an off-site notice needs")
    min_photos: int = Field(2, ge=1, le=5, description="camera photos the case needs")
    legal_basis: str = Field(
        "《中华人民共和国道路交通安全法》第九十三条、第一百一十四条",
        min_length=1, description="the legal basis printed on the notice",
    )


class PlatesConfig(StrictModel):
    leniency: dict[str, LeniencyRule] = Field(
        {"0505": LeniencyRule()}, description="category code -> first-offence rule; categories not named: none"
    )
    offsite: OffsiteConfig = Field(default_factory=OffsiteConfig)
    search_roles: list[str] = Field(
        ["admin", "dispatcher", "squad_leader"], description="roles that may look cases up by plate"
    )
