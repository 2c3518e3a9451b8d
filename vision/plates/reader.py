"""Read the plate of a vehicle: detect it in the vehicle's box, rectify it by its corners, classify, recognise."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from config.vision import PlatesConfig
from vision.plates.ctc import Decoded, constrained, greedy
from dispatch.plates.grammar import TEMPLATES, families, is_plate
from vision.plates.models import ColourClassifier, PlateBox, PlateDetector, Recognizer

CROP_SIZE = (282, 72)  # rectified plate as evidence: three times the recogniser's 94x24
DOUBLE_SPLIT = 0.4  # a double-layer plate's upper row (province, office letter) is the top 40 %
WORK_HEIGHT = 160  # rectified plate height before the recogniser's own resize


@dataclass
class PlateReading:
    """A plate read, or why none was: `text` is None unless grammar and confidence both hold."""

    text: str | None
    colour: str | None = None
    confidence: float = 0.0
    reason: str | None = None  # no_plate_found, not_a_plate, low_confidence
    detail: str = ""
    raw: str = ""  # the unconstrained (greedy) read
    candidate: str = ""  # the nearest grammatical read, kept even when refused
    box: tuple[float, float, float, float] | None = None  # plate box in the image given
    crop: np.ndarray | None = field(default=None, repr=False)  # rectified BGR plate, CROP_SIZE

    def as_event(self) -> dict:
        """The event's `plate` field (the crop travels as an evidence image)."""
        fields = {"text": self.text, "colour": self.colour, "confidence": round(self.confidence, 3), "raw": self.raw}
        if self.text is None:
            fields.update(reason=self.reason, detail=self.detail)
        return fields


class PlateReader:
    """The three models loaded once; `read_vehicle` on an evidence frame, `read_crop` on a rectified plate."""

    def __init__(self, config: PlatesConfig) -> None:
        self.config = config
        self.detector = PlateDetector(Path(config.detector), config.threads, config.detector_conf, config.nms_iou)
        self.classifier = ColourClassifier(Path(config.classifier), config.threads)
        self.recognizer = Recognizer(Path(config.recognizer), config.threads)

    def read_vehicle(self, image: np.ndarray, box: tuple[float, float, float, float] | None = None) -> PlateReading:
        """The best plate inside `box` (x1, y1, x2, y2 in pixels; the whole image if None)."""
        x0, y0, region = self._region(image, box)
        plates = self.detector(region)
        if not plates:
            return PlateReading(None, reason="no_plate_found", detail="the plate detector found no plate on the vehicle")
        plate = plates[0]
        crop = rectify(region, plate.corners)
        reading = self.read_crop(crop, double_layer=plate.double_layer)
        x1, y1, x2, y2 = plate.box
        reading.box = (x1 + x0, y1 + y0, x2 + x0, y2 + y0)
        return reading

    def read_crop(self, crop: np.ndarray, double_layer: bool = False) -> PlateReading:
        """Colour, text and confidence of a rectified BGR plate, or None with the reason."""
        colour, _ = self.classifier(crop)
        decoded, raw = self._decode(crop, colour, double_layer)
        confidence = min(decoded.char_probs) if decoded.char_probs else 0.0
        evidence = cv2.resize(crop, CROP_SIZE, interpolation=cv2.INTER_CUBIC)
        reading = PlateReading(None, colour, confidence, raw=raw.text, candidate=decoded.text, crop=evidence)
        gap = raw.log_prob - decoded.log_prob
        if not is_plate(decoded.text) or gap > self.config.max_grammar_gap:
            reading.reason = "not_a_plate"
            reading.detail = (f"the read {raw.text!r} breaks the plate grammar "
                              f"(nearest plate {decoded.text!r} is {gap:.1f} nats less likely)")
        elif confidence < self.config.min_confidence:
            reading.reason = "low_confidence"
            reading.detail = f"weakest character {confidence:.2f} < {self.config.min_confidence:.2f}"
        else:
            reading.text = decoded.text
        return reading

    def _decode(self, crop: np.ndarray, colour: str, double_layer: bool) -> tuple[Decoded, Decoded]:
        """Best grammatical read (the colour's families first, the others if those lie too far) and the free read."""
        if double_layer:  # upper row: province and office letter; lower row: the serial
            line = int(crop.shape[0] * DOUBLE_SPLIT)
            rows = [(self.recognizer(crop[:line]), slice(0, 2)), (self.recognizer(crop[line:]), slice(2, None))]
        else:
            rows = [(self.recognizer(crop), slice(None))]
        free = _joined([greedy(log_probs) for log_probs, _ in rows])
        best = free
        for group in families(colour):
            reads = [_joined([constrained(log_probs, TEMPLATES[name][part]) for log_probs, part in rows])
                     for name in group]
            best = max(reads, key=lambda decoded: decoded.log_prob)
            if free.log_prob - best.log_prob <= self.config.max_grammar_gap:
                break
        return best, free

    def _region(self, image: np.ndarray, box: tuple[float, float, float, float] | None) -> tuple[int, int, np.ndarray]:
        """The vehicle's box widened by `vehicle_margin` on each side, clipped to the image."""
        height, width = image.shape[:2]
        if box is None:
            return 0, 0, image
        x1, y1, x2, y2 = box
        margin_x, margin_y = (x2 - x1) * self.config.vehicle_margin, (y2 - y1) * self.config.vehicle_margin
        left, top = max(0, int(x1 - margin_x)), max(0, int(y1 - margin_y))
        right, bottom = min(width, int(x2 + margin_x) + 1), min(height, int(y2 + margin_y) + 1)
        return left, top, image[top:bottom, left:right]


def rectify(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Warp the quadrilateral (TL, TR, BR, BL) to an upright rectangle of the plate's own aspect."""
    tl, tr, br, bl = corners.astype(np.float32)
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr), 1.0)
    out_w = max(int(round(WORK_HEIGHT * width / height)), 1)
    target = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, WORK_HEIGHT - 1], [0, WORK_HEIGHT - 1]])
    matrix = cv2.getPerspectiveTransform(np.float32([tl, tr, br, bl]), target)
    return cv2.warpPerspective(image, matrix, (out_w, WORK_HEIGHT), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def _joined(parts: list[Decoded]) -> Decoded:
    """Rows of a double-layer plate read as one."""
    return Decoded("".join(p.text for p in parts), sum(p.log_prob for p in parts),
                   tuple(prob for p in parts for prob in p.char_probs))


__all__ = ["PlateBox", "PlateReader", "PlateReading", "rectify"]
