"""Strict marshmallow fields shared by the input schemas."""
from typing import Any

from marshmallow import ValidationError, fields

from grid.crs import CoordSys


class StrictFloat(fields.Float):
    """A JSON number only: strings and booleans are refused, not coerced."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


class CrsName(fields.String):
    """A coordinate system name (wgs84, gcj02, bd09 and their usual spellings), loaded canonical."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            return CoordSys.parse(name).value
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
