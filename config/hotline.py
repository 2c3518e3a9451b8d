"""Hotline settings (config/hotline.yaml): work-order field mappings, replies, addresses, keyword rules, Open311."""
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from config.base import StrictModel

HOTLINE_FILE = Path(__file__).resolve().parent / "hotline.yaml"

HotlineSourceName = Literal["hotline_12345", "hotline_12319"]


class FieldMapping(StrictModel):
    """Which of the work order's fields (columns, JSON keys) hold what we need."""

    external_id: str = Field(min_length=1, description="the work-order number (工单编号)")
    received_at: str | None = Field(None, description="when the call came in (来电时间)")
    reporter_name: str | None = Field(None, description="the caller (诉求人)")
    reporter_phone: str | None = Field(None, description="the caller's phone (联系电话)")
    text: list[str] = Field(min_length=1, description="fields joined into the ticket text (诉求内容)")
    address: list[str] = Field([], description="fields joined into the address (诉求地址)")
    category: str | None = Field(None, description="the source's own category (诉求类型)")
    lon: str | None = Field(None, description="longitude, when the source gives one")
    lat: str | None = Field(None, description="latitude, when the source gives one")


class ProfileConfig(StrictModel):
    """One hotline's work-order layout: another city's field names are a new profile, not new code."""

    source: HotlineSourceName = Field(description="the ticket source its work orders are filed as")
    fields: FieldMapping = Field(description="their field names for ours")
    time_formats: list[str] = Field(
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"],
        description="strptime formats tried in turn after ISO 8601",
    )
    timezone: str = Field("Asia/Shanghai", description="zone of times given without one")
    crs: Literal["wgs84", "gcj02", "bd09"] = Field("gcj02", description="CRS of the given coordinates")
    categories: dict[str, str | None] = Field(
        {}, description="their category value → our category code; null = too coarse, classify the text"
    )
    header_row: int | None = Field(
        None, ge=1, le=100, description="1-based row of a spreadsheet's header; null = the first row naming a field"
    )


class ReplyConfig(StrictModel):
    webhook_url: str | None = Field(None, description="where closure replies are POSTed; null = kept in the outbox")
    timeout_s: float = Field(10, gt=0, le=120, description="seconds to wait for the hotline to answer")
    backoff_base_s: float = Field(30, gt=0, le=3600, description="wait after the first failure; doubles each time")
    backoff_max_s: float = Field(3600, gt=0, le=86400, description="longest wait between two tries")
    max_attempts: int = Field(20, ge=1, le=1000, description="tries before a reply is marked failed")
    batch_size: int = Field(50, ge=1, le=1000, description="replies sent per round")
    every_s: float = Field(30, ge=1, le=3600, description="seconds between rounds of `hotline replies send --loop`")
    fields: dict[Literal["external_id", "result", "result_text", "closed_at", "squad", "case_id"], str] = Field(
        {"external_id": "工单编号", "result": "办理结果", "result_text": "办理情况", "closed_at": "办结时间",
         "squad": "承办单位", "case_id": "案件编号"},
        description="our reply fields → their field names",
    )
    results_zh: dict[str, str] = Field({}, description="handling result code → the text the hotline shows")


class AddressConfig(StrictModel):
    min_score: float = Field(85, ge=0, le=100, description="match score (0-100) needed to place a ticket by address")
    candidates: int = Field(5, ge=1, le=20, description="best candidates kept for the manual-location queue")
    prefixes: list[str] = Field([], description="province/city/district names a caller may give or leave out")


class KeywordRule(StrictModel):
    category: str = Field(min_length=1, max_length=8, description="category code")
    keywords: list[str] = Field(min_length=1, description="words that suggest it; the rule with most hits wins")


class Open311Config(StrictModel):
    source: HotlineSourceName = Field("hotline_12345", description="source of requests filed over Open311")
    jurisdiction_id: str | None = Field(None, description="our jurisdiction id; null = a single-jurisdiction endpoint")
    window_days: int = Field(90, ge=1, le=90, description="largest start_date..end_date span (the spec's 90 days)")
    max_results: int = Field(1000, ge=1, le=1000, description="most requests one query returns")
    public_listing: bool = Field(
        False, description="anyone may read requests filed over Open311 or marked public; off = api_key clients only"
    )
    public_location_decimals: int = Field(
        3, ge=0, le=6, description="decimals of lat/long in the public listing (3 ≈ 100 m)"
    )


class HotlineConfig(StrictModel):
    secret: str | None = Field(None, description="shared secret of pushed work orders; GRIDPATROL_HOTLINE_SECRET")
    signature_header: str = Field("X-Hotline-Signature", description="header with the hex HMAC-SHA256 of the push: "
                                  "method, path, timestamp and raw body, each but the body followed by a newline")
    timestamp_header: str = Field("X-Hotline-Timestamp", description="header with the push's Unix time in seconds")
    signature_window_s: int = Field(300, ge=10, le=3600, description="largest age (either way) of a push's timestamp; "
                                    "a signature is accepted once within it")
    profiles: dict[str, ProfileConfig] = Field({}, description="work-order layouts by name")
    replies: ReplyConfig = Field(default_factory=ReplyConfig)
    address: AddressConfig = Field(default_factory=AddressConfig)
    rules: list[KeywordRule] = Field([], description="keyword rules: category from free text")
    open311: Open311Config = Field(default_factory=Open311Config)

    @model_validator(mode="after")
    def verify_profiles(self) -> "HotlineConfig":
        for name, profile in self.profiles.items():
            if (profile.fields.lon is None) != (profile.fields.lat is None):
                raise ValueError(f"profile {name}: give both lon and lat fields or neither")
        return self
