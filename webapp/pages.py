"""The browser pages: sign-in, dispatcher console, squad map, statistics, officers' task list, vendor files.

Pages only render shells; their scripts read and act through the REST API and Socket.IO, so
every rule (roles, squads, masking) is enforced once, by the API. Pages check roles the same way
so nobody sees a shell they could not fill.
"""
import datetime as dt
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from flask import (Blueprint, Flask, Response, abort, current_app, g, redirect, render_template, request, send_file,
                   url_for)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from dispatch.account.enums import Role
from dispatch.account.policy import Principal, visible_squad
from dispatch.case.models import CaseEvent
from dispatch.squad.service import list_squads
from grid.basemap import ATTRIBUTION as BASEMAP_ATTRIBUTION
from grid.basemap import summarise as summarise_basemap
from webapp.auth import current_principal
from webapp.i18n import LANG_COOKIE, LANGUAGES, messages, pick_language, translate
from webapp.platform import current_platform, db_session

# Templates and static files are the app's own (webapp/templates, webapp/static at /static).
bp = Blueprint("pages", __name__)

NODE_MODULES_KEY = "GRIDPATROL_NODE_MODULES"
LANG_COOKIE_AGE_S = 365 * 24 * 3600

# URL under /vendor/ → file under node_modules/. Nothing else in node_modules is served.
VENDOR_FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
    "socket.io/socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "protomaps-leaflet/protomaps-leaflet.js": "protomaps-leaflet/dist/protomaps-leaflet.js",
    "exifr/lite.umd.js": "exifr/dist/lite.umd.js",
}

HOME_OF_ROLE = {
    Role.ADMIN: "pages.console",
    Role.DISPATCHER: "pages.console",
    Role.SQUAD_LEADER: "pages.squad_map",
    Role.OFFICER: "pages.tasks",
}
CENTRE = (Role.ADMIN, Role.DISPATCHER)


def register_pages(app: Flask) -> None:
    app.config.setdefault(NODE_MODULES_KEY, str(Path(app.root_path).parent / "node_modules"))
    app.register_blueprint(bp)


def language() -> str:
    if "language" not in g:
        g.language = pick_language(current_platform().settings.app.language)
    return g.language


@bp.app_context_processor
def page_words() -> dict:
    return {"t": lambda key, **values: translate(language(), key, **values), "lang": language(),
            "switch_language_url": switch_language_url}


def switch_language_url() -> str:
    """This page in the other language, its other query arguments kept."""
    other = LANGUAGES[1] if language() == LANGUAGES[0] else LANGUAGES[0]
    args = {key: value for key, value in request.args.items() if key != "lang"}
    return f"{request.path}?{urlencode({**args, 'lang': other})}"


@bp.after_app_request
def remember_language(response: Response) -> Response:
    """`?lang=xx` on any page sticks for the following pages."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.blueprint == "pages":
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_AGE_S, samesite="Lax", httponly=True)
    return response


def page(*roles: Role) -> Callable:
    """Signed-in people only (strangers go to the sign-in page); with `roles`, only those."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args: object, **kwargs: object) -> ResponseReturnValue:
            who = current_principal()
            if who is None or who.role is None:
                return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
            if roles and who.role not in roles:
                return forbidden()
            return view(who, *args, **kwargs)

        return checked

    return decorator


def forbidden() -> ResponseReturnValue:
    return render_template("error.html", message=translate(language(), "error.forbidden")), 403


def chosen_squad(who: Principal) -> str | None:
    """The squad a page shows: a squad member's own (another one is refused), or the centre's `?squad=`."""
    asked = request.args.get("squad") or None
    own = visible_squad(who)
    if own is not None:
        if asked not in (None, own):
            abort(403)
        return own
    return asked


def last_event_id() -> int:
    """The newest timeline row now: the page's data is at least this fresh, live catch-up starts after it."""
    return db_session().scalar(select(func.max(CaseEvent.id))) or 0


def zone_offset(zone: str) -> str:
    """The zone's UTC offset now, e.g. "+08:00" (a phone photo's EXIF time without its own offset is read in it)."""
    offset = dt.datetime.now(ZoneInfo(zone)).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def boot(who: Principal, **extra: object) -> dict:
    """What every page script starts from (read from a JSON script tag, never inline code)."""
    settings = current_platform().settings
    return {
        "lang": language(),
        "messages": messages(language()),
        "me": {"name": who.name, "role": who.role.value, "squad_code": who.squad_code},
        "map": {**settings.map.model_dump(exclude={"basemap"}), "basemap": basemap_boot()},
        "photo": {"long_edge_px": settings.app.photo_long_edge_px, "quality": settings.app.photo_quality},
        "patrol": {"position_interval_s": settings.patrol.position_interval_s, "max_batch": settings.patrol.max_batch},
        "timezone": settings.calendar.timezone,
        "timezone_offset": zone_offset(settings.calendar.timezone),
        "city": settings.city.name,
        "last_event_id": last_event_id(),
        "csrf_token": generate_csrf(),
        "squads": [{"code": s["code"], "name": s["name"]} for s in list_squads(session=db_session())],
        **extra,
    }


def basemap_path() -> Path | None:
    """The offline base map's file when the pages should draw it: no intranet tile server set, and the file built."""
    settings = current_platform().settings
    path = settings.path(settings.map.basemap.file)
    return path if settings.map.tile_url is None and path.is_file() else None


def basemap_boot() -> dict | None:
    """Where the pages fetch the base map from and how deep its tiles go (they magnify the deepest level)."""
    path = basemap_path()
    if path is None:
        return None
    summary = summarise_basemap(path)
    return {"url": url_for("pages.basemap"), "max_data_zoom": summary.max_zoom, "bounds": summary.bounds,
            "attribution": BASEMAP_ATTRIBUTION}


def render_page(template: str, who: Principal, **extra: object) -> str:
    return render_template(template, me=who, boot=boot(who, **extra), nav=navigation(who))


def navigation(who: Principal) -> list[tuple[str, str]]:
    """(endpoint, label key) of the pages this role may open."""
    items = [("pages.console", "nav.console")] if who.role in CENTRE else []
    items.append(("pages.squad_map", "nav.map"))
    if who.role is not Role.OFFICER:
        items.append(("pages.roster", "nav.roster"))
    items.append(("pages.stats", "nav.stats"))
    if who.role is not Role.DISPATCHER:
        items.append(("pages.tasks", "nav.tasks"))
    return items


@bp.errorhandler(403)
def refused(_error: Exception) -> ResponseReturnValue:
    return forbidden()


@bp.route("/")
def home() -> ResponseReturnValue:
    who = current_principal()
    if who is None or who.role is None:
        return redirect(url_for("pages.login"))
    return redirect(url_for(HOME_OF_ROLE[who.role]))


def same_site_path(target: str) -> str:
    """`target` if it is a path on this site, else "/": no open redirect after sign-in.

    Browsers read a backslash as a slash and drop tabs and newlines, so `/\\evil.example` or
    `/<tab>/evil.example` would leave the site: any of those, a scheme or a host means "/".
    """
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or "\\" in target or parts.scheme or parts.netloc
            or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)):
        return "/"
    return target


@bp.route("/login")
def login() -> str:
    boot = {"lang": language(), "messages": messages(language()), "csrf_token": generate_csrf()}
    return render_template("login.html", next_url=same_site_path(request.args.get("next", "")), boot=boot,
                           city=current_platform().settings.city.name)


@bp.route("/console")
@page(*CENTRE)
def console(who: Principal) -> str:
    return render_page("console.html", who, import_profiles=list(current_platform().settings.hotline.profiles))


@bp.route("/map")
@page()
def squad_map(who: Principal) -> str:
    return render_page("map.html", who, squad=chosen_squad(who))


@bp.route("/stats")
@page()
def stats(who: Principal) -> str:
    return render_page("stats.html", who, squad=visible_squad(who))


@bp.route("/roster")
@page(Role.ADMIN, Role.DISPATCHER, Role.SQUAD_LEADER)
def roster(who: Principal) -> str:
    """A squad's roster: a leader's own; the centre's `?squad=`, else the first squad."""
    squad = chosen_squad(who) or next((s["code"] for s in list_squads(session=db_session())), None)
    return render_page("roster.html", who, squad=squad)


@bp.route("/tasks")
@page(Role.ADMIN, Role.SQUAD_LEADER, Role.OFFICER)
def tasks(who: Principal) -> str:
    return render_page("tasks.html", who, squad=chosen_squad(who))


@bp.route("/vendor/<path:name>")
def vendor(name: str) -> Response:
    """Browser libraries from node_modules, whitelisted: intranets have no CDN."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = Path(current_app.config[NODE_MODULES_KEY]) / relative
    if not path.is_file():
        text = translate(language(), "error.vendor_missing", path=relative)
        return Response(text + "\n", status=500, mimetype="text/plain")
    return send_file(path, max_age=3600)


@bp.route("/basemap.pmtiles")
def basemap() -> ResponseReturnValue:
    """The offline base map for signed-in pages, in HTTP range requests (the pages read only the tiles in view)."""
    who = current_principal()
    if who is None or who.role is None:
        return Response("sign in first\n", status=401, mimetype="text/plain")
    path = basemap_path()
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/octet-stream", conditional=True, etag=True, max_age=3600)
