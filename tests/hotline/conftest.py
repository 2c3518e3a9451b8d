"""Hotline helpers: signed pushes, the case loop run to its close, a real server on loopback."""
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from dispatch.address.demo import demo_addresses
from dispatch.address.service import store_addresses
from dispatch.case.enums import CaseAction
from dispatch.case.events import commit_and_publish
from dispatch.case.service import get_case
from dispatch.case.transitions import transition
from dispatch.db import utcnow
from grid.crs import CoordSys
from tests.factories import add_site_photo, make_settings
from webapp import create_app
from webapp.platform import Platform

SECRET = "test-hotline-secret"
_last_push = [0]  # timestamp of the last push signed
CLOSE_LOOP = [(CaseAction.REGISTER, {}), (CaseAction.DISPATCH, {}), (CaseAction.ACCEPT, {}),
              (CaseAction.HANDLE, {"result": "persuaded"}), (CaseAction.VERIFY, {}), (CaseAction.CLOSE, {})]


def signed(body: bytes, path: str, *, secret: str = SECRET, timestamp: int | None = None,
           method: str = "POST") -> dict[str, str]:
    """The hotline's headers: a timestamp and the HMAC-SHA256 of method, path, timestamp and body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    message = f"{method}\n{path}\n{timestamp}\n".encode() + body
    return {"X-Hotline-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
            "X-Hotline-Timestamp": str(timestamp), "Content-Type": "application/json"}


def push(client, orders, *, profile: str = "12345", secret: str = SECRET):
    body = json.dumps(orders, ensure_ascii=False).encode()
    path = f"/api/hotline/work-orders/{profile}"
    # A gateway signs every push anew; a second apart at least, so that no two pushes share a signature.
    timestamp = _last_push[0] = max(int(time.time()), _last_push[0] + 1)
    return client.post(path, data=body, headers=signed(body, path, secret=secret, timestamp=timestamp))


def run_loop(platform: Platform, case_id: int, steps=CLOSE_LOOP) -> None:
    """Move a case through `steps` as the services do it, one committed transaction per step."""
    for action, extra in steps:
        with platform.sessions() as session:
            case = get_case(session=session, case_id=case_id, for_update=True)
            if action is CaseAction.HANDLE:
                add_site_photo(session, case_id)
            transition(session=session, case=case, action=action, actor="test", now=utcnow(),
                       calendar=platform.ctx.calendar, categories=platform.ctx.categories, **extra)
            commit_and_publish(session, platform.bus)


def load_demo_addresses(platform: Platform) -> None:
    with platform.sessions() as session:
        store_addresses(session=session, rows=demo_addresses(), crs=CoordSys.WGS84,
                        config=platform.settings.hotline.address)
        session.commit()


@pytest.fixture
def hotline_platform(platform: Platform) -> Platform:
    """The platform with a push secret and the demo standard addresses."""
    hotline = platform.settings.hotline.model_copy(update={"secret": SECRET})
    settings = platform.settings.model_copy(update={"hotline": hotline})
    platform.settings = settings
    load_demo_addresses(platform)
    return platform


@pytest.fixture
def hotline_client(hotline_platform: Platform, client):
    return client


def serve_in_thread(app: Flask) -> Iterator[str]:
    """`app` served by werkzeug on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Callable[..., Flask]:
    """sqlite_app(**overrides): an app on its own SQLite file with the demo city (a server thread needs its own)."""

    def build(**overrides) -> Flask:
        settings = make_settings(f"sqlite:///{tmp_path / 'hotline.sqlite3'}", tmp_path, **overrides)
        return create_app(settings)

    return build
