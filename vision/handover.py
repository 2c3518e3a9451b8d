"""The hand-over to dispatch: a violation event as the detection report the platform takes in."""
import base64
import datetime as dt
from pathlib import Path
from typing import Any

from vision.events import ViolationEvent
from vision.evidence import clean_frame


def detection_report(event: ViolationEvent, *, source_kind: str, media_start: dt.datetime) -> dict[str, Any]:
    """JSON-ready report; `media_start` is the wall-clock time of the source's media time zero."""
    return {
        "event_id": event.event_id,
        "source": source_kind,
        "source_id": event.source_id,
        "phase": event.phase,
        "rule": event.rule,
        "category": event.category,
        "observed_at": (media_start + dt.timedelta(seconds=event.last_seen_s)).isoformat(),
        "dwell_s": event.dwell_s,
        "location": {"lon": event.location[0], "lat": event.location[1], "crs": "wgs84"} if event.location else None,
        # Photos travel with the report (at most two per event): the platform keeps its own copy.
        "photos": [photo_report(Path(path)) for path in event.evidence_paths],
        "plate": plate_report(event.plate) if event.plate is not None else None,
        "event": event.to_dict(),
    }


def plate_report(plate: dict[str, Any]) -> dict[str, Any]:
    """The plate read on the evidence (or why none was), its rectified crop attached."""
    report = {key: plate.get(key) for key in ("text", "colour", "confidence", "raw", "reason", "detail")
              if plate.get(key) is not None or key == "text"}
    crop = plate.get("crop_path")
    if crop:
        report["name"] = Path(crop).name
        report["crop_jpeg_base64"] = base64.b64encode(Path(crop).read_bytes()).decode()
    return report


def photo_report(path: Path) -> dict[str, Any]:
    """One evidence photo; the first also carries its frame unannotated and the object's box on it."""
    photo = {"name": path.name, "jpeg_base64": base64.b64encode(path.read_bytes()).decode()}
    frame = clean_frame(path)
    if frame is not None:
        photo["frame_jpeg_base64"], photo["box_xyxy"] = base64.b64encode(frame[0]).decode(), frame[1]
    return photo
