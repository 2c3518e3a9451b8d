"""Web server, storage and bus settings."""
from typing import Literal

from pydantic import Field

from config.base import StrictModel


class AppConfig(StrictModel):
    host: str = Field("127.0.0.1", description="address the web server listens on")
    port: int = Field(5000, ge=1, le=65535, description="port the web server listens on")
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="default UI language")
    max_body_bytes: int = Field(1_048_576, ge=1024, le=100_000_000, description="largest request body accepted")
    max_upload_bytes: int = Field(10_485_760, ge=1024, le=200_000_000, description="largest photo upload accepted")
    photo_long_edge_px: int = Field(2560, ge=640, le=8192,
                                    description="the pages shrink a photo to this long edge before upload")
    photo_quality: float = Field(0.85, ge=0.5, le=1.0, description="JPEG quality of the shrunk photo")
    instance_dir: str = Field("var", description="folder for the SQLite file and evidence")
    secret_key: str | None = Field(None, description="session signing key; from GRIDPATROL_SECRET_KEY")
    metrics_token: str | None = Field(None, description="bearer token for /metrics; from GRIDPATROL_METRICS_TOKEN")


class DatabaseConfig(StrictModel):
    url: str = Field("sqlite:///var/gridpatrol.sqlite3", description="SQLAlchemy URL; DATABASE_URL overrides")
    connect_timeout_s: int = Field(5, ge=1, le=120, description="seconds to wait for PostgreSQL (and /readyz for Redis)")
    retry_after_s: int = Field(10, ge=1, le=3600, description="Retry-After of a 503 while the database is away")
    pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections each process keeps open")
    max_overflow: int = Field(10, ge=0, le=500, description="more connections a busy process may open, closed after use")


class RedisConfig(StrictModel):
    url: str | None = Field(None, description="Redis URL; unset = in-process bus; REDIS_URL overrides")
    detections_stream: str = Field("gridpatrol:detections", min_length=1, description="stream of workers' reports")
    events_channel: str = Field("gridpatrol:case-events", min_length=1, description="pub/sub channel of case events")
    max_deliveries: int = Field(10, ge=1, le=1000,
                                description="deliveries of a report failing each time before it is parked as dead")
