"""Input and output shapes of tickets."""
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate

from dispatch.evidence_store import OWN_URI
from dispatch.fields import CrsName, StrictFloat
from dispatch.privacy import mask_name, mask_phone, mask_text
from dispatch.ticket.enums import TicketSource, TicketStatus
from dispatch.ticket.models import Ticket


class LocationIn(Schema):
    lon = StrictFloat(required=True, validate=validate.Range(-180, 180), metadata={"description": "longitude"})
    lat = StrictFloat(required=True, validate=validate.Range(-90, 90), metadata={"description": "latitude"})
    crs = CrsName(required=True, metadata={"description": "wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu)"})


class ReporterIn(Schema):
    name = fields.String(validate=validate.Length(max=100))
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 \-]{3,32}$", error="not a phone number"))


def web_or_own_uri(uri: str) -> None:
    """An http(s) URL with a host, or an evidence id of the platform's own store; nothing else is linked or served."""
    parts = urlsplit(uri)
    web = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in uri)
    if not web and OWN_URI.fullmatch(uri) is None:
        raise ValidationError("an http(s) URL or one of the platform's evidence ids (evidence/<folder>/<file>)")


class EvidenceIn(Schema):
    uri = fields.String(required=True, validate=[validate.Length(1, 500), web_or_own_uri],
                        metadata={"description": "http(s) URL, or an evidence id this platform handed out"})
    caption = fields.String(validate=validate.Length(max=200))
    taken_at = fields.AwareDateTime()


class TicketIn(Schema):
    source = fields.Enum(TicketSource, by_value=True, required=True)
    external_id = fields.String(required=True, validate=validate.Length(1, 64),
                                metadata={"description": "the source's own id; the same twice is one ticket"})
    category = fields.String(required=True, validate=validate.Length(1, 8),
                             metadata={"description": "category code from config/categories.yaml"})
    text = fields.String(load_default="", validate=validate.Length(max=5000))
    address = fields.String(validate=validate.Length(max=300))
    location = fields.Nested(LocationIn, allow_none=True,
                             metadata={"description": "absent or null: the ticket waits to be located by hand"})
    reporter = fields.Nested(ReporterIn)
    received_at = fields.AwareDateTime(metadata={"description": "when the source received it; default now"})
    evidence = fields.List(fields.Nested(EvidenceIn), validate=validate.Length(max=20), load_default=list)


class LocateIn(Schema):
    location = fields.Nested(LocationIn, required=True)


class TicketQuery(Schema):
    status = fields.Enum(TicketStatus, by_value=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class LocationOut(Schema):
    lon = fields.Float()
    lat = fields.Float()
    crs = fields.String()


class TicketOut(Schema):
    id = fields.Integer()
    source = fields.String()
    external_id = fields.String()
    category = fields.String()
    text = fields.String(metadata={"description": "phones, ID numbers and plates masked unless the viewer is a dispatcher"})
    address = fields.String(allow_none=True)
    location_input = fields.Nested(LocationOut, allow_none=True, metadata={"description": "as received"})
    location = fields.Nested(LocationOut, allow_none=True, metadata={"description": "WGS-84"})
    cell_code = fields.String(allow_none=True)
    reporter = fields.Dict(metadata={"description": "name and phone, masked unless the viewer is a dispatcher"})
    received_at = fields.AwareDateTime()
    status = fields.String()
    unlocated_reason = fields.String(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    public = fields.Boolean(metadata={"description": "listed by Open311 when its public listing is on"})


class PublicIn(Schema):
    public = fields.Boolean(required=True, metadata={"description": "true: Open311's public listing may show it"})


def ticket_view(ticket: Ticket, *, reveal_contact: bool) -> dict:
    """The ticket as the API shows it; callers' contact masked unless `reveal_contact`."""
    name, phone, text = ticket.reporter_name, ticket.reporter_phone, ticket.text
    if not reveal_contact:
        name, phone, text = mask_name(name), mask_phone(phone), mask_text(text)
    located_input = ticket.input_lon is not None
    return {
        "id": ticket.id, "source": ticket.source, "external_id": ticket.external_id,
        "category": ticket.category, "text": text, "address": ticket.address,
        "location_input": {"lon": ticket.input_lon, "lat": ticket.input_lat, "crs": ticket.input_crs}
        if located_input else None,
        "location": {"lon": ticket.lon, "lat": ticket.lat, "crs": "wgs84"} if ticket.lon is not None else None,
        "cell_code": ticket.cell_code, "reporter": {"name": name, "phone": phone},
        "received_at": ticket.received_at, "status": ticket.status,
        "unlocated_reason": ticket.unlocated_reason, "case_id": ticket.case_id, "public": ticket.public,
    }
