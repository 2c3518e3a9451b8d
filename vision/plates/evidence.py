"""The plate on a parking event: read on each evidence photo's frame, the best reading kept, its crop written."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:  # the models load only where plates are enabled
    from config.vision import PlatesConfig
    from vision.plates.reader import PlateReader, PlateReading

PLATE_RULES = ("illegal_parking",)


class PlateEvidence:
    """`observe` on the frame of each evidence photo (two per event, never every frame); `current` per event."""

    def __init__(self, reader: PlateReader, out_dir: Path, jpeg_quality: int) -> None:
        self.reader = reader
        self.out_dir = out_dir
        self.jpeg_quality = jpeg_quality
        self._best: dict[str, tuple[PlateReading, dict[str, Any]]] = {}
        self._spent_ms: dict[str, float] = {}

    def observe(self, event_id: str, rule: str, image: np.ndarray, box: tuple[float, float, float, float],
                file_stem: str) -> None:
        """Read the plate in the vehicle's box; keep it if it beats the event's earlier reading."""
        if rule not in PLATE_RULES:
            return
        started = time.perf_counter()
        reading = self.reader.read_vehicle(image, box)
        self._spent_ms[event_id] = self._spent_ms.get(event_id, 0.0) + (time.perf_counter() - started) * 1000
        earlier = self._best.get(event_id)
        if earlier is not None and _rank(earlier[0]) >= _rank(reading):
            return
        fields = reading.as_event()
        if reading.crop is not None:
            path = self.out_dir / f"{file_stem}_plate.jpg"
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(path), reading.crop, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]):
                raise OSError(f"cannot write plate crop {path}")
            fields["crop_path"] = str(path)
        self._best[event_id] = (reading, fields)

    def current(self, event_id: str, *, forget: bool = False) -> dict[str, Any] | None:
        """The event's best plate so far (None before its first photo), with the read time spent on it."""
        best = self._best.pop(event_id, None) if forget else self._best.get(event_id)
        spent = self._spent_ms.pop(event_id, None) if forget else self._spent_ms.get(event_id)
        return None if best is None else {**best[1], "read_ms": round(spent or 0.0, 1)}


def load_reader(config: PlatesConfig) -> PlateReader | None:
    """The plate reader when `plates.enabled`, else None (parking events then carry no plate field)."""
    if not config.enabled:
        return None
    from vision.plates.reader import PlateReader

    return PlateReader(config)


def _rank(reading: PlateReading) -> tuple[bool, float]:
    """A plate read beats a refusal; then the more confident reading wins."""
    return reading.text is not None, reading.confidence
