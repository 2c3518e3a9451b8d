"""Security settings of the web edge: cookies and proxies, session lifetimes, sign-in throttling."""
from typing import Literal

from limits import parse_many
from pydantic import Field, field_validator

from config.base import StrictModel


class LoginThrottleConfig(StrictModel):
    per_account: str = Field("10 per 15 minutes", description="failed sign-ins allowed per username (limits syntax)")
    per_address: str = Field("100 per 15 minutes",
                             description="failed sign-ins allowed per client address (a bureau's PCs may share one)")

    @field_validator("per_account", "per_address")
    @classmethod
    def parses(cls, value: str) -> str:
        parse_many(value)  # ValueError naming the bad limit string
        return value


class SecurityConfig(StrictModel):
    cookie_secure: Literal["auto", "always"] = Field(
        "auto", description="Secure session cookie: auto = when the request came over HTTPS (a trusted proxy's "
                            "X-Forwarded-Proto counts), always = every time")
    proxy_hops: int = Field(0, ge=0, le=5, description="reverse proxies in front whose X-Forwarded-For/-Proto "
                                                       "headers are trusted (0 = none: direct clients)")
    session_idle_min: int = Field(120, ge=1, le=24 * 60, description="minutes without a request before a sign-in ends")
    session_lifetime_h: float = Field(12, gt=0, le=24 * 7, description="hours after sign-in when it ends regardless "
                                                                        "(one dispatch shift)")
    login: LoginThrottleConfig = Field(default_factory=LoginThrottleConfig)
    max_photo_pixels: int = Field(50_000_000, ge=1_000_000, le=500_000_000,
                                  description="largest evidence photo (width x height) accepted; refused before decoding")
