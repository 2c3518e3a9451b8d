"""Closure replies against a real HTTP server on loopback: retried with back-off until it answers, sent once."""
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.hotline.enums import ReplyStatus
from dispatch.hotline.models import HotlineReply
from dispatch.hotline.replies import send_due_replies
from tests.hotline.conftest import SECRET, push, run_loop


class Hotline:
    """A hotline's reply endpoint that fails its first `failures` calls with 503."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[dict] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hotline = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = len(hotline.calls) >= hotline.failures
                hotline.calls.append({"body": json.loads(body), "key": self.headers["Idempotency-Key"], "ok": ok,
                                      "signature": self.headers["X-Hotline-Signature"], "raw": body})
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(b'{"code": 0}' if ok else b"busy")

            def log_message(self, *_args) -> None:
                pass

        return Handler


@pytest.fixture
def hotline_server() -> Iterator[tuple[Hotline, str]]:
    hotline = Hotline(failures=2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), hotline.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hotline, f"http://127.0.0.1:{server.server_port}/reply"
    server.shutdown()
    server.server_close()
    thread.join(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_webhook(platform, url: str):
    replies = platform.settings.hotline.replies.model_copy(update={"webhook_url": url, "timeout_s": 5})
    return platform.settings.hotline.model_copy(update={"replies": replies})


def test_a_reply_is_retried_until_the_hotline_answers_and_never_sent_twice(
    hotline_client, hotline_platform, hotline_server
) -> None:
    hotline, url = hotline_server
    order = {"工单编号": "RP-1", "诉求内容": "店门口摆摊，店外经营", "诉求地址": "新华路2号", "诉求类型": "店外经营"}
    case_id = push(hotline_client, order).json["rows"][0]["case_id"]
    run_loop(hotline_platform, case_id)
    with hotline_platform.sessions() as session:
        reply = session.scalars(select(HotlineReply).where(HotlineReply.case_id == case_id)).one()
        now = reply.next_attempt_at
        down = with_webhook(hotline_platform, f"http://127.0.0.1:{free_port()}/reply")  # nobody listens yet
        assert send_due_replies(session=session, config=down, now=now) == {"sent": 0, "retry": 1, "failed": 0}
        assert "ConnectionError" in reply.last_error

        config = with_webhook(hotline_platform, url)
        schedule = []
        for _ in range(15):  # wake every 20 s for 5 min; back-off (30, 60, 120 s) decides which rounds try
            now += dt.timedelta(seconds=20)
            schedule.append(send_due_replies(session=session, config=config, now=now)["sent"])
        session.refresh(reply)
        assert reply.status == ReplyStatus.SENT.value and reply.attempts == 4
        assert sum(schedule) == 1
        later = send_due_replies(session=session, config=config, now=now + dt.timedelta(days=1))
        assert later == {"sent": 0, "retry": 0, "failed": 0}

    assert [call["ok"] for call in hotline.calls] == [False, False, True]  # tries 2, 3 failed; 4 got through
    assert {call["key"] for call in hotline.calls} == {reply.idempotency_key}
    body = hotline.calls[-1]["body"]
    assert body["工单编号"] == "RP-1" and body["办理结果"] == "persuaded" and body["办理情况"] == "已劝离/教育整改"
    assert body["承办单位"].endswith("执法中队") and body["案件编号"] == case_id
    expected = hmac.new(SECRET.encode(), hotline.calls[-1]["raw"], hashlib.sha256).hexdigest()
    assert hotline.calls[-1]["signature"] == expected
    assert hotline_client.get("/api/hotline/replies?status=sent").json[0]["idempotency_key"] == reply.idempotency_key


def test_one_closure_cannot_hold_two_replies(hotline_client, hotline_platform) -> None:
    case_id = push(hotline_client, {"工单编号": "RP-2", "诉求内容": "有人摆摊", "诉求地址": "新华路4号"}).json["rows"][0]["case_id"]
    run_loop(hotline_platform, case_id)
    with hotline_platform.sessions() as session:
        reply = session.scalars(select(HotlineReply).where(HotlineReply.case_id == case_id)).one()
        twin = HotlineReply(**{column: getattr(reply, column) for column in HotlineReply.__table__.columns.keys()
                               if column != "id"})
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.flush()


def test_a_reply_gives_up_after_the_configured_tries(hotline_client, hotline_platform) -> None:
    case_id = push(hotline_client, {"工单编号": "RP-3", "诉求内容": "有人摆摊", "诉求地址": "新华路6号"}).json["rows"][0]["case_id"]
    run_loop(hotline_platform, case_id)
    config = with_webhook(hotline_platform, f"http://127.0.0.1:{free_port()}/reply")
    config = config.model_copy(update={"replies": config.replies.model_copy(update={"max_attempts": 2})})
    with hotline_platform.sessions() as session:
        now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
        assert send_due_replies(session=session, config=config, now=now)["retry"] == 1
        assert send_due_replies(session=session, config=config, now=now + dt.timedelta(hours=1))["failed"] == 1
    failed = hotline_client.get("/api/hotline/replies?status=failed").json
    assert [r["payload"]["external_id"] for r in failed] == ["RP-3"] and failed[0]["attempts"] == 2
