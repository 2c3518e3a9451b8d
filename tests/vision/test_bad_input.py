"""Bad input to `vision analyze` and `vision worker`: one line on stderr naming the file and the problem, exit 2.

A truncated video is analysed as far as it goes, and the early end is reported the same way."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import av
import pytest
import redis
import yaml

from dispatch.streams import HEALTH_KEY
from tests.requirements import shared_path

ROOT = Path(__file__).resolve().parents[2]
CLIP = "data/media/cctv_street_no_parking_zone.mp4"
MODEL = "models/yolo11n_int8_openvino_model"
STREET_ZONES = ROOT / "config" / "zones" / "cctv_street_no_parking_zone.yaml"
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]


def run_vision(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vision", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "YOLO_OFFLINE": "1", **(env or {})})


def the_one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 2 and a single stderr line, no traceback: that line."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def write_zones(path: Path, zone: dict, *, source_id: str = "cctv_street") -> Path:
    path.write_text(yaml.safe_dump({"source_id": source_id, "zones": [zone]}), encoding="utf-8")
    return path


def truncated_copy(tmp_path: Path, share: float = 0.4) -> Path:
    """The street clip cut after `share` of its bytes, as a download or a copy that stopped would be."""
    data = shared_path(CLIP).read_bytes()
    path = tmp_path / "cut_short.mp4"
    path.write_bytes(data[: int(len(data) * share)])
    return path


def stated_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return container.streams.video[0].frames


BAD_MEDIA = {
    "non_video": (lambda tmp: _write(tmp / "notes.mp4", "minutes of the meeting\n"), "not a video file"),
    "empty_folder": (lambda tmp: _mkdir(tmp / "stills"), "no images"),
    "missing_file": (lambda tmp: tmp / "absent.mp4", "no such video file"),
}
BAD_ZONES = {
    "self_intersecting": ({"id": "kerb", "kind": "no_parking", "polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]},
                          "zones.0.polygon: Value error, polygon is not valid (Self-intersection"),
    "missing_field": ({"id": "kerb", "polygon": SQUARE}, "zones.0.kind: Field required"),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", sorted(BAD_MEDIA))
def test_analyze_refuses_bad_media_in_one_line(tmp_path: Path, case: str) -> None:
    make, problem = BAD_MEDIA[case]
    media = make(tmp_path)
    line = the_one_error_line(run_vision("analyze", str(media), "--out", str(tmp_path / "out")))
    assert line.startswith(f"error: {media}: ") and problem in line


@pytest.mark.parametrize("case", sorted(BAD_ZONES))
def test_analyze_refuses_a_bad_zone_file_in_one_line(tmp_path: Path, case: str) -> None:
    zone, problem = BAD_ZONES[case]
    zones = write_zones(tmp_path / "zones.yaml", zone)
    line = the_one_error_line(run_vision("analyze", str(shared_path(CLIP)), "--zones", str(zones),
                                         "--out", str(tmp_path / "out")))
    assert line.startswith(f"error: {zones}: ") and problem in line
    assert not (tmp_path / "out").exists()  # refused before anything was analysed


@pytest.mark.model
@pytest.mark.footage
def test_analyze_reads_a_truncated_file_as_far_as_it_goes_and_says_it_ended_early(tmp_path: Path) -> None:
    video = truncated_copy(tmp_path)
    done = run_vision("analyze", str(video), "--model", str(shared_path(MODEL)), "--zones", str(STREET_ZONES),
                      "--out", str(tmp_path / "out"))
    line = the_one_error_line(done)
    assert line.startswith(f"error: {video}: the file ended early: ")
    read, of_stated = line.split("ended early: ")[1].split(" frames read")[0].split(" of ")
    assert int(of_stated) == stated_frames(video) == stated_frames(shared_path(CLIP))
    assert 0 < int(read) < int(of_stated)
    # The frames it had were analysed and written.
    analysed = int(done.stdout.split(" frames analysed")[0].rsplit(" ", 1)[1])
    assert analysed > 0 and json.loads((tmp_path / "out" / "events.json").read_text(encoding="utf-8")) == []


def test_a_complete_file_does_not_end_early(tmp_path: Path) -> None:
    from vision.sources import VideoFileSource

    with VideoFileSource(shared_path(CLIP), source_id="x", analysis_fps=1) as source:
        while source.read() is not None:
            pass
        assert source.ended_early is None and source.frames_read == stated_frames(shared_path(CLIP))


def worker_env(tmp_path: Path, sources: list[dict], redis_url: str, stream_name: str) -> dict[str, str]:
    """Environment of a worker running `sources`, its reports on a stream of the test's own."""
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    (tmp_path / "worker.yaml").write_text(yaml.safe_dump({
        "worker": {"evidence_dir": str(tmp_path / "evidence")}, "redis": {"detections_stream": stream_name},
    }), encoding="utf-8")
    return {"REDIS_URL": redis_url, "GRIDPATROL_SOURCES": str(tmp_path / "sources.yaml"),
            "GRIDPATROL_CONFIG": str(tmp_path / "worker.yaml")}


def source(source_id: str, uri: Path, zones: Path, media: str = "file") -> dict:
    return {"id": source_id, "kind": "camera", "media": media, "uri": str(uri), "zones": str(zones),
            "model": str(shared_path(MODEL))}


@pytest.mark.model
@pytest.mark.parametrize("case", sorted(BAD_MEDIA))
def test_worker_refuses_bad_media_in_one_line(tmp_path: Path, case: str, redis_url: str, stream_name: str) -> None:
    make, problem = BAD_MEDIA[case]
    media = make(tmp_path)
    spec = source("cctv_street", media, STREET_ZONES, media="folder" if case == "empty_folder" else "file")
    line = the_one_error_line(run_vision("worker", env=worker_env(tmp_path, [spec], redis_url, stream_name)))
    assert line.startswith(f"error: {media}: ") and problem in line


@pytest.mark.parametrize("case", sorted(BAD_ZONES))
def test_worker_refuses_a_bad_zone_file_in_one_line(tmp_path: Path, case: str, redis_url: str,
                                                    stream_name: str) -> None:
    zone, problem = BAD_ZONES[case]
    zones = write_zones(tmp_path / "zones.yaml", zone)
    spec = source("cctv_street", shared_path(CLIP), zones)
    line = the_one_error_line(run_vision("worker", env=worker_env(tmp_path, [spec], redis_url, stream_name)))
    assert line.startswith(f"error: {zones}: ") and problem in line


def test_worker_refuses_a_bad_sources_file_in_one_line(tmp_path: Path, redis_url: str, stream_name: str) -> None:
    spec = source("cctv_street", shared_path(CLIP), STREET_ZONES) | {"analysis_fps": 0}
    env = worker_env(tmp_path, [spec], redis_url, stream_name)
    line = the_one_error_line(run_vision("worker", env=env))
    assert line.startswith(f"error: {env['GRIDPATROL_SOURCES']}: sources.0.analysis_fps: ")


@pytest.mark.model
@pytest.mark.footage
def test_worker_analyses_a_truncated_file_and_says_it_ended_early(tmp_path: Path, redis_url: str,
                                                                  stream_name: str) -> None:
    source_id = f"cut_{uuid.uuid4().hex[:12]}"  # its own health entry
    video = truncated_copy(tmp_path)
    zones = write_zones(tmp_path / "zones.yaml", yaml.safe_load(STREET_ZONES.read_text(encoding="utf-8"))["zones"][0],
                        source_id=source_id)
    done = run_vision("worker", env=worker_env(tmp_path, [source(source_id, video, zones)], redis_url, stream_name))
    line = the_one_error_line(done)
    assert line.startswith(f"error: {video}: the file ended early: ")
    assert f" of {stated_frames(video)} frames read" in line
    client = redis.Redis.from_url(redis_url)
    try:
        health = json.loads(client.hget(HEALTH_KEY, source_id))
        client.hdel(HEALTH_KEY, source_id)
    finally:
        client.close()
    assert health["ended"] is True and health["frames_read"] > 0 and "ended early" in health["last_error"]


def test_the_platform_runs_on_when_its_worker_has_a_bad_zone_file(tmp_path: Path, caplog) -> None:
    from tests.factories import make_settings
    from webapp.platform import build_platform
    from webapp.tasks import start_vision_worker

    zone, problem = BAD_ZONES["self_intersecting"]
    zones = write_zones(tmp_path / "zones.yaml", zone)
    sources = {"sources": [source("cctv_street", shared_path(CLIP), zones)]}
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    platform = build_platform(make_settings(f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path,
                                            worker={"sources_file": str(tmp_path / "sources.yaml")}))
    try:
        assert start_vision_worker(platform) is None
        assert f"vision worker not started: {zones}: " in caplog.text and problem in caplog.text
    finally:
        platform.engine.dispose()
