"""The web edge: REST API, live push and commands over the dispatch domain."""
import secrets

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

import config
from config import Settings
from webapp.api import register_api
from webapp.cli import register_cli
from webapp.errors import register_error_handlers
from webapp import metrics
from webapp.guards import register_guards
from webapp.extensions import socketio
from webapp.live import LIVE_KEY, POSITIONS_KEY, LivePush, PositionPush
from webapp.pages import register_pages
from webapp.platform import Platform, build_platform, init_app
from webapp.security import register_security


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ids fit the database's INTEGER column; a larger number is no such id (404)."""

    def __init__(self, url_map, **kwargs) -> None:
        super().__init__(url_map, max=2**31 - 1, **kwargs)


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """Build the app; tests pass their own settings (or a platform already built on them)."""
    settings = platform.settings if platform else settings or config.load()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.app.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.app.max_body_bytes,
        API_TITLE="GridPatrol 网格巡查调度平台",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.ensure_ascii = False
    app.url_map.converters["int"] = IdConverter
    platform = platform or build_platform(settings)
    init_app(app, platform)
    register_api(Api(app))
    register_error_handlers(app)
    register_guards(app)
    register_cli(app)
    register_pages(app)
    app.register_blueprint(metrics.blp)
    register_security(app, settings)
    # One Socket.IO extension per process: an earlier app's Redis client manager (tests build many apps) must not
    # carry over to an app without Redis.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=settings.redis.url, async_mode="threading")
    live = app.extensions[LIVE_KEY] = LivePush(platform.sessions)
    app.extensions[POSITIONS_KEY] = PositionPush(settings.patrol.push_batch_s)
    platform.bus.subscribe(live.push)
    platform.bus.on_reconnect(live.replay)
    return app
