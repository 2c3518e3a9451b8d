import pytest
from pydantic import ValidationError

import config


def test_defaults_load_with_embedded_storage() -> None:
    settings = config.load(env={})
    assert settings.database.url.startswith("sqlite:///")
    assert settings.redis.url is None
    assert settings.city.source == "demo"


def test_environment_overrides_urls_and_secret() -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://u@h/db", "REDIS_URL": "redis://h:6379/1",
           "GRIDPATROL_SECRET_KEY": "s3cret"}
    settings = config.load(env=env)
    assert settings.database.url == env["DATABASE_URL"]
    assert settings.redis.url == env["REDIS_URL"]
    assert settings.app.secret_key == "s3cret"


def test_host_and_port_from_the_environment() -> None:
    settings = config.load(env={"HOST": "0.0.0.0", "PORT": "8080"})
    assert (settings.app.host, settings.app.port) == ("0.0.0.0", 8080)
    with pytest.raises(ValidationError, match="port"):
        config.load(env={"PORT": "eighty"})


def test_config_file_is_laid_over_defaults(tmp_path) -> None:
    override = tmp_path / "city.yaml"
    override.write_text("dispatch:\n  merge_radius_m: 80\n", encoding="utf-8")
    settings = config.load(env={"GRIDPATROL_CONFIG": str(override)})
    assert settings.dispatch.merge_radius_m == 80
    assert settings.dispatch.merge_window_h == 24  # the rest of the section keeps its default


def test_unknown_key_names_the_field() -> None:
    with pytest.raises(ValidationError, match="merge_radius"):
        config.load(overrides={"dispatch": {"merge_radius": 10}}, env={})


@pytest.mark.parametrize("periods", [[["12:00", "09:00"]], [["13:00", "18:00"], ["09:00", "12:00"]], []])
def test_bad_work_periods_are_refused(periods) -> None:
    with pytest.raises(ValidationError, match="work_periods"):
        config.load(overrides={"calendar": {"work_periods": periods}}, env={})
