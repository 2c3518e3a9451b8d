"""The base every settings model shares, and the one-line error of a settings file that cannot be used."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Refuses unknown keys, so a typo fails at start-up naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigFileError(ValueError):
    """A settings file that cannot be used, said on one line: the file, then the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def validation_problem(error: ValidationError) -> str:
    """Pydantic's errors on one line, each naming its field: `zones.0.kind: Field required`."""
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or 'top level'}: {e['msg']}" for e in error.errors())


@contextmanager
def reading_settings_file(path: Path | str) -> Iterator[None]:
    """Any problem reading, parsing or checking `path` in this block becomes one ConfigFileError naming it."""
    try:
        yield
    except ConfigFileError:
        raise
    except ValidationError as exc:
        raise ConfigFileError(path, validation_problem(exc)) from exc
    except FileNotFoundError as exc:
        raise ConfigFileError(path, "no such file") from exc
    except (yaml.YAMLError, ValueError) as exc:  # YAML's messages span lines
        raise ConfigFileError(path, " ".join(str(exc).split())) from exc
