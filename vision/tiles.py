"""Tiled detection for small objects (far cars in a drone's oblique view): the frame and its overlapping tiles
run through the model, each tile enlarged to the network's input, and their boxes are merged into one set."""
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from config.vision import TilesConfig
from vision.detections import Detections
from vision.fast.detector import nms

EDGE_PX = 2.0  # a box this close to a tile's inner edge is cut by it: the whole object is in a neighbouring tile


class BoxDetector(Protocol):
    def detect_iter(self, images: Sequence[np.ndarray]) -> Iterator[Detections]: ...


@dataclass(frozen=True)
class Tile:
    """One window of the frame: its offset and size, and which of its edges lie inside the frame."""

    x: int
    y: int
    width: int
    height: int
    inner_edges: tuple[bool, bool, bool, bool]  # left, top, right, bottom edge is not the frame's edge

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.y:self.y + self.height, self.x:self.x + self.width]


def tile_grid(height: int, width: int, config: TilesConfig) -> list[Tile]:
    """columns x rows windows overlapping by `config.overlap` of a window, covering the whole frame."""
    # Sizes rounded up and offsets down: neighbours always meet or overlap, never leave a row of pixels out.
    tile_w = min(width, math.ceil(width / (config.columns - (config.columns - 1) * config.overlap)))
    tile_h = min(height, math.ceil(height / (config.rows - (config.rows - 1) * config.overlap)))
    xs = np.floor(np.linspace(0, width - tile_w, config.columns)).astype(int)
    ys = np.floor(np.linspace(0, height - tile_h, config.rows)).astype(int)
    return [
        Tile(int(x), int(y), tile_w, tile_h, (x > 0, y > 0, x + tile_w < width, y + tile_h < height))
        for y in ys for x in xs
    ]


class TiledDetector:
    """Wraps a detector: `detect(image)` runs the whole frame (when `config.full_frame`) and every tile, drops
    the boxes cut by a tile's inner edge and suppresses duplicates across windows (`config.merge_iou`)."""

    def __init__(self, detector: BoxDetector, config: TilesConfig) -> None:
        self.detector, self.config = detector, config

    def __getattr__(self, name: str):  # class_names, times, ...: those of the wrapped detector
        return getattr(self.detector, name)

    def detect(self, image: np.ndarray) -> Detections:
        return next(self.detect_iter([image]))

    def detect_many(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return list(self.detect_iter(images))

    def detect_iter(self, images: Sequence[np.ndarray]) -> Iterator[Detections]:
        """Each image's merged Detections in order; one image's windows run side by side."""
        for image in images:
            tiles = tile_grid(image.shape[0], image.shape[1], self.config)
            windows = ([image] if self.config.full_frame else []) + [tile.crop(image) for tile in tiles]
            found = list(self.detector.detect_iter(windows))
            parts = found[:1] if self.config.full_frame else []
            parts += [_kept_whole(part, tile) for part, tile in zip(found[len(parts):], tiles)]
            yield self._merge(parts)

    def _merge(self, parts: list[Detections]) -> Detections:
        merged = _concatenate(parts)
        keep = np.sort(nms(merged.xyxy, merged.confidence, self.config.merge_iou))
        return merged[keep]


def _kept_whole(found: Detections, tile: Tile) -> Detections:
    """The tile's boxes in frame pixels, without those its inner edges cut."""
    x1, y1, x2, y2 = found.xyxy.T
    left, top, right, bottom = tile.inner_edges
    cut = ((left & (x1 <= EDGE_PX)) | (top & (y1 <= EDGE_PX))
           | (right & (x2 >= tile.width - EDGE_PX)) | (bottom & (y2 >= tile.height - EDGE_PX)))
    kept = found[~cut]
    offset = np.array([tile.x, tile.y, tile.x, tile.y], np.float32)
    return Detections(xyxy=(kept.xyxy + offset).astype(np.float32), confidence=kept.confidence,
                      class_id=kept.class_id, kind=kept.kind, track_id=kept.track_id)


def _concatenate(parts: list[Detections]) -> Detections:
    if not parts:
        return Detections.empty()
    return Detections(
        xyxy=np.concatenate([p.xyxy for p in parts]).reshape(-1, 4).astype(np.float32),
        confidence=np.concatenate([p.confidence for p in parts]).astype(np.float32),
        class_id=np.concatenate([p.class_id for p in parts]).astype(np.int64),
        kind=np.concatenate([p.kind for p in parts]),
        track_id=np.concatenate([p.track_id for p in parts]).astype(np.int64),
    )
