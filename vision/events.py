"""Violation events handed to the bus: one per object and rule, with a start, update, end lifecycle."""
from dataclasses import asdict, dataclass
from typing import Any, Literal

from config.vision import Rule

Phase = Literal["start", "update", "end"]


def make_event_id(*, source_id: str, rule: str, stay_id: str, started_at_s: float) -> str:
    """Stable across runs: re-analysing the same file gives the same ids."""
    return f"{source_id}:{rule}:{stay_id}:{round(started_at_s * 1000)}"


@dataclass(frozen=True)
class ViolationEvent:
    event_id: str
    source_id: str
    rule: Rule
    category: str  # case category code, e.g. "0505"
    zone_id: str
    phase: Phase
    started_at_s: float  # media time the object became stationary in the zone
    last_seen_s: float
    dwell_s: float
    box_xyxy: tuple[float, float, float, float]  # pixels, last sighting
    ground_point_px: tuple[float, float]  # bottom-centre of the box
    track_ids: tuple[int, ...]
    confidence: float  # highest detection confidence during the stay
    evidence_paths: tuple[str, ...] = ()
    location: tuple[float, float] | None = None  # (lon, lat) when the camera can be located
    # The second photo's check: how much the object then looked like the first photo's (histogram
    # intersection, 0-1) and whether that is the same object; None until the second photo is due, and for a box
    # too small for its look to mean anything (dwell.appearance.min_look_px).
    second_photo_similarity: float | None = None
    second_photo_same: bool | None = None
    # Parking events with plates enabled: text (None: no plate), colour, confidence, raw read, reason and detail
    # when refused, crop_path of the rectified plate, read_ms spent on this event (vision/plates/evidence.py)
    plate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: tuples become lists."""
        data = asdict(self)
        for key in ("box_xyxy", "ground_point_px", "track_ids", "evidence_paths", "location"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data
