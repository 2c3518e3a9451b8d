"""A vision worker killed with -9 mid-clip and started again: every event taken in once, none missing.

Event ids are stable per media time, so the restarted worker sends the same ids again; the platform's
intake is idempotent by event id, and the stream's consumer group acknowledges only after the commit.
"""
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from dispatch.case.models import Case
from dispatch.consumer import DetectionConsumer
from dispatch.streams import RedisDetectionStream
from dispatch.ticket.models import Ticket
from tests.factories import make_settings
from tests.requirements import shared_path
from webapp.deploy import Deployment
from webapp.platform import build_platform

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stream_name(redis_url: str):
    """A detections stream of this test's own: nothing else reads it."""
    name = f"gridpatrol:test-worker-crash:{time.time_ns()}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name)
    client.close()


def sources_file(tmp_path: Path) -> Path:
    sources = tmp_path / "sources.yaml"
    example = (ROOT / "config/examples/demo_cctv_sources.yaml").read_text(encoding="utf-8")
    sources.write_text(example.replace("../shared/data/media/cctv_street_no_parking_zone.mp4",
                                       str(shared_path("data/media/cctv_street_no_parking_zone.mp4")))
                              .replace("../shared/models/yolo11n_int8_openvino_model",
                                       str(shared_path("models/yolo11n_int8_openvino_model"))), encoding="utf-8")
    return sources


def logs(tmp_path: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace")[-3000:] for path in (tmp_path / "logs").glob("*"))


def test_worker_killed_mid_clip_and_restarted_gives_exactly_one_case(empty_postgres_url, redis_url, stream_name,
                                                                      tmp_path) -> None:
    sources = sources_file(tmp_path)
    (tmp_path / "worker.yaml").write_text(f"worker:\n  evidence_dir: {tmp_path / 'evidence'}\n"
                                          f"redis:\n  detections_stream: '{stream_name}'\n", encoding="utf-8")
    platform = build_platform(make_settings(empty_postgres_url, tmp_path / "platform"))
    stream = RedisDetectionStream(redis_url, stream=stream_name)
    consumer = DetectionConsumer(sessions=platform.sessions, ctx=platform.ctx, bus=platform.bus,
                                 store=platform.evidence, queue=stream, block_ms=200)
    stop = threading.Event()
    taking_in = threading.Thread(target=consumer.run, args=(stop,), name="consumer")  # takes in while the worker runs
    deployment = Deployment(database_url=empty_postgres_url, redis_url=redis_url,
                            config_file=str(tmp_path / "worker.yaml"), log_dir=tmp_path / "logs")
    worker = deployment.worker(str(sources), env={"YOLO_OFFLINE": "1"})
    probe = redis.Redis.from_url(redis_url)
    try:
        taking_in.start()
        deployment.start(worker)
        deadline = time.monotonic() + 90
        while probe.xlen(stream_name) == 0 and worker.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.alive(), "the worker ended before its first report:\n" + logs(tmp_path)
        assert probe.xlen(stream_name) > 0, "no report within 90 s"
        os.kill(worker.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        first_run = [json.loads(fields[b"json"]) for _, fields in probe.xrange(stream_name)]
        assert "end" not in {report["phase"] for report in first_run}  # killed mid-event, mid-clip

        deployment.start(worker)  # started again: it reads the clip from the start
        assert worker.process.wait(timeout=150) == 0, logs(tmp_path)
        deadline = time.monotonic() + 30
        while stream.backlog() != {"waiting": 0, "pending": 0} and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        taking_in.join(timeout=10)
        deployment.stop()
        probe.close()

    reader = redis.Redis.from_url(redis_url)
    reports = [json.loads(fields[b"json"]) for _, fields in reader.xrange(stream_name)]
    reader.close()
    event_ids = {report["event_id"] for report in reports if report.get("type") != "recheck"}
    assert {report["event_id"] for report in first_run} <= event_ids  # the second run named the same events
    with platform.sessions() as session:
        per_event = dict(session.execute(select(Ticket.external_id, func.count()).group_by(Ticket.external_id)).all())
        cases = session.scalars(select(Case)).all()
    assert per_event == {event_id: 1 for event_id in event_ids}  # each event taken in once, none missing
    assert len(cases) == 1 and cases[0].category == "0505"
    assert consumer.refused == []
    assert stream.backlog() == {"waiting": 0, "pending": 0}
    print(f"reports: first run {len(first_run)}, both runs {len(reports)}; events {sorted(event_ids)}")
    stream.close()
    platform.bus.stop()
    platform.engine.dispose()
