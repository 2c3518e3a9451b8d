"""A worker in its own process hands its reports to the platform through a Redis Stream."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from dispatch.case.models import Case
from dispatch.consumer import DetectionConsumer
from dispatch.streams import HEALTH_KEY, RedisDetectionStream
from tests.factories import make_settings
from tests.requirements import REDIS_TEST_URL, shared_path
from webapp.platform import build_platform
from webapp.tasks import start_vision_worker

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_worker_process_reports_through_redis(platform, stream_name, tmp_path) -> None:
    sources = tmp_path / "sources.yaml"
    example = (ROOT / "config/examples/demo_cctv_sources.yaml").read_text(encoding="utf-8")
    sources.write_text(example.replace("../shared/data/media/cctv_street_no_parking_zone.mp4",
                                       str(shared_path("data/media/cctv_street_no_parking_zone.mp4")))
                              .replace("../shared/models/yolo11n_int8_openvino_model",
                                       str(shared_path("models/yolo11n_int8_openvino_model"))), encoding="utf-8")
    env = {**os.environ, "REDIS_URL": REDIS_TEST_URL, "GRIDPATROL_SOURCES": str(sources), "YOLO_OFFLINE": "1",
           "GRIDPATROL_CONFIG": str(tmp_path / "worker.yaml")}
    (tmp_path / "worker.yaml").write_text(f"worker:\n  evidence_dir: {tmp_path / 'evidence'}\n"
                                          f"redis:\n  detections_stream: '{stream_name}'\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "vision", "worker"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 source(s)" in done.stdout

    stream = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name)
    consumer = DetectionConsumer(sessions=platform.sessions, ctx=platform.ctx, bus=platform.bus,
                                 store=platform.evidence, queue=stream, block_ms=100)
    while consumer.poll():
        pass
    with platform.sessions() as session:
        cases = session.scalars(select(Case)).all()
        evidence = cases[0].tickets[0].evidence if cases else []
        photos = [item for item in evidence if not (item.caption or "").startswith("frame")]
        assert len(cases) == 1 and cases[0].category == "0505" and len(photos) == 2  # two photos, and the clean frame
        assert len(evidence) == 3
    assert stream.backlog() == {"waiting": 0, "pending": 0}
    health = json.loads(redis.Redis.from_url(REDIS_TEST_URL).hget(HEALTH_KEY, "cctv_street"))
    assert health["frames_read"] >= 40 and health["ended"] is True
    stream.close()


def test_worker_without_redis_says_what_to_do(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run([sys.executable, "-m", "vision", "worker"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "REDIS_URL" in done.stderr


def test_worker_with_a_missing_model_says_so(tmp_path) -> None:
    sources = tmp_path / "sources.yaml"
    example = (ROOT / "config/examples/demo_cctv_sources.yaml").read_text(encoding="utf-8")
    sources.write_text(example.replace("../shared/models/yolo11n_int8_openvino_model", str(tmp_path / "no_model")),
                       encoding="utf-8")
    env = {**os.environ, "REDIS_URL": REDIS_TEST_URL, "GRIDPATROL_SOURCES": str(sources), "YOLO_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "vision", "worker"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "no_model" in done.stderr


def test_platform_runs_on_when_its_worker_has_no_model(tmp_path, caplog) -> None:
    sources = tmp_path / "sources.yaml"
    example = (ROOT / "config/examples/demo_cctv_sources.yaml").read_text(encoding="utf-8")
    sources.write_text(example.replace("../shared/models/yolo11n_int8_openvino_model", str(tmp_path / "no_model")),
                       encoding="utf-8")
    platform = build_platform(make_settings(f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path,
                                            worker={"sources_file": str(sources)}))
    assert start_vision_worker(platform) is None
    assert "vision worker not started" in caplog.text and "no_model" in caplog.text
    platform.engine.dispose()
