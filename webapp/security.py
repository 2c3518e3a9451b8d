"""The web edge's protections: CSRF, same-origin writes, security headers, cookies, sign-in throttling.

CSRF: Flask-WTF's CSRFProtect, a token bound to the signed session and sent by the pages' scripts in
the X-CSRFToken header (gp.js GP.api, login.js; the token comes in the page's boot JSON). It is
checked on every unsafe request that carries a signed-in session; bearer-token clients (hotline
gateways, vision workers) send no cookies, so nothing can be forged with them and they are not asked.
A token, not only an Origin check, because a same-site page on another port is cross-origin yet
same-site (SameSite=Lax lets its requests carry the cookie) and old or privacy-hardened browsers may
drop Origin. On top, any unsafe request whose Origin header names another site is refused: that
covers sign-in itself, which has no session to bind a token to yet.
"""
import logging
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect
from prometheus_client import Counter
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from webapp.auth import SESSION_USER_KEY

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_KEY = "gridpatrol.csrf"
LOGIN_ENDPOINT = "auth.login"
# Counted in this process; Prometheus scrapes every web process (docs/deploy.md) and sums them.
LOGIN_THROTTLED = Counter("gridpatrol_login_throttled", "sign-in attempts refused with 429 by the throttle",
                          registry=None)


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure when configured always, or when this request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def content_security_policy(settings: Settings) -> dict[str, str]:
    """Scripts only from our own files (pages boot from JSON, never inline code); images also from the tile server."""
    images = ["'self'", "data:", "blob:"]
    tiles = urlsplit(settings.map.tile_url or "")
    if tiles.scheme and tiles.netloc:
        images.append(f"{tiles.scheme}://{tiles.netloc.replace('{s}', '*')}")
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        # Leaflet and ECharts write style attributes (tooltips, panes); styles cannot run code.
        "style-src": "'self' 'unsafe-inline'",
        "img-src": " ".join(images),
        "connect-src": "'self'",  # the API and the Socket.IO websocket on this origin
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def foreign_origin() -> str | None:
    """The Origin header when it names a site other than this one (None when absent or ours)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    return None if urlsplit(origin).netloc == request.host else origin


def guard_unsafe_request() -> Response | None:
    """Writes come from this site: no foreign Origin, and a CSRF token whenever a session is signed in."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    origin = foreign_origin()
    if origin is not None:
        return refused(f"cross-origin request refused (CSRF protection): {origin} is not this site")
    if session.get(SESSION_USER_KEY) is not None:
        current_app.extensions[CSRF_KEY].protect()
    return None


def refused(message: str) -> Response:
    response = jsonify({"code": 403, "status": "Forbidden", "message": message})
    response.status_code = 403
    return response


def failed_sign_in(response: Response) -> bool:
    """Only wrong passwords use up the allowance: people who sign in fine are never throttled."""
    return response.status_code == 401


def account_key() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"account:{str(username or '').strip().lower()}"


def throttled(limit: RequestLimit) -> None:
    LOGIN_THROTTLED.inc()
    log.warning("sign-in throttled: %s over %s (client %s)", limit.key, limit.limit, get_remote_address())


def register_security(app: Flask, settings: Settings) -> None:
    """Proxy headers, cookie flags, CSRF, security headers and the sign-in throttle, on `app`."""
    security = settings.security
    if security.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=security.proxy_hops, x_proto=security.proxy_hops)
    app.session_interface = SessionCookies()
    app.config.update(
        SESSION_COOKIE_SECURE=security.cookie_secure == "always",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=int(security.session_lifetime_h * 3600),
        # The cookie is signed and sent again when the session changes (sign-in, seen_at each SEEN_RESOLUTION_S), not
        # on every request: its lifetime counts from the sign-in anyway, and a phone's fix every 15 s needs no cookie.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_CHECK_DEFAULT=False,  # guard_unsafe_request decides (bearer clients are not asked)
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a console stays open all shift
    )
    csrf = CSRFProtect(app)
    app.extensions[CSRF_KEY] = csrf
    app.before_request(guard_unsafe_request)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        return refused(f"CSRF token missing or wrong ({error.description}); reload the page")

    Talisman(app, force_https=False, session_cookie_secure=False, frame_options="DENY",
             content_security_policy=content_security_policy(settings), referrer_policy="same-origin")
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.redis.url or "memory://",
                      key_prefix="gridpatrol:sign-in", headers_enabled=True, on_breach=throttled)
    per_account = limiter.limit(security.login.per_account, key_func=account_key, deduct_when=failed_sign_in)
    per_address = limiter.limit(security.login.per_address, deduct_when=failed_sign_in)
    app.view_functions[LOGIN_ENDPOINT] = per_address(per_account(app.view_functions[LOGIN_ENDPOINT]))
