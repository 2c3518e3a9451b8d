"""Frames analysed per core: the plain Ultralytics recipe against GridPatrol's pipeline on the fast detector.

    .venv/bin/python -m bench.vision_bench                 # both pipelines, same frames, same violations check
    .venv/bin/python -m bench.vision_bench --minutes 10    # and then a memory-flatness run on looping sources

Writes bench/results/vision_<date>.json; exits 1 when the two pipelines do not report the same violations.
"""
import os

os.environ.setdefault("YOLO_OFFLINE", "1")  # before ultralytics is imported: explicit model paths only

import argparse
import datetime as dt
import json
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psutil
import yaml

from config.sources import SourceConfig
from config.vision import InputShape, RuntimeConfig, StreamsConfig, VisionConfig, ZoneConfig, load_vision_config, load_zones
from vision.detections import Detections
from vision.events import ViolationEvent
from vision.fast.detector import OpenVinoDetector, StageTimes
from vision.pipeline import Pipeline
from vision.sources import Frame, FrameSource, VideoFileSource, open_source
from vision.tracking import Tracker
from vision.worker import OpenSource, VisionWorker
from vision.zones import Zone

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GRIDPATROL_SHARED", REPO.parent / "shared"))
MODEL = "models/yolo11n_int8_openvino_model"
RESULTS = REPO / "bench" / "results"
VECTOR_FLAG_PREFIXES = ("avx", "amx", "sse4")  # the instruction sets OpenVINO's CPU kernels choose among


@dataclass(frozen=True)
class Stream:
    id: str
    kind: str  # camera or drone, as a source's kind: the worker motion-gates fixed cameras only
    clip: Path
    zones: list[ZoneConfig]
    input_shape: InputShape | None = None  # as the source's input_shape: None = the runtime's setting


# (source id, kind, input shape, clip under ../shared, zones file): a street camera, an oblique drone view, a
# motorway camera. Street cameras see large objects: rect input (640x384); the drone's small cars need the square.
CLIPS = (
    ("cctv_street", "camera", "rect", "data/media/cctv_street_no_parking_zone.mp4",
     "config/zones/cctv_street_no_parking_zone.yaml"),
    ("drone_oblique_lot", "drone", None, "data/media/drone_oblique_parking_lot.mp4",
     "config/zones/drone_oblique_parking_lot.yaml"),
    ("traffic_motorway", "camera", "rect", "data/media/degirum_pysdk_examples/Traffic.mp4",
     "config/zones/traffic_motorway.yaml"),
)


@dataclass(frozen=True)
class Violation:
    """A stay that became a violation: where, which box, when it was reported (media seconds)."""

    source_id: str
    zone_id: str
    box: tuple[float, float, float, float]
    reported_at_s: float


@dataclass
class RunResult:
    name: str
    frames: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    stage_s: dict[str, float] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    analysed: dict[str, list[int]] = field(default_factory=dict)  # frame indices per source
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        n = max(self.frames, 1)
        latencies = np.array(self.latencies_s) * 1000
        return {
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.frames / self.seconds, 2) if self.seconds else 0.0,
            "stage_ms": {stage: round(1000 * s / n, 2) for stage, s in self.stage_s.items()},
            "cpu": {"cores_busy": round(self.cpu_s / self.seconds, 2) if self.seconds else 0.0,
                    "cpu_ms_per_frame": round(1000 * self.cpu_s / n, 2)},
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "latency_ms": {"events": len(latencies),
                           "p50": round(float(np.percentile(latencies, 50)), 1) if len(latencies) else None,
                           "p95": round(float(np.percentile(latencies, 95)), 1) if len(latencies) else None},
            "violations": len(self.violations),
            **self.extra,
        }


class RssSampler:
    """Samples this process's resident memory in a thread: the peak, and (time, rss) pairs for a flatness fit."""

    def __init__(self, every_s: float) -> None:
        self.every_s, self.peak, self.samples = every_s, 0, []
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            rss = self._process.memory_info().rss
            self.peak = max(self.peak, rss)
            self.samples.append((time.perf_counter(), rss))
            if self._stop.wait(self.every_s):
                return


class Bus:
    """The in-process bus: a real queue and a consumer thread timing each violation from its frame's capture."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[float | None, Any] | None] = queue.Queue()
        self.latencies_s: list[float] = []
        self._thread = threading.Thread(target=self._consume, daemon=True)
        self._thread.start()

    def publish(self, message: Any, captured_at: float | None, *, timed: bool) -> None:
        self.queue.put((captured_at if timed else None, message))

    def take_latencies(self) -> list[float]:
        """The latencies so far, once every message published has been consumed; the list starts afresh."""
        self.queue.join()
        taken, self.latencies_s = self.latencies_s, []
        return taken

    def close(self) -> None:
        self.queue.put(None)
        self._thread.join()

    def _consume(self) -> None:
        while (item := self.queue.get()) is not None:
            captured_at, _ = item
            if captured_at is not None:
                self.latencies_s.append(time.perf_counter() - captured_at)
            self.queue.task_done()


def cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


# ---------------------------------------------------------------- 1. the plain way


class PlainParkingTimer:
    """The supervision "time in zone" recipe, written plainly: per track id, seconds inside a zone while the
    box's bottom-centre stays within the zone's tolerance of where it stopped; a violation once over dwell_s."""

    def __init__(self, zones: list[ZoneConfig], vehicle_classes: set[int]) -> None:
        self.zones = zones
        self.polygons = {zone.id: np.array(zone.polygon, np.float32) for zone in zones}
        self.vehicle_classes = vehicle_classes
        self.since: dict[tuple[str, int], tuple[float, tuple[float, float]]] = {}
        self.reported: set[tuple[str, int]] = set()

    def update(self, boxes: list[list[float]], track_ids: list[int], classes: list[int], t: float) -> list[tuple]:
        violations = []
        for box, track_id, cls in zip(boxes, track_ids, classes):
            if cls not in self.vehicle_classes:
                continue
            x1, y1, x2, y2 = box
            anchor = ((x1 + x2) / 2, y2)
            for zone in self.zones:
                key = (zone.id, track_id)
                inside = cv2.pointPolygonTest(self.polygons[zone.id], anchor, False) >= 0
                if not inside:
                    self.since.pop(key, None)
                    continue
                tolerance = zone.stationary_tolerance * (y2 - y1 if zone.stationary_unit == "box" else 1.0)
                start = self.since.get(key)
                if start is None or np.hypot(anchor[0] - start[1][0], anchor[1] - start[1][1]) > tolerance:
                    self.since[key] = (t, anchor)  # arrived, or moved on: the clock starts here
                    continue
                if t - start[0] >= zone.dwell_s and key not in self.reported:
                    self.reported.add(key)
                    violations.append((zone.id, (x1, y1, x2, y2)))
        return violations


def run_plain(streams: list[Stream], vision: VisionConfig, model_dir: Path, bus: Bus) -> RunResult:
    """For each source, each analysed frame: model.track(frame, persist=True), then zones and dwell in Python."""
    from ultralytics import YOLO

    detector = vision.detector
    # ByteTrack, as GridPatrol tracks (Ultralytics 8.4 defaults to TrackTrack, which hides boxes until confirmed).
    track_args = {"persist": True, "tracker": "bytetrack.yaml", "imgsz": detector.imgsz, "conf": detector.conf, "iou": detector.iou,
                  "agnostic_nms": detector.agnostic_nms, "device": detector.device, "verbose": False}
    models = {stream.id: YOLO(str(model_dir), task="detect") for stream in streams}  # one per source, as the recipe
    blank = np.zeros((360, 640, 3), np.uint8)
    for model in models.values():
        model.track(blank, **track_args)  # load and compile outside the timing,
        model.predictor.trackers[0].reset()  # and the tracker starts afresh on the first real frame
    result = RunResult(name="plain")
    stages = dict.fromkeys(("decode", "preprocess", "inference", "postprocess", "tracking", "rules"), 0.0)
    period = 1.0 / vision.analysis_fps
    with RssSampler(0.1) as rss:
        cpu_started, started = cpu_seconds(), time.perf_counter()
        for stream in streams:
            model = models[stream.id]
            vehicle_classes = {i for i, name in model.names.items() if vision.detector.class_map.get(name) == "vehicle"}
            timer = PlainParkingTimer(stream.zones, vehicle_classes)
            capture = cv2.VideoCapture(str(stream.clip))
            next_due: float | None = None
            index = -1
            analysed: list[int] = []
            while True:
                t0 = time.perf_counter()
                ok, frame = capture.read()
                stages["decode"] += time.perf_counter() - t0
                if not ok:
                    break
                index += 1
                t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
                if next_due is not None and t < next_due - 0.001:
                    continue  # analyse analysis_fps frames per second of media time
                next_due = (t if next_due is None else next_due) + period
                while next_due <= t + 0.001:
                    next_due += period
                analysed.append(index)
                captured_at = time.perf_counter()
                tracked = model.track(frame, **track_args)[0]
                t1 = time.perf_counter()
                for stage in ("preprocess", "inference", "postprocess"):
                    stages[stage] += tracked.speed[stage] / 1000
                stages["tracking"] += (t1 - captured_at) - sum(tracked.speed.values()) / 1000
                boxes = tracked.boxes
                if boxes.id is not None:
                    found = timer.update(boxes.xyxy.tolist(), boxes.id.int().tolist(), boxes.cls.int().tolist(), t)
                    for zone_id, box in found:
                        violation = Violation(stream.id, zone_id, box, t)
                        result.violations.append(violation)
                        bus.publish(violation, captured_at, timed=True)
                stages["rules"] += time.perf_counter() - t1
            capture.release()
            result.analysed[stream.id] = analysed
            result.frames += len(analysed)
        result.seconds = time.perf_counter() - started
        result.cpu_s = cpu_seconds() - cpu_started
    result.peak_rss_mb = rss.peak / 2**20
    result.stage_s = stages
    return result


# ---------------------------------------------------------------- 2. GridPatrol's pipeline, fast detector


class TimedTracker:
    """The pipeline's own Tracker, its update timed (the pipeline calls only update)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker, self.seconds = tracker, 0.0

    def update(self, detections: Detections) -> Detections:
        started = time.perf_counter()
        tracked = self.tracker.update(detections)
        self.seconds += time.perf_counter() - started
        return tracked

    @property
    def tracks_seen(self) -> int:
        return self.tracker.tracks_seen


class TimedDetector:
    """A detector whose detect() is timed."""

    def __init__(self, detector: Any) -> None:
        self.detector, self.seconds = detector, 0.0

    def detect(self, image: np.ndarray) -> Detections:
        started = time.perf_counter()
        found = self.detector.detect(image)
        self.seconds += time.perf_counter() - started
        return found


class PacedVideoSource(FrameSource):
    """A video file delivered in real time, as a camera would: each frame no earlier than its media time."""

    def __init__(self, path: Path, *, source_id: str, analysis_fps: float, decoder_threads: int, start: float) -> None:
        super().__init__(source_id)
        self._inner = VideoFileSource(path, source_id=source_id, analysis_fps=analysis_fps,
                                      decoder_threads=decoder_threads)
        self._start = start

    def read(self) -> Frame | None:
        frame = self._inner.read()
        if frame is not None:
            time.sleep(max(0.0, self._start + frame.timestamp_s - time.perf_counter()))
        return frame

    def close(self) -> None:
        self._inner.close()


def worker_sources(streams: list[Stream], vision: VisionConfig, folder: Path, *, loop: bool) -> list[SourceConfig]:
    """The streams as a sources file would name them (zones files written under `folder` with the streams' ids)."""
    sources = []
    for stream in streams:
        zones_file = folder / f"{stream.id}.yaml"
        zones = [zone.model_dump(mode="json") for zone in stream.zones]
        zones_file.write_text(yaml.safe_dump({"source_id": stream.id, "zones": zones}), encoding="utf-8")
        sources.append(SourceConfig(id=stream.id, kind=stream.kind, media="file", uri=str(stream.clip),  # type: ignore[arg-type]
                                    analysis_fps=vision.analysis_fps, zones=str(zones_file), loop=loop,
                                    input_shape=stream.input_shape))
    return sources


def run_pipeline(
    streams: list[Stream], vision: VisionConfig, detector: OpenVinoDetector, bus: Bus, folder: Path, *,
    name: str = "pipeline", open_paced: OpenSource | None = None, loop: bool = False, minutes: float = 0.0,
    rss_every_s: float = 0.1,
) -> tuple[RunResult, RssSampler]:
    """GridPatrol as deployed: VisionWorker on the streams (a read-ahead thread per source, motion gate, the sources'
    frames through the fast detector together, rules, evidence photos, reports) until they end or `minutes` pass."""
    result = RunResult(name=name)
    result.analysed = {stream.id: [] for stream in streams}
    trackers: list[TimedTracker] = []

    def on_frame(frame: Frame, captured_at: float, events: list[ViolationEvent]) -> None:
        result.analysed[frame.source_id].append(frame.index)
        for event in events:
            if event.phase == "start":
                result.violations.append(Violation(event.source_id, event.zone_id, event.box_xyxy, event.last_seen_s))
            bus.publish(event, captured_at, timed=event.phase == "start")

    worker = VisionWorker(sources=worker_sources(streams, vision, folder, loop=loop), vision=vision,
                          send=lambda report: None, evidence_dir=folder / f"{name}-evidence",
                          detectors={vision.detector.model: detector}, open_source=open_paced or open_source,
                          on_frame=on_frame)
    for run in worker.runs:
        trackers.append(TimedTracker(run.pipeline.tracker))
        run.pipeline.tracker = trackers[-1]  # type: ignore[assignment]
    detector.times = StageTimes()
    stop = threading.Event()
    timer = threading.Timer(minutes * 60, stop.set) if minutes else None
    with RssSampler(rss_every_s) as rss:
        cpu_started, started = cpu_seconds(), time.perf_counter()
        if timer is not None:
            timer.start()
        worker.run(stop)
        result.seconds = time.perf_counter() - started
        result.cpu_s = cpu_seconds() - cpu_started
    if timer is not None:
        timer.cancel()
    result.peak_rss_mb = rss.peak / 2**20
    result.frames = sum(len(indices) for indices in result.analysed.values())
    tracking = sum(tracker.seconds for tracker in trackers)
    feeds = [run.feed.stats for run in worker.runs]
    result.stage_s = {
        "decode": sum(feed.read_s for feed in feeds),  # in the read-ahead threads, overlapping the rest
        "preprocess": detector.times.preprocess_s,
        "inference": detector.times.inference_s,
        "postprocess": detector.times.postprocess_s,
        "tracking": tracking,
        "rules": sum(run.pipeline.report.seconds for run in worker.runs) - tracking,
    }
    reused = sum(run.pipeline.report.frames_reused for run in worker.runs)
    result.extra = {"model_runs": detector.times.frames, "frames_reused_motion_gate": reused,
                    "model_runs_by_input": {f"{w}x{h}": n for (h, w), n in detector.times.images_by_shape.items()},
                    "decode_cpu_ms": round(1000 * sum(feed.read_cpu_s for feed in feeds) / max(result.frames, 1), 2),
                    "dropped": sum(feed.dropped for feed in feeds)}
    return result, rss


def live_run(streams: list[Stream], vision: VisionConfig, detector: OpenVinoDetector, bus: Bus,
             folder: Path) -> dict[str, Any]:
    """The streams paced at real time: latency from a frame's arrival to its violation on the bus."""
    start = time.perf_counter() + 1.0  # after the worker is up
    # Cameras are not in step: their analysed frames are spread evenly over one analysis interval.
    phase_s = {stream.id: k / (vision.analysis_fps * len(streams)) for k, stream in enumerate(streams)}

    def open_paced(spec: Mapping[str, Any]) -> FrameSource:
        return PacedVideoSource(Path(spec["uri"]), source_id=spec["id"], analysis_fps=spec["analysis_fps"],
                                decoder_threads=spec["decoder_threads"], start=start + phase_s[spec["id"]])

    result, _ = run_pipeline(streams, vision, detector, bus, folder, name="live", open_paced=open_paced)
    latencies = np.array(bus.take_latencies()) * 1000
    return {"streams": len(streams), "frames": result.frames, "seconds": round(result.seconds, 2),
            "cpu_cores_busy": round(result.cpu_s / result.seconds, 2),
            "latency_ms": {"events": len(latencies), "p50": round(float(np.percentile(latencies, 50)), 1),
                           "p95": round(float(np.percentile(latencies, 95)), 1)} if len(latencies) else None}


def memory_run(streams: list[Stream], vision: VisionConfig, detector: OpenVinoDetector, bus: Bus, folder: Path,
               minutes: float) -> dict[str, Any]:
    """The worker on looping sources for `minutes`; RSS sampled every 5 s; growth fitted after the first minute."""
    started = time.perf_counter()
    result, rss = run_pipeline(streams, vision, detector, bus, folder, name="memory", loop=True, minutes=minutes,
                               rss_every_s=5.0)
    events = len(bus.take_latencies())
    samples = [(t - started, r / 2**20) for t, r in rss.samples]
    settled = [(t, r) for t, r in samples if t >= min(60.0, minutes * 60 / 2)]
    slope_mb_per_min = float(np.polyfit([t / 60 for t, _ in settled], [r for _, r in settled], 1)[0]) \
        if len(settled) > 2 else 0.0
    # The second half alone: a plateau reached after warm-up fits flat, a leak keeps its slope.
    late = [(t, r) for t, r in samples if t >= minutes * 30]
    late_slope = float(np.polyfit([t / 60 for t, _ in late], [r for _, r in late], 1)[0]) if len(late) > 2 else 0.0
    grown_mb = settled[-1][1] - settled[0][1] if len(settled) > 1 else 0.0
    frames_settled = result.frames * (settled[-1][0] - settled[0][0]) / result.seconds if len(settled) > 1 else 0
    return {
        "minutes": minutes,
        "frames": result.frames,
        "violations_started": events,
        "fps": round(result.frames / result.seconds, 2),
        "rss_mb": {"first": round(samples[0][1], 1), "after_1_min": round(settled[0][1], 1) if settled else None,
                   "last": round(samples[-1][1], 1), "max": round(max(r for _, r in samples), 1)},
        "growth_after_1_min": {"mb": round(grown_mb, 2), "mb_per_min_fit": round(slope_mb_per_min, 3),
                               "mb_per_min_fit_second_half": round(late_slope, 3),
                               "bytes_per_frame": round(grown_mb * 2**20 / frames_settled, 1) if frames_settled else None},
        "samples_mb": [[round(t, 1), round(r, 1)] for t, r in samples],
    }


def run_reference(streams: list[Stream], vision: VisionConfig, bus: Bus) -> RunResult:
    """GridPatrol's pipeline on Ultralytics' Detector, one source after another: the same rules without the fast path."""
    from vision.detector import Detector

    detector = TimedDetector(Detector(vision.detector))
    zones = {stream.id: [Zone.from_config(zone) for zone in stream.zones] for stream in streams}
    result = RunResult(name="reference")
    stages = dict.fromkeys(("decode", "detect", "tracking", "rules"), 0.0)
    with RssSampler(0.1) as rss:
        cpu_started, started = cpu_seconds(), time.perf_counter()
        for stream in streams:
            pipeline = Pipeline(source_id=stream.id, detector=detector, zones=zones[stream.id], config=vision)  # type: ignore[arg-type]
            timed = TimedTracker(pipeline.tracker)
            pipeline.tracker = timed  # type: ignore[assignment]
            source = VideoFileSource(stream.clip, source_id=stream.id, analysis_fps=vision.analysis_fps)
            analysed: list[int] = []
            while True:
                t0 = time.perf_counter()
                frame = source.read()
                captured_at = time.perf_counter()
                stages["decode"] += captured_at - t0
                if frame is None:
                    break
                analysed.append(frame.index)
                events = pipeline.process(frame)
                for event in events:
                    if event.phase == "start":
                        result.violations.append(
                            Violation(event.source_id, event.zone_id, event.box_xyxy, event.last_seen_s))
                    bus.publish(event, captured_at, timed=event.phase == "start")
            pipeline.finish()
            result.analysed[stream.id] = analysed
            result.frames += len(analysed)
            stages["tracking"] += timed.seconds
            stages["rules"] += pipeline.report.seconds - timed.seconds
        result.seconds = time.perf_counter() - started
        result.cpu_s = cpu_seconds() - cpu_started
    result.peak_rss_mb = rss.peak / 2**20
    stages["detect"] = detector.seconds
    stages["rules"] -= detector.seconds  # Pipeline.report.seconds includes detect()
    result.stage_s = stages
    return result


# ---------------------------------------------------------------- comparing the two


def by_object(violations: list[Violation]) -> tuple[list[Violation], int]:
    """The first report of each object (same source, zone, overlapping box) and how many repeats were folded."""
    first: list[Violation] = []
    for v in sorted(violations, key=lambda v: v.reported_at_s):
        if not any(f.source_id == v.source_id and f.zone_id == v.zone_id and box_iou(f.box, v.box) >= 0.5 for f in first):
            first.append(v)
    return first, len(violations) - len(first)


def compare(plain: list[Violation], pipeline: list[Violation], interval_s: float,
            names: tuple[str, str] = ("plain", "pipeline")) -> dict[str, Any]:
    """Same objects in the same zones, reported within one analysis interval of each other."""
    plain_objects, plain_repeats = by_object(plain)
    pipeline_objects, pipeline_repeats = by_object(pipeline)
    unmatched = list(plain_objects)
    pairs, problems = [], []
    for v in pipeline_objects:
        candidates = [p for p in unmatched if p.source_id == v.source_id and p.zone_id == v.zone_id
                      and box_iou(p.box, v.box) >= 0.5]
        if not candidates:
            problems.append(f"only {names[1]} reports {v}")
            continue
        p = min(candidates, key=lambda p: abs(p.reported_at_s - v.reported_at_s))
        unmatched.remove(p)
        difference = v.reported_at_s - p.reported_at_s
        pairs.append({"source": v.source_id, "zone": v.zone_id, "box": [round(x) for x in v.box],
                      "plain_s": round(p.reported_at_s, 3), "pipeline_s": round(v.reported_at_s, 3),
                      "iou": round(box_iou(p.box, v.box), 3)})
        if abs(difference) > interval_s + 0.01:  # frame timestamps are rounded to the millisecond
            problems.append(f"{v.source_id}/{v.zone_id} box {pairs[-1]['box']}: reported at {v.reported_at_s:.2f} s "
                            f"by {names[1]}, {p.reported_at_s:.2f} s by {names[0]} (over one interval)")
    problems += [f"only {names[0]} reports {p}" for p in unmatched]
    pairs.sort(key=lambda pair: (pair["source"], pair["zone"], pair["box"]))
    return {"match": not problems, "objects": {names[0]: len(plain_objects), names[1]: len(pipeline_objects)},
            "pairs": pairs, "problems": problems, "repeats_folded": {names[0]: plain_repeats, names[1]: pipeline_repeats}}


# ---------------------------------------------------------------- the command


def cpu_facts() -> dict[str, Any]:
    """What tells two hosts apart that /proc/cpuinfo calls by one name: family/model and the vector extensions
    that the INT8 kernels use (an AVX2-only host infers several times slower, and its scores differ slightly)."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name", platform.processor()),
            "cpu_family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
            "vector_extensions": sorted(flag for flag in flags if flag.startswith(VECTOR_FLAG_PREFIXES))}


def machine() -> dict[str, Any]:
    import openvino
    import ultralytics

    training = subprocess.run(["pgrep", "-f", "model_cli"], capture_output=True, text=True).stdout.split()
    return {**cpu_facts(), "cores": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "openvino": openvino.__version__,
            "ultralytics": ultralytics.__version__, "opencv": cv2.__version__,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "training_job_running": bool(training)}


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="each clip runs as this many streams")
    parser.add_argument("--minutes", type=float, default=0.0, help="then a memory run on looping sources (0: none)")
    parser.add_argument("--hint", choices=["LATENCY", "THROUGHPUT"], default=RuntimeConfig().performance_hint)
    parser.add_argument("--requests", type=int, default=RuntimeConfig().infer_requests, help="0: OpenVINO's choice")
    parser.add_argument("--streams", type=int, default=RuntimeConfig().num_streams, help="OpenVINO CPU streams, 0: hint")
    parser.add_argument("--batch", type=int, default=StreamsConfig().batch)
    parser.add_argument("--read-ahead", type=int, default=StreamsConfig().read_ahead)
    parser.add_argument("--decoder-threads", type=int, default=StreamsConfig().decoder_threads,
                        help="FFmpeg threads per decoder of the pipeline run (0: FFmpeg's choice)")
    parser.add_argument("--no-gate", action="store_true", help="the pipeline without motion gating")
    parser.add_argument("--skip-plain", action="store_true", help="no plain run (no plain comparison)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="no run of the pipeline on Ultralytics' Detector (no check that the fast path loses nothing)")
    parser.add_argument("--strict-plain", action="store_true",
                        help="fail on any plain/pipeline difference, even one GridPatrol's rules make on Ultralytics' "
                        "own detector too")
    parser.add_argument("--rect", action="store_true", help="rect input (640x384 for 16:9 frames) for every stream")
    parser.add_argument("--square", action="store_true", help="square input for every stream (no per-source rect)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default bench/results/vision_<date>.json)")
    args = parser.parse_args(argv)

    model_dir = SHARED / MODEL
    for needed in [model_dir] + [SHARED / clip for *_, clip, _ in CLIPS]:
        if not needed.exists():
            print(f"missing {needed} (set GRIDPATROL_SHARED to the shared folder)", file=sys.stderr)
            return 2
    vision = load_vision_config(overrides={"detector": {"model": str(model_dir)}})
    if args.no_gate:
        vision = vision.model_copy(update={"gate": vision.gate.model_copy(update={"enabled": False})})
    ungated = vision.model_copy(update={"gate": vision.gate.model_copy(update={"enabled": False})})
    streams = [Stream(id=f"{source_id}-{copy}", kind=kind, clip=SHARED / clip,
                      zones=load_zones(REPO / zones, vision).zones, input_shape=None if args.square else shape)
               for copy in range(1, args.copies + 1) for source_id, kind, shape, clip, zones in CLIPS]
    runtime = RuntimeConfig(performance_hint=args.hint, infer_requests=args.requests, num_streams=args.streams,
                            input_shape="rect" if args.rect else "square")
    streams_config = StreamsConfig(batch=args.batch, read_ahead=args.read_ahead, decoder_threads=args.decoder_threads)
    vision = vision.model_copy(update={"streams": streams_config})
    ungated = ungated.model_copy(update={"streams": streams_config})
    report: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "machine": machine(),
                              "settings": {"streams": [s.id for s in streams], "analysis_fps": vision.analysis_fps,
                                           "model": MODEL, "imgsz": vision.detector.imgsz,
                                           "runtime": runtime.model_dump(), "multistream": streams_config.model_dump()}}
    print(f"{len(streams)} streams, analysis at {vision.analysis_fps} frames/s; machine: {report['machine']}")

    detector = OpenVinoDetector(vision.detector, runtime)
    for shape in {stream.input_shape for stream in streams}:  # compile each input shape (all clips are 16:9), warm up
        detector.detect_many([np.zeros((360, 640, 3), np.uint8)] * detector.requests, [shape] * detector.requests)
    bus = Bus()
    interval_s = 1 / vision.analysis_fps
    folder = Path(tempfile.mkdtemp(prefix="gridpatrol-bench-"))  # zones files and evidence photos of the worker runs
    pipeline, _ = run_pipeline(streams, vision, detector, bus, folder)
    pipeline.latencies_s = bus.take_latencies()
    # The same with the model on every analysed frame: what motion gating adds, side by side.
    every_frame, _ = run_pipeline(streams, ungated, detector, bus, folder, name="pipeline_every_frame")
    every_frame.latencies_s = bus.take_latencies()
    # The floor: the runtime alone, same requests in flight, on each input shape as often as the pipeline ran it.
    floor_images = max(60, 4 * detector.requests)
    per_shape: dict[str, dict[str, float]] = {}
    floor_s = floor_cpu_s = 0.0
    for name, runs_of_shape in pipeline.extra["model_runs_by_input"].items():
        w, h = (int(x) for x in name.split("x"))
        cpu_started = cpu_seconds()
        seconds = detector.infer_only(floor_images, (h, w))
        cpu_s = (cpu_seconds() - cpu_started) / floor_images
        per_shape[name] = {"ms_per_image": round(1000 * seconds, 2), "cpu_ms_per_image": round(1000 * cpu_s, 2),
                           "images": runs_of_shape}
        floor_s += runs_of_shape * seconds / pipeline.frames
        floor_cpu_s += runs_of_shape * cpu_s / pipeline.frames
    fps = pipeline.frames / pipeline.seconds
    report["pipeline"] = pipeline.summary()
    report["raw_inference"] = {"ms_per_frame": round(1000 * floor_s, 2), "fps": round(1 / floor_s, 2),
                               "cpu_ms_per_frame": round(1000 * floor_cpu_s, 2), "requests_in_flight": detector.requests,
                               "per_input_shape": per_shape}
    # Per analysed frame: wall time over the runtime's own; CPU (decoding included, then without it) over the runtime's.
    cpu_per_frame = pipeline.cpu_s / max(pipeline.frames, 1)
    report["overhead_over_raw_inference"] = round((pipeline.seconds / max(pipeline.frames, 1)) / floor_s - 1, 3)
    report["cpu_overhead_over_raw_inference"] = round(cpu_per_frame / floor_cpu_s - 1, 3)
    report["cpu_overhead_beyond_decoding"] = round(
        (cpu_per_frame - pipeline.extra["decode_cpu_ms"] / 1000) / floor_cpu_s - 1, 3)
    report["streams_sustained_at_analysis_fps"] = {"pipeline": int(fps // vision.analysis_fps)}

    print("live run: the streams paced at real time ...", flush=True)
    report["live"] = live_run(streams, vision, detector, bus, folder)

    runs = {"pipeline": pipeline, "pipeline_every_frame": every_frame}
    if not args.skip_reference:
        runs["reference"] = run_reference(streams, ungated, bus)  # the model on every analysed frame
        runs["reference"].latencies_s = bus.take_latencies()
    if not args.skip_plain:
        runs["plain"] = run_plain(streams, vision, model_dir, bus)
        runs["plain"].latencies_s = bus.take_latencies()
    for name in ("reference", "plain", "pipeline_every_frame"):
        if name in runs:
            other_fps = runs[name].frames / runs[name].seconds
            report[name] = runs[name].summary()
            report[f"ratio_pipeline_over_{name}"] = round(fps / other_fps, 2)
            # Frames per CPU-second: the cost per frame, insensitive to other load on the machine.
            report[f"cpu_ratio_pipeline_over_{name}"] = round(
                (runs[name].cpu_s / runs[name].frames) / (pipeline.cpu_s / pipeline.frames), 2)
            report["streams_sustained_at_analysis_fps"][name] = int(other_fps // vision.analysis_fps)
    # The gate: the fast path must not change GridPatrol's violations (its own rules on Ultralytics' detector).
    checks = {f"{a}_vs_{b}": compare_runs(runs[a], runs[b], interval_s)
              for a, b in (("reference", "pipeline"), ("reference", "pipeline_every_frame"), ("plain", "pipeline"),
                           ("plain", "reference"))
              if a in runs and b in runs}
    report["violations"] = checks

    if args.minutes > 0:
        print(f"memory run: {args.minutes} min of looping sources ...", flush=True)
        report["memory_run"] = memory_run(streams, vision, detector, bus, folder, args.minutes)

    bus.close()
    shutil.rmtree(folder, ignore_errors=True)

    out = args.out or RESULTS / f"vision_{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print(f"written {out}")
    failed = False
    for name, check in checks.items():
        if check["problems"]:
            print(f"{name}: differences:\n  " + "\n  ".join(check["problems"]))
    for name in ("reference_vs_pipeline", "reference_vs_pipeline_every_frame"):
        if name in checks and not checks[name]["match"]:
            print(f"FAIL ({name}): the fast path changes GridPatrol's violations")
            failed = True
    if "plain_vs_pipeline" in checks and not checks["plain_vs_pipeline"]["match"]:
        # The same objects unmatched in both comparisons; the matched ones agree within one interval
        # (reference vs pipeline matched), not necessarily to the frame: the motion gate may reuse a box.
        explained = ("plain_vs_reference" in checks and checks["reference_vs_pipeline"]["match"]
                     and sorted(p.replace("reference", "pipeline") for p in checks["plain_vs_reference"]["problems"])
                     == sorted(checks["plain_vs_pipeline"]["problems"]))
        if explained and not args.strict_plain:
            print("plain vs pipeline: the differences above are the rules' (GridPatrol's pipeline on Ultralytics' own "
                  "detector differs from the plain recipe in exactly the same way), not the fast path's")
        else:
            print("FAIL: the plain way and the pipeline do not report the same violations")
            failed = True
    return 1 if failed else 0


def compare_runs(expected: RunResult, actual: RunResult, interval_s: float) -> dict[str, Any]:
    check = compare(expected.violations, actual.violations, interval_s, (expected.name, actual.name))
    check["same_frames"] = expected.analysed == actual.analysed
    if not check["same_frames"]:
        check["match"] = False
        check["problems"].append(f"{expected.name} and {actual.name} did not analyse the same frames")
    return check


def print_report(report: dict[str, Any]) -> None:
    names = [name for name in ("plain", "reference", "pipeline_every_frame", "pipeline") if name in report]
    rows = [("", *names)]

    def row(label: str, get: Callable[[dict[str, Any]], Any]) -> None:
        rows.append((label, *(str(get(report[name])) for name in names)))

    row("frames analysed", lambda r: r["frames"])
    row("frames/s", lambda r: r["fps"])
    row("model runs", lambda r: r.get("model_runs", r["frames"]))
    stages = dict.fromkeys(stage for name in names for stage in report[name]["stage_ms"])
    for stage in stages:
        row(f"  {stage} ms/frame", lambda r, stage=stage: r["stage_ms"].get(stage, "-"))
    row("CPU cores busy", lambda r: r["cpu"]["cores_busy"])
    row("CPU ms/frame", lambda r: r["cpu"]["cpu_ms_per_frame"])
    row("peak RSS MB", lambda r: r["peak_rss_mb"])
    row("latency p50/p95 ms", lambda r: f"{r['latency_ms']['p50']}/{r['latency_ms']['p95']}")
    row("violations", lambda r: r["violations"])
    print(table(rows))
    raw = report["raw_inference"]
    print(f"raw inference: {raw['ms_per_frame']} ms/frame ({raw['fps']} frames/s, {raw['cpu_ms_per_frame']} CPU ms/frame);"
          f" pipeline overhead over it: {100 * report['overhead_over_raw_inference']:.0f}% wall, "
          f"{100 * report['cpu_overhead_over_raw_inference']:.0f}% CPU (decoding included), "
          f"{100 * report['cpu_overhead_beyond_decoding']:.0f}% CPU beyond decoding")
    for name in ("plain", "reference", "pipeline_every_frame"):
        if f"ratio_pipeline_over_{name}" in report:
            print(f"ratio pipeline/{name}: {report[f'ratio_pipeline_over_{name}']}x frames/s, "
                  f"{report[f'cpu_ratio_pipeline_over_{name}']}x frames per CPU-second")
    for name, check in report["violations"].items():
        print(f"violations {name}: match {check['match']} (objects {check['objects']}, "
              f"{len(check['problems'])} differences)")
    print(f"streams at {report['settings']['analysis_fps']} frames/s sustained: "
          f"{report['streams_sustained_at_analysis_fps']}")
    live = report["live"]
    print(f"live run, {live['streams']} streams paced at real time: capture to bus latency of violations "
          f"p50/p95 {live['latency_ms']['p50']}/{live['latency_ms']['p95']} ms ({live['latency_ms']['events']} events), "
          f"{live['cpu_cores_busy']} cores busy")
    if "memory_run" in report:
        m = report["memory_run"]
        print(f"memory run {m['minutes']} min: {m['frames']} frames, RSS {m['rss_mb']}, growth {m['growth_after_1_min']}")


if __name__ == "__main__":
    sys.exit(main())
