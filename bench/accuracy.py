"""Violation-level accuracy: ground-truth files (bench/groundtruth/*.yaml) and the scorer matching events to them.

An event (its `start`) matches a true violation when all three agree:
- zone: the event's zone is the violation's zone;
- time: the event is reported (its `last_seen_s` at the start) within the violation's interval plus the
  dwell: from_s <= t <= to_s + dwell_s;
- object: its box overlaps the violation's box nearest in time with IoU >= 0.3, or the two boxes stand on the
  same ground point (bottom-centres within a quarter of the true box's height).
A violation whose interval is shorter than the dwell (plus a margin for the ground truth's own error), or one
marked optional (a car on the zone's edge), is not expected: an event for it counts neither way, and missing it
is no miss.
The first event of a violation is a true positive, later ones duplicates; an event matching no violation is a
false positive (unjudged where the ground truth says it is not exhaustive); an expected violation without an
event is a miss. Between two sightings the true box moves linearly.
"""
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.vision import TilesConfig, ZoneConfig
from tests.requirements import SHARED_DIR

REPO = Path(__file__).resolve().parents[1]
GROUNDTRUTH_DIR = REPO / "bench" / "groundtruth"
MIN_IOU = 0.3
GROUND_POINT_TOLERANCE = 0.25  # of the true box's height
REPO_MODELS = "vision/models/"  # a ground truth's model under this folder is the repository's, not ../shared's
DWELL_MARGIN_S = 1.0  # a stay this close to the dwell may or may not qualify: neither expected nor wrong

Box = tuple[float, float, float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sighting(_Strict):
    t: float = Field(description="media seconds (stills: seconds since the first still)")
    box: Box = Field(description="x1, y1, x2, y2 in the frame's pixels")


class TrueViolation(_Strict):
    id: str
    zone: str = Field(description="the zone id (a zone of `zones`)")
    rule: Literal["illegal_parking", "street_vending"] = "illegal_parking"
    from_s: float = Field(description="the object stands still in the zone from this time")
    to_s: float = Field(description="... to this time (the clip's end when it is still there)")
    boxes: list[Sighting] = Field(min_length=1, description="the object at one or more times")
    optional: bool = Field(False, description="may or may not count (e.g. on the zone's edge): never a miss, never wrong")
    note: str = ""

    @model_validator(mode="after")
    def ordered(self) -> "TrueViolation":
        if self.to_s < self.from_s:
            raise ValueError(f"violation {self.id}: to_s {self.to_s} before from_s {self.from_s}")
        return self

    def box_at(self, t: float) -> Box:
        """The box at `t`: between two sightings moved linearly (a drone's view drifts), else the nearest one's."""
        sightings = sorted(self.boxes, key=lambda sighting: sighting.t)
        for before, after in zip(sightings, sightings[1:]):
            if before.t <= t <= after.t and after.t > before.t:
                share = (t - before.t) / (after.t - before.t)
                return tuple(b + share * (a - b) for b, a in zip(before.box, after.box))  # type: ignore[return-value]
        return min(sightings, key=lambda sighting: abs(sighting.t - t)).box


class GroundTruth(_Strict):
    clip: str = Field(description="the clip's name, also the pipeline's source id")
    media: str = Field(description="video file or folder of stills, relative to ../shared")
    made: str = Field(description="how this ground truth was made")
    model: str = Field(
        "models/yolo11n_int8_openvino_model",
        description="detector model, relative to ../shared; one under vision/models/ is the repository's (trained here)",
    )
    stabilize: bool = Field(False, description="a moving camera: the pipeline follows its ego-motion")
    moving_traffic: bool = Field(description="vehicles move through the view: its carriageway zones are hard negatives")
    times: str | None = Field(None, description="stills: CSV `image,time` (relative to this file)")
    seconds_per_still: float | None = Field(None, gt=0, description="stills without a times file: their spacing")
    input_shape: Literal["square", "rect"] = "square"
    tiles: TilesConfig | None = Field(None, description="tiled detection as the clip's source would set it")
    not_run: str | None = Field(None, description="why the bench does not analyse this clip (a single still, ...)")
    zones_file: str | None = Field(None, description="zones scored: a config/zones file (relative to the repository)")
    zones: list[dict[str, Any]] = Field([], description="zones scored (config/zones format), besides zones_file's")
    carriageway: list[dict[str, Any]] = Field([], description="zones over moving traffic: no event may come from them")
    violations: list[TrueViolation] = Field([], description="every true violation; empty = none in this clip")
    dwell_margin_s: float = Field(
        DWELL_MARGIN_S, ge=0, description="a stay this much longer than the dwell is expected (the truth's own error)"
    )
    exhaustive: bool = Field(
        True, description="false: `violations` are some of the clip's, not all; an event matching none is unjudged, "
        "not a false positive"
    )
    vending_only: bool = Field(False, description="only vending is judged here: no vehicle in view")

    @model_validator(mode="after")
    def violations_name_zones(self) -> "GroundTruth":
        zone_ids = [zone["id"] for zone in self.scored_zones + self.carriageway]
        if len(zone_ids) != len(set(zone_ids)):
            raise ValueError(f"{self.clip}: zone ids repeat: {zone_ids}")
        for violation in self.violations:
            if violation.zone not in {zone["id"] for zone in self.scored_zones}:
                raise ValueError(f"{self.clip}: violation {violation.id} names unknown zone {violation.zone!r}")
        return self

    @property
    def scored_zones(self) -> list[dict[str, Any]]:
        """The zones of `zones_file` and `zones`: those whose violations are scored."""
        from_file = yaml.safe_load((REPO / self.zones_file).read_text(encoding="utf-8"))["zones"] if self.zones_file else []
        return [*from_file, *self.zones]

    @property
    def model_path(self) -> Path:
        """The model's path: the repository's for one the project trained (vision/models/...), else ../shared's."""
        return REPO / self.model if self.model.startswith(REPO_MODELS) else SHARED_DIR / self.model

    @property
    def is_stills(self) -> bool:
        return self.times is not None or self.seconds_per_still is not None

    def zone_configs(self, dwell_s: float | None = None) -> list[ZoneConfig]:
        """Every zone (scored and carriageway) as the pipeline takes it; `dwell_s` replaces each zone's own."""
        configs = []
        for zone in self.scored_zones + self.carriageway:
            config = ZoneConfig.model_validate({key: value for key, value in zone.items() if key in ZoneConfig.model_fields})
            configs.append(config if dwell_s is None else config.model_copy(update={"dwell_s": dwell_s}))
        return configs


def load_groundtruth(path: Path) -> GroundTruth:
    """One ground-truth file; a clear error naming the file on a bad one."""
    try:
        return GroundTruth.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def all_groundtruth(folder: Path = GROUNDTRUTH_DIR) -> list[tuple[Path, GroundTruth]]:
    return [(path, load_groundtruth(path)) for path in sorted(folder.glob("*.yaml"))]


@dataclass(frozen=True)
class ReportedEvent:
    """What the scorer needs of a `start` event."""

    zone_id: str
    rule: str
    reported_s: float  # the event's last_seen_s at its start
    box: Box
    event_id: str = ""


@dataclass
class Score:
    """Counts of one clip (or a total) under one setting."""

    true_positives: int = 0
    false_positives: int = 0
    unjudged: int = 0  # events matching no violation of a clip whose ground truth is not exhaustive
    misses: int = 0
    duplicates: int = 0
    not_expected: int = 0  # events for violations shorter than the dwell: neither right nor wrong
    delays_s: list[float] = field(default_factory=list)  # dwell reached -> event, per true positive
    false_positive_events: list[dict[str, Any]] = field(default_factory=list)
    duplicate_events: list[dict[str, Any]] = field(default_factory=list)  # each with the violation it repeats
    missed: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        reported = self.true_positives + self.false_positives
        return self.true_positives / reported if reported else None

    @property
    def recall(self) -> float | None:
        expected = self.true_positives + self.misses
        return self.true_positives / expected if expected else None

    def add(self, other: "Score") -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.unjudged += other.unjudged
        self.misses += other.misses
        self.duplicates += other.duplicates
        self.not_expected += other.not_expected
        self.delays_s += other.delays_s
        self.false_positive_events += other.false_positive_events
        self.duplicate_events += other.duplicate_events
        self.missed += other.missed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["precision"], data["recall"] = self.precision, self.recall
        data["delay_s_mean"] = float(np.mean(self.delays_s)) if self.delays_s else None
        data["delay_s_max"] = max(self.delays_s) if self.delays_s else None
        return data


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    intersection = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection
    return intersection / union if union > 0 else 0.0


def same_object(event_box: Sequence[float], true_box: Sequence[float]) -> bool:
    """IoU >= 0.3, or the same ground point (bottom-centres within a quarter of the true box's height)."""
    if box_iou(event_box, true_box) >= MIN_IOU:
        return True
    event_point = np.array([(event_box[0] + event_box[2]) / 2, event_box[3]])
    true_point = np.array([(true_box[0] + true_box[2]) / 2, true_box[3]])
    return bool(np.linalg.norm(event_point - true_point) <= GROUND_POINT_TOLERANCE * (true_box[3] - true_box[1]))


def matches(event: ReportedEvent, violation: TrueViolation, dwell_s: float) -> bool:
    return (
        event.zone_id == violation.zone
        and event.rule == violation.rule
        and violation.from_s <= event.reported_s <= violation.to_s + dwell_s
        and same_object(event.box, violation.box_at(event.reported_s))
    )


def score(
    events: Iterable[ReportedEvent], violations: Sequence[TrueViolation], dwell_of_zone: dict[str, float],
    *, exhaustive: bool = True, margin_s: float = DWELL_MARGIN_S,
) -> Score:
    """Match one clip's start events (of the scored zones) to its true violations (`exhaustive`: all of them)."""
    result = Score()
    expected = {
        v.id: not v.optional and v.to_s - v.from_s >= dwell_of_zone[v.zone] + margin_s for v in violations
    }
    matched: set[str] = set()
    for event in sorted(events, key=lambda e: e.reported_s):
        candidates = [v for v in violations if matches(event, v, dwell_of_zone[v.zone])]
        if not candidates:
            if exhaustive:
                result.false_positives += 1
                result.false_positive_events.append(asdict(event))
            else:
                result.unjudged += 1
            continue
        # An unmatched violation first, then the nearest in time to its dwell being reached.
        violation = min(candidates, key=lambda v: (v.id in matched, abs(event.reported_s - v.from_s)))
        if not expected[violation.id]:
            result.not_expected += 1
        elif violation.id in matched:
            result.duplicates += 1
            result.duplicate_events.append({**asdict(event), "violation": violation.id})
        else:
            matched.add(violation.id)
            result.true_positives += 1
            result.delays_s.append(round(event.reported_s - (violation.from_s + dwell_of_zone[violation.zone]), 3))
    result.missed = [v.id for v in violations if expected[v.id] and v.id not in matched]
    result.misses = len(result.missed)
    return result
