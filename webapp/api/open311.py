"""Open311 GeoReport v2 at /open311/v2/: services, requests (POST and GET), requests/{id}, tokens/{id}; JSON or XML."""
import datetime as dt
import uuid
from typing import Any
from xml.etree import ElementTree

from flask import Response, jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import select

from dispatch.account.policy import Principal
from dispatch.account.service import token_principal
from dispatch.address.service import load_matcher
from dispatch.case.events import commit_and_publish
from dispatch.db import utcnow
from dispatch.errors import InputError, NotFound
from dispatch.hotline.intake import take_work_order
from dispatch.hotline.open311 import form_profile, public_view, query_requests, request_views, service_list, visible_to
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.models import Ticket
from webapp.platform import current_platform, db_session

blp = Blueprint("open311", __name__, description="Open311 GeoReport v2 (JSON and XML; POST needs an api_key; "
                                                "reading too, unless hotline.open311.public_listing is on)")
MAX_ID = 2**31 - 1  # ids are 32-bit
FORMAT = "<any(json, xml):fmt>"
# XML wrappers (the spec's) of each resource's list and items.
WRAPPERS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
            "errors": ("errors", "error")}


class Open311Error(Exception):
    """Answered in the spec's error shape: a list of {code, description}."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def to_xml(items: list[dict[str, Any]], resource: str) -> bytes:
    outer, inner = WRAPPERS[resource]
    root = ElementTree.Element(outer)
    for item in items:
        element = ElementTree.SubElement(root, inner)
        for key, value in item.items():
            if value is not None:
                child = ElementTree.SubElement(element, key)
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def respond(items: list[dict[str, Any]], resource: str, fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(items, resource), status=status, content_type="text/xml; charset=utf-8")
    response = jsonify(items)
    response.status_code = status
    return response


def fmt_of_request() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


@blp.errorhandler(Open311Error)
def open311_error(error: Open311Error) -> Response:
    return respond([{"code": error.status, "description": error.description}], "errors", fmt_of_request(), error.status)


@blp.errorhandler(NotFound)
def not_found(error: NotFound) -> Response:
    db_session().rollback()
    return open311_error(Open311Error(404, str(error)))


@blp.errorhandler(InputError)
def bad_input(error: InputError) -> Response:
    db_session().rollback()
    return open311_error(Open311Error(400, f"{error.field}: {error.message}"))


def arg(name: str) -> str | None:
    """An argument from the query or the form; sent empty is the same as not sent (the spec's rule)."""
    given = (request.values.get(name) or "").strip()
    return given or None


def check_jurisdiction() -> None:
    ours, given = current_platform().settings.hotline.open311.jurisdiction_id, arg("jurisdiction_id")
    if given is not None and given != ours:
        raise Open311Error(404, f"unknown jurisdiction_id '{given}'")


def parse_w3c(name: str) -> dt.datetime | None:
    given = arg(name)
    if given is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(given.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name}: the time zone is required (Z or ±hh:mm)")
    return parsed


def client_principal() -> Principal | None:
    """The principal of the request's api_key, if it is a token allowed to file Open311 requests."""
    api_key = arg("api_key")
    principal = token_principal(session=db_session(), token=api_key) if api_key else None
    allowed = TicketSource(current_platform().settings.hotline.open311.source)
    return principal if principal is not None and allowed in principal.sources else None


def reader() -> str | None:
    """Who reads: an api_key client (its principal's name: it sees its own requests), or None for anyone
    (only with the public listing on); refused otherwise."""
    if arg("api_key") is not None:
        principal = client_principal()
        if principal is None:
            raise Open311Error(403, "api_key invalid or not allowed to read requests")
        return principal.name
    if not current_platform().settings.hotline.open311.public_listing:
        raise Open311Error(403, "requests are not public: send your api_key to read the requests you filed")
    return None


def views_for(tickets: list[Ticket], filed_by: str | None) -> list[dict[str, Any]]:
    """The tickets as requests: whole for the client that filed them, scrubbed for the public."""
    platform = current_platform()
    views = request_views(session=db_session(), tickets=tickets, categories=platform.ctx.categories)
    if filed_by is not None:
        return views
    decimals = platform.settings.hotline.open311.public_location_decimals
    return [public_view(view, decimals=decimals) for view in views]


@blp.route(f"/services.{FORMAT}", methods=["GET"])
def services(fmt: str):
    """The service list: our case categories."""
    check_jurisdiction()
    return respond(service_list(current_platform().ctx.categories), "services", fmt)


@blp.route(f"/requests.{FORMAT}", methods=["POST"])
def create_request(fmt: str):
    """File a request: api_key (a machine token allowed open311.source), service_code, lat+long or address_string."""
    check_jurisdiction()
    platform, session = current_platform(), db_session()
    config = platform.settings.hotline.open311
    principal = client_principal()
    if principal is None:
        raise Open311Error(403, "api_key missing, invalid or not allowed to file requests")
    service_code = arg("service_code")
    if service_code is None:
        raise Open311Error(400, "service_code is required")
    if service_code not in platform.ctx.categories:
        raise Open311Error(404, f"unknown service_code '{service_code}'")
    if (arg("lat") is None) != (arg("long") is None):
        raise Open311Error(400, "send both lat and long, or neither")
    if arg("lat") is None and arg("address_string") is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    if len(arg("description") or "") > 4000:
        raise Open311Error(400, "description: at most 4000 characters")
    row = {key: arg(key) for key in ("service_code", "lat", "long", "address_string", "description", "email",
                                     "phone", "media_url", "device_id", "account_id")}
    row["name"] = " ".join(filter(None, (arg("first_name"), arg("last_name")))) or None
    row["token"] = uuid.uuid4().hex
    hotline = platform.settings.hotline
    taken = take_work_order(session=session, ctx=platform.ctx, config=hotline,
                            profile=form_profile(config, platform.ctx.categories), row=row,
                            matcher=load_matcher(session=session, config=hotline.address), actor=principal.name)
    taken.intake.ticket.filed_by = principal.name  # its api_key reads it back; the public listing may show it
    commit_and_publish(session, platform.bus)
    category = platform.ctx.categories.by_code[service_code]
    notice = f"{category.name_zh}: handled within {category.time_limit_h:g} working hours of registration"
    return respond([{"service_request_id": str(taken.intake.ticket.id), "service_notice": notice,
                     "account_id": row["account_id"]}], "requests", fmt, 201)


@blp.route(f"/requests.{FORMAT}", methods=["GET"])
def list_requests(fmt: str):
    """Requests by service_request_id (overrides the rest), service_code, start_date/end_date (≤ 90 days), status.

    An api_key client lists the requests it filed; without one, only when the public listing is on.
    """
    check_jurisdiction()
    filed_by = reader()
    platform, session = current_platform(), db_session()
    config = platform.settings.hotline.open311
    ids = None
    if arg("service_request_id") is not None:
        try:
            ids = [int(part) for part in arg("service_request_id").split(",") if part.strip()]
        except ValueError:
            raise Open311Error(400, "service_request_id: comma-separated numbers") from None
        if not all(0 < request_id <= MAX_ID for request_id in ids):
            raise Open311Error(400, f"service_request_id: numbers from 1 to {MAX_ID}")
    start, end = parse_w3c("start_date"), parse_w3c("end_date")
    window = dt.timedelta(days=config.window_days)
    end = end or (start + window if start else utcnow())
    start = start or end - window
    if ids is None and not dt.timedelta(0) <= end - start <= window:
        raise Open311Error(400, f"start_date..end_date must be in order and span at most {config.window_days} days")
    statuses = {part.strip() for part in (arg("status") or "").split(",") if part.strip()}
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, "status: open and/or closed")
    codes = [part.strip() for part in (arg("service_code") or "").split(",") if part.strip()]
    tickets = query_requests(session=session, ids=ids, service_codes=codes, start=start, end=end, statuses=statuses,
                             limit=config.max_results, filed_by=filed_by)
    return respond(views_for(tickets, filed_by), "requests", fmt)


@blp.route(f"/requests/<int:request_id>.{FORMAT}", methods=["GET"])
def get_request(request_id: int, fmt: str):
    """One request: the api_key client's own, or (public listing on) one anyone may read."""
    check_jurisdiction()
    filed_by = reader()
    ticket = db_session().scalars(select(Ticket).where(Ticket.id == request_id, visible_to(filed_by))).one_or_none()
    if ticket is None:
        raise Open311Error(404, f"no service request {request_id}")
    return respond(views_for([ticket], filed_by), "requests", fmt)


@blp.route(f"/tokens/<token>.{FORMAT}", methods=["GET"])
def get_token(token: str, fmt: str):
    """The service_request_id of a token (each request's token is in its GET view)."""
    check_jurisdiction()
    source = current_platform().settings.hotline.open311.source
    ticket = db_session().scalars(
        select(Ticket).where(Ticket.source == source, Ticket.external_id == token)).one_or_none()
    if ticket is None:
        raise Open311Error(404, f"no request with token '{token}'")
    return respond([{"service_request_id": str(ticket.id), "token": token}], "requests", fmt)
