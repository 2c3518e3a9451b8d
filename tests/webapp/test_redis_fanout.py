"""With Redis, a case event committed in another process reaches a dashboard connected to the web process."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from dispatch.case.events import commit_and_publish
from dispatch.intake import submit_ticket
from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_in
from webapp.platform import build_platform

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]



@pytest.fixture
def web_process(empty_postgres_url, redis_url, stream_name, tmp_path):
    """A real `serve` process on its own PostgreSQL database and Redis, with the demo city and its accounts."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": empty_postgres_url, "REDIS_URL": redis_url, "GRIDPATROL_SECRET_KEY": "fanout-test",
           "GRIDPATROL_CONFIG": str(tmp_path / "city.yaml")}
    # A channel of its own: pub/sub channels are shared by every Redis database number.
    (tmp_path / "city.yaml").write_text(f"app:\n  instance_dir: {tmp_path}\nredis:\n  events_channel: '{stream_name}'\n",
                                        encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/api/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.3)
        else:
            pytest.fail("the web process did not start")
        yield base, json.loads((tmp_path / "demo-credentials.json").read_text(encoding="utf-8"))
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def test_event_from_a_second_process_reaches_a_client_of_the_first(web_process, empty_postgres_url, redis_url,
                                                                   stream_name, tmp_path):
    base, credentials = web_process
    http = requests.Session()
    password = credentials["users"]["dispatcher"]["password"]
    assert http.post(f"{base}/api/auth/login", json={"username": "dispatcher", "password": password}).ok
    received: list[dict] = []
    client = socketio.Client()
    client.on("case_event", received.append)
    client.connect(base, headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies)},
                   transports=["websocket"], wait_timeout=10)
    try:
        # This test process is the "second process": it commits a case and publishes on Redis.
        other = build_platform(make_settings(empty_postgres_url, tmp_path / "other",
                                             redis={"url": redis_url, "events_channel": stream_name}))
        with other.sessions() as session:
            lon, lat = DEMO_CENTRE_WGS84
            result = submit_ticket(session=session, ctx=other.ctx, ticket_in=ticket_in(lon=lon, lat=lat), raw={},
                                   actor="second-process")
            commit_and_publish(session, other.bus)
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(m["kind"], m["case"]["id"]) for m in received] == [("created", result.case.id)]
        other.bus.stop()
        other.engine.dispose()
    finally:
        client.disconnect()
