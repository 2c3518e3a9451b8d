"""Vision settings (config/vision.yaml) and per-camera zone files (config/zones/*.yaml)."""
from pathlib import Path
from typing import Literal

import shapely
import yaml
from pydantic import Field, field_validator, model_validator

from config.base import ConfigFileError, StrictModel, reading_settings_file

VISION_FILE = Path(__file__).resolve().parent / "vision.yaml"

# stall: a stall-like object (parasol, table of goods, cart, a stall class); vendor: a custom model's vendor
# (a stall seen from above). Either held still in a no_vending zone is street vending; a person never is.
Kind = Literal["vehicle", "person", "stall", "vendor"]
Rule = Literal["illegal_parking", "street_vending"]
Point = tuple[float, float]

DEFAULT_CLASS_MAP: dict[str, Kind] = {
    **{name: "vehicle" for name in ("car", "truck", "bus", "motorcycle")},
    "person": "person",
    "umbrella": "stall",
    "dining table": "stall",
    # a custom city-management model
    "vehicle": "vehicle",
    "stall": "stall",
    "tricycle cart": "stall",
    "vendor": "vendor",
}
DEFAULT_CLASS_CONF: dict[str, float] = {"umbrella": 0.4, "dining table": 0.4, "stall": 0.5}


# The fast path's network input: square (imgsz x imgsz) or rect (the smallest multiple of 32 around the frame).
InputShape = Literal["square", "rect"]


class RuntimeConfig(StrictModel):
    """The OpenVINO runtime of the fast path (detector.runtime: auto on an IR, or openvino)."""

    performance_hint: Literal["LATENCY", "THROUGHPUT"] = Field(
        "THROUGHPUT", description="OpenVINO CPU hint: one request on every core, or several requests side by side"
    )
    num_streams: int = Field(
        0, ge=0, le=64, description="OpenVINO CPU streams (requests run in parallel); 0 = let the hint choose"
    )
    num_threads: int = Field(0, ge=0, le=256, description="OpenVINO inference threads; 0 = every core")
    infer_requests: int = Field(
        4, ge=0, le=64, description="requests kept in flight by detect_many; 0 = OpenVINO's optimal number"
    )
    input_shape: InputShape = Field(
        "square",
        description="square: imgsz x imgsz, boxes equal Ultralytics' predict on the IR; rect: the smallest multiple "
        "of 32 around the letterboxed frame (640x384 for 16:9), as Ultralytics does for .pt models: fewer pixels",
    )
    max_det: int = Field(300, ge=1, le=10000, description="most boxes kept per image after NMS (Ultralytics' default)")
    max_nms: int = Field(30000, ge=1, le=100000, description="most candidates entering NMS (Ultralytics' default)")


class StreamsConfig(StrictModel):
    """Many sources on one model: each decoded in its own thread, frames of several sources per detection call."""

    batch: int = Field(8, ge=1, le=64, description="most frames of different sources run through one detect_many call")
    read_ahead: int = Field(2, ge=1, le=64, description="analysed frames decoded ahead per source, awaiting detection")
    decoder_threads: int = Field(
        1, ge=0, le=64, description="FFmpeg threads per video decoder; 0 = FFmpeg's choice (one per core)"
    )
    drop_when_full: bool = Field(
        False, description="live streams: drop and count a frame when its source's read-ahead is full; files: wait"
    )


class TilesConfig(StrictModel):
    """Tiled detection (vision/tiles.py): small objects are found in enlarged overlapping windows of the frame."""

    columns: int = Field(1, ge=1, le=8, description="windows across the frame (1 and rows 1: no tiling)")
    rows: int = Field(1, ge=1, le=8, description="windows down the frame")
    overlap: float = Field(0.25, ge=0.0, le=0.5, description="share of a window its neighbour also covers")
    full_frame: bool = Field(True, description="the whole frame runs too (objects larger than the overlap)")
    merge_iou: float = Field(0.5, gt=0.0, le=1.0, description="boxes of two windows overlapping this much are one")

    @property
    def enabled(self) -> bool:
        return self.columns * self.rows > 1


class DetectorConfig(StrictModel):
    model: str = Field(
        "yolo11n.pt", min_length=1, description="model path (.pt, ONNX, OpenVINO folder, engine) or Triton URL"
    )
    runtime: Literal["auto", "ultralytics", "openvino"] = Field(
        "auto", description="auto: openvino for an OpenVINO IR folder on the CPU, else ultralytics; ultralytics: any "
        "format; openvino: an OpenVINO IR run directly (faster, same boxes)"
    )
    openvino: RuntimeConfig = Field(default_factory=RuntimeConfig, description="settings of the openvino runtime")
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?|\d+)$", description="inference device: cpu, cuda or cuda:N")
    imgsz: int = Field(640, ge=32, le=4096, multiple_of=32, description="inference image size in pixels")
    conf: float = Field(0.1, ge=0.01, le=1.0, description="lowest confidence kept; ByteTrack uses the weak ones too")
    iou: float = Field(0.7, gt=0.0, le=1.0, description="NMS IoU threshold")
    agnostic_nms: bool = Field(True, description="one box per object across classes (car and truck on one car)")
    class_map: dict[str, Kind] = Field(DEFAULT_CLASS_MAP, min_length=1, description="model class name -> kind")
    class_conf: dict[str, float] = Field(
        DEFAULT_CLASS_CONF,
        description="model class name -> lowest confidence a box of it is kept at (over `conf`): a stall sign "
        "needs more than ByteTrack's weak boxes (a white table top seen as an umbrella at 0.2-0.29)",
    )

    @model_validator(mode="after")
    def floors_above_conf(self) -> "DetectorConfig":
        # (a floor of a class the map leaves out, or the model lacks, keeps nothing out: harmless)
        if any(not self.conf <= floor <= 1.0 for floor in self.class_conf.values()):
            raise ValueError(f"class_conf floors must lie in conf ({self.conf}) to 1")
        return self
    tiles: TilesConfig = Field(default_factory=TilesConfig, description="tiled detection for small objects")


class TrackerConfig(StrictModel):
    track_high_thresh: float = Field(0.25, ge=0.0, le=1.0, description="first-stage match confidence")
    track_low_thresh: float = Field(0.1, ge=0.0, le=1.0, description="second-stage (weak box) confidence")
    new_track_thresh: float = Field(0.25, ge=0.0, le=1.0, description="confidence needed to start a track")
    match_thresh: float = Field(0.8, gt=0.0, le=1.0, description="association cost threshold (1 - IoU)")
    fuse_score: bool = Field(True, description="weigh IoU by detection confidence when matching")
    lost_track_s: float = Field(10.0, gt=0.0, le=600.0, description="seconds a lost track may come back")
    tracked_kinds: list[Kind] = Field(
        ["vehicle", "person", "stall", "vendor"], min_length=1,
        description="kinds given track ids (zone presence needs one: an untracked box is never in a zone)"
    )


class PresenceConfig(StrictModel):
    enter_frames: int = Field(2, ge=1, le=50, description="consecutive analysed frames inside before present")
    leave_frames: int = Field(2, ge=1, le=50, description="consecutive analysed frames outside before absent")


class AppearanceConfig(StrictModel):
    """The look of an object (vision/appearance.py): HSV histograms of its box crop, band by band."""

    hue_bins: int = Field(8, ge=1, le=180, description="histogram bins over hue")
    saturation_bins: int = Field(4, ge=1, le=256, description="histogram bins over saturation")
    value_bins: int = Field(4, ge=1, le=256, description="histogram bins over brightness")
    bands: int = Field(2, ge=1, le=8, description="horizontal bands of the crop, one histogram each (top to bottom)")
    inset: float = Field(
        0.1, ge=0.0, lt=0.5, description="share of the box's width and height left out on each side (road, neighbours)"
    )
    min_similarity: float = Field(
        0.6, ge=0.0, le=1.0, description="histogram intersection a sighting needs with the stay's look to continue it"
    )
    min_look_px: int = Field(
        1024, ge=0, le=1_000_000,
        description="pixels a box crop (after the inset) needs for its colours to tell one vehicle from another; "
        "smaller boxes are matched by place and overlap alone",
    )


def seconds_for_every_rule(seconds: dict[Rule, float], what: str) -> dict[Rule, float]:
    """A rule -> seconds table naming every rule, each in 0-3600 s."""
    missing = {"illegal_parking", "street_vending"} - seconds.keys()
    if missing:
        raise ValueError(f"no {what} for rule(s) {sorted(missing)}")
    if any(not 0 <= value <= 3600 for value in seconds.values()):
        raise ValueError(f"{what}s must lie in 0-3600 s")
    return seconds


class DwellConfig(StrictModel):
    lost_grace_s: float = Field(
        5.0, ge=0.0, le=600.0, description="seconds a stay may go unseen (occlusion) before it ends"
    )
    match_iou: float = Field(0.5, ge=0.0, le=1.0, description="overlap a sighting needs with a stay's last box")
    reference_follow: float = Field(
        0.1, ge=0.0, le=0.5,
        description="share of each sighting blended into a stay's reference point and look (camera drift, light)",
    )
    min_still_s: float = Field(
        1.0, ge=0.0, le=600.0,
        description="seconds an object must be seen still in every analysed frame before its stay counts",
    )
    min_still_frames: int = Field(
        3, ge=1, le=100,
        description="analysed frames an object must be seen still in, besides min_still_s, before its stay counts",
    )
    uncovered_grace_s: float = Field(
        1.0, ge=0.0, le=600.0,
        description="seconds a counting stay may go unseen with no other box covering it before it ends",
    )
    cover_share: float = Field(
        0.5, gt=0.0, le=1.0, description="share of a stay's box another box must cover to hide it (occlusion)"
    )
    duplicate_share: float = Field(
        0.8, gt=0.0, le=1.0,
        description="a box lying this share inside the box of an object that continued a stay is a part of it (the "
        "detector boxed its top too): it opens no stay; a stay lying this much inside a reported stay's box (or "
        "holding it) is that object",
    )
    jitter_px: float = Field(
        6.0, ge=0.0, le=100.0,
        description="pixels a still object's box wanders from frame to frame whatever its size (the detector's "
        "jitter): the least stationary tolerance of any zone",
    )
    edge_px: float = Field(
        2.0, ge=0.0, le=50.0,
        description="a box side this close to the frame's edge is cut by it: that side is matched to where the stay "
        "last saw it, and the cut box is judged by place alone",
    )
    rejoin_s: dict[Rule, float] = Field(
        {"illegal_parking": 120.0, "street_vending": 0.0},
        description="rule -> seconds a reported stay whose object has gone waits for it to reappear where it stood "
        "(the same violation, no new event); its end event comes after",
    )
    rejoin_iou: float = Field(0.3, ge=0.0, le=1.0, description="overlap a reappearing box needs with the gone stay's")
    min_unseen_frames: int = Field(
        3, ge=1, le=100,
        description="a counting stay survives fewer consecutive unseen analysed frames than this, whatever the "
        "seconds (stills lie seconds apart: one missed still is a detector's miss, not a departure)",
    )
    appearance: AppearanceConfig = Field(default_factory=AppearanceConfig, description="the look check of a stay")
    update_every_s: float = Field(30.0, gt=0.0, le=3600.0, description="seconds between update events of an open event")

    @field_validator("rejoin_s")
    @classmethod
    def every_rule_rejoins(cls, seconds: dict[Rule, float]) -> dict[Rule, float]:
        return seconds_for_every_rule(seconds, "rejoin time")


class EventConfig(StrictModel):
    categories: dict[Rule, str] = Field(
        {"illegal_parking": "0505", "street_vending": "0501"}, description="rule -> case category code"
    )

    @field_validator("categories")
    @classmethod
    def every_rule(cls, categories: dict[Rule, str]) -> dict[Rule, str]:
        missing = {"illegal_parking", "street_vending"} - categories.keys()
        if missing:
            raise ValueError(f"no category code for rule(s) {sorted(missing)}")
        return categories


class EvidenceConfig(StrictModel):
    second_photo_after_s: dict[Rule, float] = Field(
        {"illegal_parking": 120.0, "street_vending": 240.0},
        description="rule -> seconds between an event's two photos (a zone may set its own)",
    )
    jpeg_quality: int = Field(90, ge=30, le=100, description="JPEG quality of evidence photos")

    @field_validator("second_photo_after_s")
    @classmethod
    def every_rule_timed(cls, seconds: dict[Rule, float]) -> dict[Rule, float]:
        return seconds_for_every_rule(seconds, "second-photo time")


class ReportConfig(StrictModel):
    confident_conf: float = Field(0.25, ge=0.0, le=1.0, description="confidence a box needs to count as a detection")
    min_detections_per_frame: float = Field(
        0.1, ge=0.0, le=100.0, description="fewer confident boxes a frame: warn that the model sees nothing here"
    )


class MotionConfig(StrictModel):
    features: int = Field(1500, ge=100, le=10000, description="ORB features per frame for ego-motion")
    min_inliers: int = Field(15, ge=4, le=1000, description="agreeing matches needed to trust a frame step")
    ransac_px: float = Field(3.0, gt=0, le=50, description="RANSAC reprojection threshold in pixels")


class GateConfig(StrictModel):
    """Motion gating (as Frigate does): the model skips an analysed frame in which nothing moved."""

    enabled: bool = Field(True, description="reuse the last detections while the picture has not changed")
    thumbnail_width: int = Field(160, ge=16, le=1920, description="width of the grey thumbnail frames are compared at")
    pixel_delta: int = Field(25, ge=1, le=255, description="grey levels a thumbnail pixel must move to count as changed")
    max_changed: float = Field(
        0.001, ge=0.0, le=1.0, description="changed fraction of the thumbnail at or under which nothing moved"
    )
    max_reuse: int = Field(2, ge=0, le=1000, description="unchanged frames in a row that reuse detections; then the model runs")


class PlatesConfig(StrictModel):
    """Licence plates on parking evidence (vision/plates): detector, colour classifier, LPRNet recogniser."""

    enabled: bool = Field(False, description="read the plate on each parking event's evidence photos")
    detector: str = Field("../shared/models/plates/y5fu_320x_sim.onnx", min_length=1, description="plate detector ONNX")
    classifier: str = Field(
        "../shared/models/plates/litemodel_cls_96x_r1.onnx", min_length=1, description="plate colour classifier ONNX"
    )
    weights: str = Field(
        "../shared/models/plates/Final_LPRNet_model.pth", min_length=1, description="LPRNet state_dict to export"
    )
    recognizer: str = Field(
        "var/models/lprnet.onnx", min_length=1, description="LPRNet ONNX written by `python -m vision plates export`"
    )
    threads: int = Field(1, ge=1, le=64, description="onnxruntime threads per model")
    detector_conf: float = Field(0.3, gt=0.0, le=1.0, description="lowest plate objectness kept")
    nms_iou: float = Field(0.5, gt=0.0, le=1.0, description="NMS IoU threshold between plate boxes")
    vehicle_margin: float = Field(0.05, ge=0.0, le=1.0, description="vehicle box widened by this share on each side")
    min_confidence: float = Field(
        0.4, ge=0.0, le=1.0, description="weakest character's probability a read needs; lower: no plate, low_confidence"
    )
    max_grammar_gap: float = Field(
        8.0, ge=0.0, le=100.0,
        description="nats the nearest grammatical plate may lie below the free read; more: not a plate",
    )


class VisionConfig(StrictModel):
    analysis_fps: float = Field(2.0, gt=0.0, le=60.0, description="analysed frames per second of media time")
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    presence: PresenceConfig = Field(default_factory=PresenceConfig)
    dwell: DwellConfig = Field(default_factory=DwellConfig)
    events: EventConfig = Field(default_factory=EventConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    streams: StreamsConfig = Field(default_factory=StreamsConfig)
    plates: PlatesConfig = Field(default_factory=PlatesConfig)


class ZoneConfig(StrictModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$", description="zone id, unique per camera")
    kind: Literal["no_parking", "no_vending"] = Field(description="which rule the zone enforces")
    frame: Literal["image", "ground"] = Field(
        "image", description="polygon in image pixels (fixed cameras) or WGS-84 lon/lat (drones, located cameras)"
    )
    polygon: list[Point] = Field(min_length=3, description="outline in the zone's frame: pixels or lon/lat")
    holes: list[list[Point]] = Field([], description="areas inside the outline where the rule does not apply")
    dwell_s: float = Field(60.0, ge=0.0, le=86400.0, description="seconds stationary inside before an event")
    stationary_tolerance: float = Field(0.25, gt=0.0, le=1000.0, description="how far the anchor may wander")
    stationary_unit: Literal["box", "px", "m"] = Field(
        "box", description="tolerance as a fraction of box height, pixels, or metres on the ground (a located camera)"
    )
    second_photo_after_s: float | None = Field(
        None, ge=0.0, le=3600.0,
        description="seconds between an event's two photos here; null = evidence's for the rule",
    )
    queue: bool = Field(
        False, description="a lane where vehicles wait (stop line, signal): a stop here counts only past min_stop_s"
    )
    min_stop_s: float | None = Field(
        None, ge=0.0, le=86400.0,
        description="stops shorter than this never count, whatever dwell_s says; a queue lane without it never counts",
    )

    @field_validator("polygon")
    @classmethod
    def polygon_is_simple(cls, polygon: list[Point]) -> list[Point]:
        outline = shapely.Polygon(polygon)
        if not outline.is_valid:  # a self-crossing outline has no inside to test points against
            raise ValueError(f"polygon is not valid ({shapely.is_valid_reason(outline)})")
        return polygon

    @field_validator("holes")
    @classmethod
    def holes_are_polygons(cls, holes: list[list[Point]]) -> list[list[Point]]:
        if any(len(hole) < 3 for hole in holes):
            raise ValueError("every hole needs at least 3 points")
        return holes


class CameraZonesConfig(StrictModel):
    source_id: str = Field(min_length=1, max_length=64, description="the camera these zones belong to")
    zones: list[ZoneConfig] = Field(min_length=1, description="the camera's zones")


def _read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigFileError(path, "the top level must be a mapping")
    return data


def verify_zone_ids_unique(zones: CameraZonesConfig) -> None:
    ids = [zone.id for zone in zones.zones]
    if len(ids) != len(set(ids)):
        raise ValueError(f"camera {zones.source_id!r}: zone ids repeat: {ids}")


def verify_zone_kinds_detected(zones: CameraZonesConfig, vision: VisionConfig) -> None:
    """A zone's rule needs the class map to name something that rule watches."""
    kinds = set(vision.detector.class_map.values())
    watched = {"no_parking": {"vehicle"}, "no_vending": {"stall", "vendor"}}
    for zone in zones.zones:
        if not watched[zone.kind] & kinds:
            raise ValueError(f"zone {zone.id!r} ({zone.kind}) needs a class mapped to {sorted(watched[zone.kind])}")


def load_vision_config(path: Path = VISION_FILE, overrides: dict | None = None) -> VisionConfig:
    """config/vision.yaml (or `path`) with `overrides` laid over its top-level sections."""
    data = _read_yaml(path)
    for section, values in (overrides or {}).items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return VisionConfig.model_validate(data)


def load_zones(path: Path, vision: VisionConfig) -> CameraZonesConfig:
    """The camera's zones; ConfigFileError names the file and the problem on one line."""
    with reading_settings_file(path):
        zones = CameraZonesConfig.model_validate(_read_yaml(path))
        verify_zone_ids_unique(zones)
        verify_zone_kinds_detected(zones, vision)
    return zones
