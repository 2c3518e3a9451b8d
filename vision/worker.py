"""The vision worker: runs configured sources through their pipelines and hands reports to dispatch."""
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.base import ConfigFileError
from config.sources import SourceConfig
from config.vision import TilesConfig, VisionConfig, ZoneConfig, load_zones
from vision.detections import Detections
from vision.detector import Detector, load_model_detector
from vision.drone import TelemetryMapper
from vision.events import ViolationEvent
from vision.evidence import CaptionContext, CellOf, EvidenceWriter
from vision.fast.detector import OpenVinoDetector
from vision.tiles import TiledDetector
from vision.feeds import Captured, FeedItem, SourceEnded, SourceFailed, SourceFeed
from vision.gate import MotionGate
from vision.geo import Homography
from vision.handover import detection_report
from vision.motion import EgoMotion
from vision.pipeline import Pipeline
from vision.plates.evidence import PlateEvidence, load_reader
from vision.sources import Frame, FrameSource, SourceError, open_source
from vision.zones import GroundZone, Locate, Zone


Send = Callable[[dict[str, Any]], None]
PostHealth = Callable[[str, dict[str, Any]], None]
OpenSource = Callable[[Mapping[str, Any]], FrameSource]
# A frame just processed, the perf_counter time it left its decoder, and its events: for measurements.
OnFrame = Callable[[Frame, float, list[ViolationEvent]], None]


def ground_mapper(source: SourceConfig) -> Locate | None:
    """Pixel → (lon, lat): a fixed camera's homography or a drone's telemetry; None when neither is configured."""
    if source.telemetry is not None:
        return TelemetryMapper.from_srt(Path(source.telemetry.srt), focal_35mm=source.telemetry.focal_35mm)
    if source.homography is None:
        return None
    homography = Homography.from_control_points(source.homography.pixels, source.homography.lonlats)

    def locate(pixel: tuple[float, float]) -> tuple[float, float] | None:
        lon, lat = homography.to_ground([pixel])[0]
        return None if lon != lon else (float(lon), float(lat))  # NaN: beyond the horizon

    return locate


def zone_of(config: ZoneConfig, locate: Locate | None, source_id: str, *, stabilized: bool) -> Zone:
    """An image zone, or a map zone tested through the source's ground mapping."""
    if config.frame == "image":
        return Zone.from_config(config)
    if locate is None:
        raise ValueError(f"zone {config.id!r} of {source_id} is on the map, but the source has no homography "
                         "or telemetry to place its image on the ground")
    if stabilized:
        raise ValueError(f"zone {config.id!r} of {source_id}: a stabilized source's zones are in its first frame's "
                         "pixels (frame: image)")
    return GroundZone.on_ground(config, locate)


GET_RETRY_S = 0.2  # waiting for the next frame of any source, `stop` is looked at this often


@dataclass
class SourceRun:
    """One source, the thread decoding it ahead, and its pipeline."""

    config: SourceConfig
    source: FrameSource
    feed: SourceFeed
    pipeline: Pipeline
    media_start: dt.datetime
    ended: bool = False
    open_events: set[str] = field(default_factory=set)  # started and not yet ended


class VisionWorker:
    """Steps its sources a frame at a time, so one model serves them all; sends each event's report.

    Each source decodes in its own thread (`vision.streams.read_ahead` frames ahead); a step takes the next
    frame of every source that has one ready (waiting only when none has), and the frames whose picture
    changed go through their model together. A slow camera never holds the others up."""

    def __init__(
        self, *, sources: list[SourceConfig], vision: VisionConfig, send: Send, evidence_dir: Path,
        detectors: dict[str, Detector | OpenVinoDetector] | None = None,
        open_source: OpenSource = open_source, on_frame: OnFrame | None = None,
        timezone: ZoneInfo = ZoneInfo("UTC"), cell_of: CellOf | None = None,
    ) -> None:
        self.vision, self.send, self.evidence_dir = vision, send, evidence_dir
        self.detectors = detectors if detectors is not None else {}
        self.plate_reader = load_reader(vision.plates)  # one for every source: plates are read on evidence only
        self.open_source, self.on_frame = open_source, on_frame
        self.timezone, self.cell_of = timezone, cell_of  # for the evidence captions
        self.arrived = threading.Event()  # a source's feed put a frame (or its end)
        self.ended_early: list[str] = []  # sources that ended before their media did: what was read of each
        self.runs: list[SourceRun] = []
        try:
            for source in sources:
                self.runs.append(self._start(source))
        except BaseException:  # a bad source: no reading thread of the good ones before it outlives the worker
            for run in self.runs:
                run.feed.close()
            raise
        self.rechecks: queue.SimpleQueue[str] = queue.SimpleQueue()

    def _detector(self, model: str | None, tiles: TilesConfig | None) -> Detector | OpenVinoDetector | TiledDetector:
        """Models are loaded once and shared by the sources that name them; a tiled source wraps its model."""
        path = model or self.vision.detector.model
        if path not in self.detectors:
            config = self.vision.detector.model_copy(update={"model": path})
            self.detectors[path] = load_model_detector(config)
        tiles = tiles or self.vision.detector.tiles
        return TiledDetector(self.detectors[path], tiles) if tiles.enabled else self.detectors[path]

    def _plates(self, source_id: str) -> PlateEvidence | None:
        if self.plate_reader is None:
            return None
        return PlateEvidence(self.plate_reader, self.evidence_dir / source_id, self.vision.evidence.jpeg_quality)

    def _start(self, config: SourceConfig) -> SourceRun:
        zones_config = load_zones(Path(config.zones), self.vision)
        if zones_config.source_id != config.id:
            raise ConfigFileError(config.zones, f"is for source '{zones_config.source_id}', not '{config.id}'")
        locate = ground_mapper(config)
        detector = self._detector(config.model, config.tiles)
        if config.input_shape == "rect" and not isinstance(detector, OpenVinoDetector):
            raise ValueError(f"source {config.id}: input_shape rect needs the openvino runtime (an OpenVINO IR "
                             f"on the CPU); its model runs on {type(detector).__name__}")
        # Media time zero: now. A file is replayed as if live; a stream's frames are timed from its start.
        media_start = dt.datetime.now(dt.timezone.utc)
        caption = CaptionContext(timezone=self.timezone, media_start=media_start, cell_of=self.cell_of,
                                 start_basis="live" if config.media == "stream" else "replay")
        pipeline = Pipeline(
            source_id=config.id, detector=detector,
            zones=[zone_of(zone, locate, config.id, stabilized=config.stabilize) for zone in zones_config.zones], config=self.vision,
            evidence=EvidenceWriter(self.evidence_dir / config.id, self.vision.evidence, caption,
                                    plates=self._plates(config.id)), locate=locate,
            motion=EgoMotion(self.vision.motion) if config.stabilize else None,
            # Only a fixed camera is motion-gated: a drone's picture and its ground mapping move with it.
            gate=MotionGate(self.vision.gate) if self.vision.gate.enabled and config.kind == "camera" else None,
        )
        # Stills of a folder are taken analysis_fps apart, unless a times file gives each one's time.
        source = self.open_source({"id": config.id, "kind": config.media, "uri": config.uri,
                              "analysis_fps": config.analysis_fps, "fps_assumed": config.analysis_fps,
                              "decoder_threads": self.vision.streams.decoder_threads, "times": config.times})
        feed = SourceFeed(source, queue.Queue(maxsize=self.vision.streams.read_ahead),
                          drop_when_full=self.vision.streams.drop_when_full, arrived=self.arrived).start()
        return SourceRun(config=config, source=source, feed=feed, pipeline=pipeline, media_start=media_start)

    def _hand_over(self, run: SourceRun, events: list[ViolationEvent]) -> None:
        for event in events:
            if event.phase == "end":
                run.open_events.discard(event.event_id)
            else:
                run.open_events.add(event.event_id)
            self.send(detection_report(event, source_kind=run.config.kind, media_start=run.media_start))

    def on_case_event(self, message: dict[str, Any]) -> None:
        """Bus subscriber: a handled case with this worker's events asks for a second look."""
        if message.get("kind") != "handled":
            return
        for event_id in message["case"].get("sensor_events", []):
            if any(event_id.startswith(f"{run.config.id}:") for run in self.runs):
                self.rechecks.put(event_id)

    def _answer_rechecks(self) -> None:
        """Still there = the event's stay is open in its source's pipeline now."""
        while not self.rechecks.empty():
            event_id = self.rechecks.get()
            run = next(run for run in self.runs if event_id.startswith(f"{run.config.id}:"))
            self.send({"type": "recheck", "event_id": event_id, "source": run.config.kind, "source_id": run.config.id,
                       "present": event_id in run.open_events,
                       "observed_at": dt.datetime.now(dt.timezone.utc).isoformat()})

    def step(self, stop: threading.Event | None = None) -> int:
        """Answer pending rechecks, then the next frame of every source that has one ready (waiting for the first
        one); returns how many sources are still live."""
        self._answer_rechecks()
        arrived = self._ready(stop)
        for _, run, item in arrived:
            if isinstance(item, SourceFailed):
                raise SourceError(f"source {run.config.id}: {item.error}") from item.error
        self._analyse([(run, item) for _, run, item in arrived if isinstance(item, Captured)])
        for index, run, item in arrived:
            if isinstance(item, SourceEnded):
                self._hand_over(run, run.pipeline.finish())
                run.feed.close()
                if run.source.ended_early is not None:  # analysed as far as it went; its health says so too
                    self.ended_early.append(run.source.ended_early)
                if run.config.loop:  # a demo feed starts again as a new stream of events
                    self.runs[index] = self._start(run.config)
                else:
                    run.ended = True
        return sum(not run.ended for run in self.runs)

    def _ready(self, stop: threading.Event | None) -> list[tuple[int, SourceRun, FeedItem]]:
        """One item from each live source that has one; waits until one has, or `stop` is set (then none)."""
        while True:
            self.arrived.clear()  # before looking: a frame arriving from now on sets it again
            ready = [(index, run, run.feed.out.get_nowait()) for index, run in enumerate(self.runs)
                     if not run.ended and not run.feed.out.empty()]
            if ready or all(run.ended for run in self.runs) or (stop is not None and stop.is_set()):
                return ready
            self.arrived.wait(GET_RETRY_S)

    def _analyse(self, frames: list[tuple[SourceRun, Captured]]) -> None:
        """Each frame through its pipeline: with the last detections where nothing moved (motion gate), else with
        its model's; frames of sources sharing a model go through it together, `streams.batch` at a time, each
        processed as soon as its detections are ready while the next ones run."""
        waiting: dict[int, list[tuple[SourceRun, Captured]]] = {}  # id(detector) -> frames its model must see
        for run, item in frames:
            reused = run.pipeline.reused_detections(item.frame)
            if reused is None:
                waiting.setdefault(id(run.pipeline.detector), []).append((run, item))
            else:
                self._process(run, item, reused)
        batch = self.vision.streams.batch
        for group in waiting.values():
            detector = group[0][0].pipeline.detector
            for start in range(0, len(group), batch):
                chunk = group[start : start + batch]
                images = [item.frame.image for _, item in chunk]
                if isinstance(detector, OpenVinoDetector):  # each source's own network input
                    detected = detector.detect_iter(images, [run.config.input_shape for run, _ in chunk])
                else:
                    detected = detector.detect_iter(images)
                for (run, item), detections in zip(chunk, detected):
                    self._process(run, item, detections)

    def _process(self, run: SourceRun, item: Captured, detections: Detections) -> None:
        events = run.pipeline.process(item.frame, detections)
        self._hand_over(run, events)
        if self.on_frame is not None:
            self.on_frame(item.frame, item.captured_at, events)

    def run(self, stop: threading.Event, *, post_health: PostHealth | None = None, health_every_s: float = 5.0) -> None:
        """Step until every source has ended or `stop` is set, posting the sources' health now and then."""
        next_post = 0.0
        try:
            while not stop.is_set():
                live = self.step(stop)
                if post_health is not None and (time.monotonic() >= next_post or not live):
                    for source_id, health in self.health().items():
                        post_health(source_id, {**health, "reported_at": time.time()})
                    next_post = time.monotonic() + health_every_s
                if not live:
                    break
        finally:  # ended, stopped or failed: no reading thread outlives the worker
            for run in self.runs:
                run.feed.close()

    def health(self) -> dict[str, dict[str, Any]]:
        """Each source's health, for the platform's source list."""
        return {run.config.id: {**asdict(run.source.health), "kind": run.config.kind, "ended": run.ended}
                for run in self.runs}
