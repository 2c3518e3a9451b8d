"""What an object looks like: HSV colour histograms of its box crop in horizontal bands, compared by intersection.

A stay keeps the look of its first sighting; a later sighting continues it only when it looks alike,
so a second car stopping where the first one stood never inherits the first one's dwell. The
separation of same and different vehicles on the shared clips is measured by
`python -m bench.appearance_bench` (figures in bench/README.md).
"""
import cv2
import numpy as np

from config.vision import AppearanceConfig


def box_crops(image: np.ndarray, boxes_xyxy: np.ndarray, inset: float) -> list[np.ndarray]:
    """The pixels inside each box, less `inset` of its width and height on every side (road and neighbours)."""
    height, width = image.shape[:2]
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    sizes = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
    inner = boxes + np.concatenate([sizes, -sizes], axis=1) * inset
    x1 = np.clip(np.floor(inner[:, 0]), 0, width - 1).astype(int)
    y1 = np.clip(np.floor(inner[:, 1]), 0, height - 1).astype(int)
    x2 = np.clip(np.ceil(inner[:, 2]), x1 + 1, width).astype(int)
    y2 = np.clip(np.ceil(inner[:, 3]), y1 + 1, height).astype(int)
    return [image[top:bottom, left:right] for left, top, right, bottom in zip(x1, y1, x2, y2)]


class Appearance:
    """`describe(image, boxes)` -> (N, D) histograms summing to 1; `similarity(a, b)` -> intersection in [0, 1]."""

    def __init__(self, config: AppearanceConfig) -> None:
        self.config = config
        self._channels = [0, 1, 2]
        self._bins = [config.hue_bins, config.saturation_bins, config.value_bins]
        self._ranges = [0, 180, 0, 256, 0, 256]

    @property
    def size(self) -> int:
        return int(np.prod(self._bins)) * self.config.bands

    def describe(self, image: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """One normalised H x S x V histogram per box crop (BGR image)."""
        crops = box_crops(image, boxes_xyxy, self.config.inset)
        described = np.zeros((len(crops), self.size), np.float32)
        bands = self.config.bands
        for row, crop in enumerate(crops):
            hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
            edges = np.linspace(0, len(hsv), bands + 1).round().astype(int)
            for band, (top, bottom) in enumerate(zip(edges[:-1], edges[1:])):
                part = hsv[top:max(bottom, top + 1)]
                histogram = cv2.calcHist([part], self._channels, None, self._bins, self._ranges).ravel()
                described[row, band * len(histogram):(band + 1) * len(histogram)] = (
                    histogram / max(float(histogram.sum()), 1.0) / bands
                )
        return described

    def judges(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(N,) bool: the box crop holds enough pixels (min_look_px after the inset) for its look to mean anything."""
        boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
        kept = 1 - 2 * self.config.inset
        pixels = (boxes[:, 2] - boxes[:, 0]) * kept * (boxes[:, 3] - boxes[:, 1]) * kept
        return pixels >= self.config.min_look_px

    @staticmethod
    def similarity(reference: np.ndarray, others: np.ndarray) -> np.ndarray:
        """(N,) histogram intersection of one (D,) histogram with each of (N, D): 1 = the same colours."""
        return np.minimum(reference[None, :], others.reshape(-1, len(reference))).sum(axis=1)

    def alike(self, reference: np.ndarray, others: np.ndarray) -> np.ndarray:
        """(N,) bool: looks like the same object."""
        return self.similarity(reference, others) >= self.config.min_similarity
