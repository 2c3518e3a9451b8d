"""The root settings model and how it is loaded."""
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from config.app import AppConfig, DatabaseConfig, RedisConfig
from config.base import StrictModel
from config.casefile import CaseFileConfig
from config.city import CityConfig
from config.dispatch import CalendarConfig, DispatchConfig
from config.hotline import HOTLINE_FILE, HotlineConfig
from config.map import MapConfig
from config.plates import PlatesConfig
from config.patrol import PatrolConfig
from config.security import SecurityConfig
from config.sources import WorkerConfig

ROOT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT_DIR / "config" / "default.yaml"


class Settings(StrictModel):
    app: AppConfig = Field(default_factory=AppConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    city: CityConfig = Field(default_factory=CityConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    map: MapConfig = Field(default_factory=MapConfig)
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    hotline: HotlineConfig = Field(default_factory=HotlineConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    casefile: CaseFileConfig = Field(default_factory=CaseFileConfig)
    plates: PlatesConfig = Field(default_factory=PlatesConfig)
    patrol: PatrolConfig = Field(default_factory=PatrolConfig)

    def path(self, relative: str) -> Path:
        """A settings path resolved against the repository root."""
        return (ROOT_DIR / relative).resolve()


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be a mapping")
    return data


def environment_overrides(env: dict[str, str]) -> dict[str, Any]:
    """Secrets, service URLs and where to listen (HOST, PORT) come from the environment."""
    overrides: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        overrides["database"] = {"url": env["DATABASE_URL"]}
    if env.get("REDIS_URL"):
        overrides["redis"] = {"url": env["REDIS_URL"]}
    if env.get("GRIDPATROL_SOURCES"):
        overrides["worker"] = {"sources_file": env["GRIDPATROL_SOURCES"]}
    app = {key: env[name] for key, name in (("secret_key", "GRIDPATROL_SECRET_KEY"),
                                             ("metrics_token", "GRIDPATROL_METRICS_TOKEN"),
                                             ("host", "HOST"), ("port", "PORT")) if env.get(name)}
    if app:
        overrides["app"] = app
    if env.get("GRIDPATROL_HOTLINE_SECRET"):
        overrides["hotline"] = {"secret": env["GRIDPATROL_HOTLINE_SECRET"]}
    return overrides


def load(overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """default.yaml (its hotline section from hotline.yaml), then GRIDPATROL_CONFIG, the environment, `overrides`."""
    env = dict(os.environ) if env is None else env
    data = deep_merge({"hotline": read_yaml(HOTLINE_FILE)}, read_yaml(DEFAULT_FILE))
    if env.get("GRIDPATROL_CONFIG"):
        data = deep_merge(data, read_yaml(Path(env["GRIDPATROL_CONFIG"])))
    data = deep_merge(data, environment_overrides(env))
    data = deep_merge(data, overrides or {})
    return Settings.model_validate(data)
