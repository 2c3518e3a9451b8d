"""Annotated evidence photos: box, zone, track id, camera id and media time drawn on the frame."""
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from config.vision import EvidenceConfig
from vision.events import ViolationEvent
from vision.zones import Zone

BOX_COLOUR = (0, 0, 255)  # BGR red
ZONE_COLOUR = (255, 160, 0)  # BGR light blue
TEXT_COLOUR = (255, 255, 255)
PHOTOS_PER_EVENT = 2  # enforcement needs two photos some time apart


def _media_time(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


class EvidenceWriter:
    """`attach(event, image, zone)` writes the event's next photo when one is due and returns the event with its paths.

    A photo is due at the start and at the first update (second_photo_after_s later, see DwellRules,
    which sends that update only when the object looks like the one of the first photo);
    the end event carries every path written.
    """

    def __init__(self, out_dir: Path, config: EvidenceConfig) -> None:
        self.out_dir = out_dir
        self.config = config
        self._paths: dict[str, tuple[str, ...]] = {}

    def attach(self, event: ViolationEvent, image: np.ndarray, zone: Zone) -> ViolationEvent:
        paths = self._paths.get(event.event_id, ())
        if event.phase != "end" and len(paths) < PHOTOS_PER_EVENT:
            paths = (*paths, str(self._write(event, image, zone, number=len(paths) + 1)))
        if event.phase == "end":
            self._paths.pop(event.event_id, None)
        else:
            self._paths[event.event_id] = paths
        return replace(event, evidence_paths=paths)

    def _write(self, event: ViolationEvent, image: np.ndarray, zone: Zone, *, number: int) -> Path:
        annotated = draw_evidence(image, event, zone)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        safe_id = event.event_id.replace(":", "_").replace("#", "-")
        path = self.out_dir / f"{safe_id}_{number}.jpg"
        if not cv2.imwrite(str(path), annotated, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]):
            raise OSError(f"cannot write evidence photo {path}")
        return path


def draw_evidence(image: np.ndarray, event: ViolationEvent, zone: Zone) -> np.ndarray:
    """A copy of `image` with the zone, the object's box and a caption."""
    annotated = image.copy()
    scale = max(image.shape[:2]) / 1000  # line widths and text follow the frame size
    thickness = max(1, round(2 * scale))
    if len(zone.outline):  # a zone drawn on the map has no outline in the image
        cv2.polylines(annotated, [zone.outline], isClosed=True, color=ZONE_COLOUR, thickness=thickness)
    x1, y1, x2, y2 = (round(v) for v in event.box_xyxy)
    cv2.rectangle(annotated, (x1, y1), (x2, y2), BOX_COLOUR, thickness)
    tracks = ",".join(str(t) for t in event.track_ids) or "-"
    font_scale = 0.5 * scale + 0.2
    label_at = (x1, max(0, y1 - 4))
    cv2.putText(annotated, f"#{tracks}", label_at, cv2.FONT_HERSHEY_SIMPLEX, font_scale, BOX_COLOUR, thickness)
    caption = (
        f"{event.source_id}  t={_media_time(event.last_seen_s)}  {event.rule} {event.category}  "
        f"zone {event.zone_id}  dwell {event.dwell_s:.1f}s"
    )
    height = round(24 * scale + 10)
    cv2.rectangle(annotated, (0, 0), (annotated.shape[1], height), (0, 0, 0), thickness=-1)
    cv2.putText(annotated, caption, (5, height - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale + 0.15, TEXT_COLOUR, 1)
    return annotated
