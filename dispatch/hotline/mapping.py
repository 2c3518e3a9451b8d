"""A work order in the hotline's own field names → the parts of a ticket, by a configured profile."""
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from config.hotline import ProfileConfig
from dispatch.errors import InputError


@dataclass(frozen=True)
class WorkOrder:
    """A work order read through its profile; `category_value` is the hotline's own category, if any."""

    external_id: str
    received_at: dt.datetime | None
    text: str
    address: str | None
    category_value: str | None
    location: dict[str, Any] | None
    reporter: dict[str, str]


def value(row: dict[str, Any], field: str | None) -> str | None:
    """The field's text, stripped; None when absent or blank (CSV cells, JSON nulls, pandas NaN alike)."""
    if field is None or row.get(field) is None:
        return None
    text = str(row[field]).strip()
    return text if text and text.lower() != "nan" else None


def parse_time(text: str, profile: ProfileConfig) -> dt.datetime:
    """ISO 8601 or one of the profile's formats; a time without zone is in the profile's zone."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for time_format in profile.time_formats:
            try:
                parsed = dt.datetime.strptime(text, time_format)
                break
            except ValueError:
                continue
        else:
            raise InputError("received_at", f"unreadable time '{text}'") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(profile.timezone))


def read_work_order(row: dict[str, Any], profile: ProfileConfig) -> WorkOrder:
    fields = profile.fields
    external_id = value(row, fields.external_id)
    if external_id is None:
        raise InputError("external_id", f"no work-order number in field '{fields.external_id}'")
    received = value(row, fields.received_at)
    location = None
    lon, lat = value(row, fields.lon), value(row, fields.lat)
    if lon is not None and lat is not None:
        try:
            location = {"lon": float(lon), "lat": float(lat), "crs": profile.crs}
        except ValueError:
            raise InputError("location", f"unreadable coordinates '{lon}', '{lat}'") from None
    reporter = {key: text for key, field in (("name", fields.reporter_name), ("phone", fields.reporter_phone))
                if (text := value(row, field)) is not None}
    texts = [text for field in fields.text if (text := value(row, field)) is not None]
    addresses = [text for field in fields.address if (text := value(row, field)) is not None]
    return WorkOrder(
        external_id=external_id.removesuffix(".0"),  # spreadsheet readers turn numeric ids into floats
        received_at=parse_time(received, profile) if received else None,
        text=" / ".join(texts), address=", ".join(addresses) or None,
        category_value=value(row, fields.category), location=location, reporter=reporter,
    )
