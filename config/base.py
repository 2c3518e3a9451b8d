"""The base every settings model shares."""
from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Refuses unknown keys, so a typo fails at start-up naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)
