"""The hand-over to dispatch: a violation event as the detection report the platform takes in."""
import base64
import datetime as dt
from pathlib import Path
from typing import Any

from vision.events import ViolationEvent


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
        "photos": [
            {"name": Path(path).name, "jpeg_base64": base64.b64encode(Path(path).read_bytes()).decode()}
            for path in event.evidence_paths
        ],
        "event": event.to_dict(),
    }
