"""Motion gating: the model runs only when the picture changed since the last frame it ran on.

A parked car and an empty street look the same at 2 frames a second; their detections stand until
something moves (or `max_reuse` frames have passed), as Frigate skips detection on motionless frames.
"""
import cv2
import numpy as np

from config.vision import GateConfig


class MotionGate:
    """`changed(image)`: must the model run on this frame? Compares a grey thumbnail with the last frame it ran on."""

    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self._reference: np.ndarray | None = None  # the thumbnail of the last frame the model ran on
        self._reused = 0

    def changed(self, image: np.ndarray) -> bool:
        thumbnail = self._thumbnail(image)
        if self._still(thumbnail) and self._reused < self.config.max_reuse:
            self._reused += 1
            return False
        self._reference, self._reused = thumbnail, 0
        return True

    def _still(self, thumbnail: np.ndarray) -> bool:
        if self._reference is None or self._reference.shape != thumbnail.shape:
            return False
        moved = cv2.absdiff(thumbnail, self._reference) > self.config.pixel_delta
        return float(moved.mean()) <= self.config.max_changed

    def _thumbnail(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        size = (self.config.thumbnail_width, max(1, round(height * self.config.thumbnail_width / width)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return cv2.GaussianBlur(grey, (3, 3), 0)  # sensor noise is not motion
