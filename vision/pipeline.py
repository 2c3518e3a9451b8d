"""Wiring for one source: frame -> detector -> tracker -> zones -> dwell -> events (+ evidence, location)."""
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from config.vision import ReportConfig, VisionConfig
from vision.detections import Detections
from vision.detector import Detector
from vision.drone import TelemetryMapper
from vision.dwell import DwellRules
from vision.events import ViolationEvent
from vision.evidence import EvidenceWriter
from vision.gate import MotionGate
from vision.motion import IDENTITY, EgoMotion, invert, transform_boxes
from vision.sources import Frame, FrameSource
from vision.tracking import Tracker
from vision.zones import Zone, ZonePresence

Locate = Callable[[tuple[float, float]], tuple[float, float] | None]
Publish = Callable[[ViolationEvent], None]


@dataclass
class AnalysisReport:
    """What one source yielded; says plainly when the model saw (next to) nothing at all."""

    source_id: str
    config: ReportConfig
    frames_analysed: int = 0
    frames_reused: int = 0  # the motion gate found nothing moved: the model did not run, the last detections stood
    detections_by_kind: Counter[str] = field(default_factory=Counter)  # confident boxes only
    tracks: int = 0
    events_by_rule: Counter[str] = field(default_factory=Counter)  # events started (each has one start)
    seconds: float = 0.0
    ended_early: str | None = None  # the source ended before its media did (a truncated file): what was read

    @property
    def events(self) -> int:
        return sum(self.events_by_rule.values())

    @property
    def detections(self) -> int:
        return sum(self.detections_by_kind.values())

    @property
    def no_detections(self) -> bool:
        """Too few confident boxes to mean anything: "no violations" says nothing about this source."""
        expected = self.config.min_detections_per_frame * self.frames_analysed
        return self.frames_analysed > 0 and self.detections < expected

    def count(self, detections: Detections) -> None:
        confident = detections.confidence >= self.config.confident_conf
        self.detections_by_kind.update(detections.kind[confident].tolist())

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.detections_by_kind.items())) or "none"
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted(self.events_by_rule.items())) or "none"
        per_frame_ms = 1000 * self.seconds / self.frames_analysed if self.frames_analysed else 0.0
        lines = [
            f"source {self.source_id}: {self.frames_analysed} frames analysed in {self.seconds:.1f} s "
            f"({per_frame_ms:.0f} ms/frame; the model ran on {self.frames_analysed - self.frames_reused}, "
            f"nothing moved in {self.frames_reused})",
            f"detections (conf >= {self.config.confident_conf}): {self.detections} ({kinds}); tracks: {self.tracks}",
            f"events: {self.events} ({rules})",
        ]
        if self.no_detections:
            lines.append(
                f"WARNING: no detections at all ({self.detections} in {self.frames_analysed} frames, under "
                f"{self.config.min_detections_per_frame} a frame): 'no violations' means nothing here; "
                "is this model wrong for the view (a COCO model on a nadir drone view)?"
            )
        return "\n".join(lines)


class Pipeline:
    """`process(frame)` runs every stage on one frame of one source and returns that frame's events."""

    def __init__(
        self,
        *,
        source_id: str,
        detector: Detector,
        zones: list[Zone],
        config: VisionConfig,
        evidence: EvidenceWriter | None = None,
        locate: Locate | None = None,
        motion: EgoMotion | None = None,
        gate: MotionGate | None = None,
    ) -> None:
        self.source_id = source_id
        self.detector = detector
        self.zones = {zone.id: zone for zone in zones}
        self.tracker = Tracker(config.tracker, analysis_fps=config.analysis_fps)
        self.presence = ZonePresence(zones, config.presence, forget_after_s=config.tracker.lost_track_s)
        self.evidence = evidence
        self.locate = locate
        self.motion = motion  # a moving camera: work in the first frame's pixels
        self.to_reference = IDENTITY
        self.rules = DwellRules(
            source_id=source_id,
            zones=zones,
            config=config.dwell,
            categories=config.events.categories,
            second_photo_after_s=config.evidence.second_photo_after_s,
            locate=self._locate_reference_pixel if locate is not None else None,
        )
        self.edge_px = config.dwell.edge_px
        self.report = AnalysisReport(source_id=source_id, config=config.report)
        self.gate = gate  # a fixed camera: the model skips frames in which nothing moved
        self._last_image: np.ndarray | None = None
        self._last_detections = Detections.empty()  # the detector's boxes of the last frame, before tracking

    def reused_detections(self, frame: Frame) -> Detections | None:
        """The last frame's detections when the motion gate finds nothing moved since the model last ran;
        None: the model must run on this frame. Call once per frame, before `process`."""
        if self.gate is None or self.gate.changed(frame.image):
            return None
        self.report.frames_reused += 1
        return self._last_detections

    def process(self, frame: Frame, detections: Detections | None = None) -> list[ViolationEvent]:
        """This frame's events. `detections`: the caller asked `reused_detections` and ran the model itself when
        needed (several sources in one call); without them the pipeline does both."""
        started = time.perf_counter()
        if isinstance(self.locate, TelemetryMapper):
            self.locate.at(frame)  # this frame's position and gimbal
        if detections is None:
            detections = self.reused_detections(frame)
        if detections is None:
            detections = self.detector.detect(frame.image)
        self._last_detections = detections
        image_xyxy = detections.xyxy  # the tracker keeps the rows: row i is the same box in both frames of pixels
        cut = detections.cut_sides(*frame.image.shape[:2], self.edge_px)
        if self.motion is not None:
            self.to_reference = self.motion.update(frame.image)
            detections = replace(detections, xyxy=transform_boxes(detections.xyxy, self.to_reference))
        detections = self.tracker.update(detections)
        present = self.presence.update(detections, frame.timestamp_s)

        def describe(rows: np.ndarray) -> np.ndarray:
            return self.rules.appearance.describe(frame.image, image_xyxy[rows])

        raw_events = self.rules.update(detections, present, frame.timestamp_s, describe, cut)
        events = [self._complete(event, frame.image) for event in raw_events]
        self._last_image = frame.image
        self.report.frames_analysed += 1
        self.report.count(detections)
        self.report.tracks = self.tracker.tracks_seen
        self._count(events)
        self.report.seconds += time.perf_counter() - started
        return events

    def finish(self) -> list[ViolationEvent]:
        """End the open events: the source has ended."""
        image = self._last_image
        events = [self._complete(event, image) for event in self.rules.finish()] if image is not None else []
        self._count(events)
        return events

    def run(
        self, source: FrameSource, publish: Publish, on_frame: Callable[[Frame], None] | None = None
    ) -> AnalysisReport:
        """Read `source` to its end, publishing every event; the report at the end."""
        with source:
            while (frame := source.read()) is not None:
                for event in self.process(frame):
                    publish(event)
                if on_frame is not None:
                    on_frame(frame)
        for event in self.finish():
            publish(event)
        self.report.ended_early = source.ended_early
        return self.report

    def _locate_reference_pixel(self, pixel: tuple[float, float]) -> tuple[float, float] | None:
        """The ground point of a pixel of the rules' frame (the first frame's, for a moving camera)."""
        assert self.locate is not None
        if self.motion is not None:
            x, y = transform_boxes(np.array([[*pixel, *pixel]], np.float64), invert(self.to_reference))[0, :2]
            pixel = (float(x), float(y))
        return self.locate(pixel)

    def _complete(self, event: ViolationEvent, image: np.ndarray) -> ViolationEvent:
        """Add the evidence photo when one is due, and the ground location when the camera can be located."""
        zone = self.zones[event.zone_id]
        box = np.array([event.box_xyxy], np.float64)
        if self.motion is not None:  # back from the reference frame to this image's pixels
            to_image = invert(self.to_reference)
            box = transform_boxes(box, to_image)
            zone = zone.moved(to_image)
        # The part in view (a stay's box cut by the frame's edge reaches out to where the object was last seen).
        height, width = image.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in np.clip(box[0], 0, [width, height, width, height]))
        if (x1, y1, x2, y2) != event.box_xyxy:
            event = replace(event, box_xyxy=(x1, y1, x2, y2), ground_point_px=((x1 + x2) / 2, y2))
        if self.locate is not None:  # before the photo: its caption gives the place
            event = replace(event, location=self.locate(event.ground_point_px))
        if self.evidence is not None:
            event = self.evidence.attach(event, image, zone)
        return event

    def _count(self, events: list[ViolationEvent]) -> None:
        for event in events:
            if event.phase == "start":
                self.report.events_by_rule[event.rule] += 1
