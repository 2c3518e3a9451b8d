"""Many sources on one machine: decoder threads, read-ahead feeds, motion gating, the worker's batches."""
import queue
import socket
from collections.abc import Iterator
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from config.sources import SourceConfig, load_sources
from config.vision import GateConfig, VisionConfig
from tests.requirements import shared_path
from vision.detections import Detections
from vision.feeds import Captured, SourceEnded, SourceFeed
from vision.gate import MotionGate
from vision.sources import SourceError, VideoFileSource, decoder_params
from vision.worker import VisionWorker

CCTV_STREET = "data/media/cctv_street_no_parking_zone.mp4"


def street(height: int = 90, width: int = 160) -> np.ndarray:
    """A textured still picture (noise is what a thumbnail difference sees)."""
    return np.random.default_rng(7).integers(0, 255, (height, width, 3), np.uint8)


# ---------------------------------------------------------------- the motion gate


def test_the_gate_lets_the_first_frame_and_every_change_through() -> None:
    gate = MotionGate(GateConfig(max_reuse=10))
    still = street()
    assert gate.changed(still)  # nothing to compare with: the model must run
    assert not gate.changed(still.copy())
    moved = still.copy()
    moved[20:60, 40:100] = 255 - moved[20:60, 40:100]  # a car drove into a quarter of the picture
    assert gate.changed(moved)
    assert not gate.changed(moved.copy())  # compared with the last frame the model ran on


def test_the_gate_runs_the_model_again_after_max_reuse_still_frames() -> None:
    gate = MotionGate(GateConfig(max_reuse=2))
    still = street()
    assert [gate.changed(still) for _ in range(7)] == [True, False, False, True, False, False, True]


def test_the_gate_ignores_changes_under_its_threshold_and_sees_slow_drift() -> None:
    """A few changed pixels are noise; small steps that add up against the reference frame are motion."""
    gate = MotionGate(GateConfig(thumbnail_width=160, max_changed=0.01, max_reuse=100))
    base = np.full((90, 160, 3), 100, np.uint8)
    assert gate.changed(base)
    speck = base.copy()
    speck[10:12, 10:12] = 255  # a bird: about 0.1 % of the thumbnail
    assert not gate.changed(speck)
    drifting = base.copy()
    for column in range(20, 60, 8):  # a car creeping in, 8 px a frame
        drifting[30:60, column : column + 8] = 250
        if gate.changed(drifting):
            break
    else:
        pytest.fail("the creeping car was never seen as motion")


def test_a_gated_pipeline_reuses_detections_only_on_unchanged_frames(vision_config: VisionConfig) -> None:
    from vision.pipeline import Pipeline
    from vision.sources import Frame

    class CountingDetector:
        calls = 0

        def detect(self, image: np.ndarray) -> Detections:
            self.calls += 1
            return Detections(xyxy=np.array([[10, 10, 40, 40]], np.float32), confidence=np.array([0.9], np.float32),
                              class_id=np.array([2]), kind=np.array(["vehicle"]), track_id=np.array([-1]))

    detector = CountingDetector()
    pipeline = Pipeline(source_id="cam", detector=detector, zones=[], config=vision_config,  # type: ignore[arg-type]
                        gate=MotionGate(GateConfig(max_reuse=5)))
    still, other = street(), street() // 2
    for index, image in enumerate([still, still, still, other, other]):
        pipeline.process(Frame(image=image, timestamp_s=index / 2, index=index, source_id="cam"))
    assert detector.calls == 2 and pipeline.report.frames_reused == 3
    assert pipeline.report.frames_analysed == 5


# ---------------------------------------------------------------- decoding


def test_decoder_threads_must_not_be_negative() -> None:
    assert decoder_params(0) == []
    with pytest.raises(ValueError, match="decoder_threads"):
        decoder_params(-1)


@pytest.mark.footage
def test_one_decoder_thread_decodes_the_same_frames_as_ffmpegs_choice() -> None:
    clip = shared_path(CCTV_STREET)
    sources = [VideoFileSource(clip, source_id="cam", analysis_fps=2, decoder_threads=n) for n in (0, 1)]
    with sources[0], sources[1]:
        for _ in range(12):
            a, b = sources[0].read(), sources[1].read()
            assert a is not None and b is not None and a.index == b.index
            np.testing.assert_array_equal(a.image, b.image)


@pytest.mark.footage
def test_a_feed_reads_its_source_ahead_to_the_end() -> None:
    clip = shared_path(CCTV_STREET)
    expected = []
    with VideoFileSource(clip, source_id="cam", analysis_fps=2) as source:
        while (frame := source.read()) is not None:
            expected.append(frame.index)
    out: queue.Queue = queue.Queue(maxsize=2)
    feed = SourceFeed(VideoFileSource(clip, source_id="cam", analysis_fps=2), out, drop_when_full=False).start()
    items = []
    while not isinstance(item := out.get(timeout=30), SourceEnded):
        assert isinstance(item, Captured)
        items.append(item.frame.index)
    feed.close()
    assert items == expected and feed.stats.frames == len(expected) and feed.stats.dropped == 0


@pytest.mark.footage
def test_closing_a_feed_stops_a_reader_waiting_for_room() -> None:
    out: queue.Queue = queue.Queue(maxsize=1)
    source = VideoFileSource(shared_path(CCTV_STREET), source_id="cam", analysis_fps=2)
    feed = SourceFeed(source, out, drop_when_full=False).start()
    out.get(timeout=30)
    out.get(timeout=30)  # the reader is a frame ahead and now waits for room again
    feed.close(timeout_s=5)
    assert not feed._thread.is_alive()
    assert source.read() is None  # released


@pytest.mark.footage
def test_a_live_feed_drops_frames_it_has_no_room_for() -> None:
    out: queue.Queue = queue.Queue(maxsize=1)
    feed = SourceFeed(VideoFileSource(shared_path(CCTV_STREET), source_id="cam", analysis_fps=2), out,
                      drop_when_full=True).start()
    deadline = time.monotonic() + 30
    while feed.stats.frames < 41 and time.monotonic() < deadline:  # nobody takes frames: all read, most dropped
        time.sleep(0.05)
    first = out.get(timeout=5)
    assert isinstance(first, Captured) and first.frame.index == 0
    assert isinstance(out.get(timeout=5), SourceEnded)  # the end waits for room: it is never dropped
    assert feed.stats.frames == 41 and feed.stats.dropped == 40
    feed.close()


# ---------------------------------------------------------------- the worker


class RecordingDetector:
    """The real detector, recording how many images each call carried."""

    def __init__(self, detector) -> None:
        self.detector, self.batches = detector, []

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray]) -> list[Detections]:
        return list(self.detect_iter(images))

    def detect_iter(self, images: list[np.ndarray]) -> Iterator[Detections]:
        self.batches.append(len(images))
        yield from self.detector.detect_iter(images)


@pytest.mark.model
@pytest.mark.footage
def test_the_worker_sends_sources_sharing_a_model_through_it_together(
    vision_config: VisionConfig, tmp_path: Path
) -> None:
    """Two street cameras on one model: their frames go through it in one call a step, and each camera's
    events are those of a worker running it alone."""
    from vision.fast.detector import OpenVinoDetector

    clip = str(shared_path(CCTV_STREET))
    example = load_sources(Path("config/examples/demo_cctv_sources.yaml")).sources[0]
    camera = example.model_copy(update={"uri": clip, "model": None})
    twin = camera.model_copy(update={"id": "cctv_street_twin"})
    zones = tmp_path / "twin.yaml"
    zones.write_text(Path(camera.zones).read_text(encoding="utf-8").replace(
        f"source_id: {camera.id}", "source_id: cctv_street_twin"), encoding="utf-8")
    twin = twin.model_copy(update={"zones": str(zones)})
    fast = RecordingDetector(OpenVinoDetector(vision_config.detector))

    def events(sources: list[SourceConfig]) -> list[dict]:
        reports: list[dict] = []
        worker = VisionWorker(sources=sources, vision=vision_config, send=reports.append, evidence_dir=tmp_path / "ev",
                              detectors={vision_config.detector.model: fast})  # type: ignore[dict-item]
        worker.run(threading.Event())
        return [(r["source_id"], r["phase"], r["event"]["started_at_s"]) for r in reports]

    alone = events([camera])
    runs_alone = sum(fast.batches)
    fast.batches.clear()
    together = events([camera, twin])
    assert [e for e in together if e[0] == camera.id] == alone
    assert [(camera.id, *e[1:]) for e in together if e[0] == twin.id] == alone
    assert max(fast.batches) == 2 and sum(fast.batches) == 2 * runs_alone  # both cameras' frames in one call
    assert runs_alone < 41  # the gate skipped frames in which nothing moved (41 analysed)


@pytest.mark.model
@pytest.mark.footage
def test_a_camera_that_never_answers_does_not_hold_up_the_others(vision_config: VisionConfig, tmp_path: Path) -> None:
    """A street camera whose stream cannot be opened (it keeps retrying) beside the street clip: the clip is
    analysed to its end and its parking event reported."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    example = load_sources(Path("config/examples/demo_cctv_sources.yaml")).sources[0]
    clip = example.model_copy(update={"uri": str(shared_path(CCTV_STREET)), "model": None})
    zones = tmp_path / "dead.yaml"
    zones.write_text(Path(clip.zones).read_text(encoding="utf-8").replace(
        f"source_id: {clip.id}", "source_id: dead_camera"), encoding="utf-8")
    dead = clip.model_copy(update={"id": "dead_camera", "media": "stream", "zones": str(zones),
                                   "uri": f"http://127.0.0.1:{dead_port}/video.mjpg"})
    reports: list[dict] = []
    worker = VisionWorker(sources=[dead, clip], vision=vision_config, send=reports.append, evidence_dir=tmp_path)
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    deadline = time.monotonic() + 120
    while not worker.runs[1].ended and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    runner.join(30)
    assert worker.runs[1].ended, "the clip was held up by the dead camera"
    assert not runner.is_alive()
    assert [r["phase"] for r in reports if r["source_id"] == clip.id][:1] == ["start"]
    assert worker.runs[0].source.health.connected is False and worker.runs[0].source.health.frames_read == 0


@pytest.mark.model
def test_a_source_failing_in_its_reading_thread_fails_the_worker_naming_it(
    vision_config: VisionConfig, tmp_path: Path
) -> None:
    """An unreadable still in a drone's folder: the error surfaces from run(), naming the source and the file."""
    import cv2

    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "0001.jpg"), street(360, 640))
    (folder / "0002.jpg").write_bytes(b"not a jpeg")
    example = load_sources(Path("config/examples/demo_cctv_sources.yaml")).sources[0]
    stills = example.model_copy(update={"media": "folder", "uri": str(folder), "model": None, "homography": None})
    worker = VisionWorker(sources=[stills], vision=vision_config, send=lambda report: None, evidence_dir=tmp_path)
    with pytest.raises(SourceError, match=r"cctv_street.*0002\.jpg"):
        worker.run(threading.Event())
    assert all(not run.feed._thread.is_alive() for run in worker.runs)
