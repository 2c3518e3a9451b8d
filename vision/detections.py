"""Detections of one frame as parallel numpy arrays."""
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

import numpy as np

UNTRACKED = -1


@dataclass(frozen=True)
class Detections:
    """N boxes as parallel arrays, filtered with boolean masks.

        d = Detections.from_ultralytics(result, {"car": "vehicle", "truck": "vehicle"})
        cars = d[d.kind == "vehicle"]
        cars.anchors            # (N, 2) bottom-centre of each box, where it meets the ground
    """

    xyxy: np.ndarray  # (N, 4) float32 pixels
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int64, the model's class index
    kind: np.ndarray  # (N,) str: vehicle, person, stall, vendor
    track_id: np.ndarray  # (N,) int64, UNTRACKED until a tracker assigns one

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.shape != (n, 4):
            raise ValueError(f"xyxy must have shape (N, 4), got {self.xyxy.shape}")
        for name in ("confidence", "class_id", "kind", "track_id"):
            shape = getattr(self, name).shape
            if shape != (n,):
                raise ValueError(f"{name} must have shape ({n},) like xyxy, got {shape}")

    @classmethod
    def empty(cls) -> Self:
        return cls(
            xyxy=np.empty((0, 4), np.float32),
            confidence=np.empty(0, np.float32),
            class_id=np.empty(0, np.int64),
            kind=np.empty(0, "<U16"),
            track_id=np.empty(0, np.int64),
        )

    @classmethod
    def from_ultralytics(
        cls, result: Any, class_map: Mapping[str, str], class_conf: Mapping[str, float] | None = None
    ) -> Self:
        """The boxes of an Ultralytics `Results` whose class name is in `class_map` (and whose confidence reaches
        its class's floor in `class_conf`, if any), others dropped."""
        boxes = result.boxes.cpu().numpy()
        class_id = boxes.cls.astype(np.int64)
        # One lookup table per call, indexed by class id: no per-box Python loop.
        size = max(result.names, default=-1) + 1
        kind_of_class = np.array([class_map.get(result.names.get(i, ""), "") for i in range(size)], "<U16")
        kind = kind_of_class[class_id] if len(class_id) else np.empty(0, "<U16")
        keep = (kind != "") & (boxes.conf >= class_floors(result.names, class_conf or {})[class_id])
        track_id = boxes.id.astype(np.int64) if boxes.id is not None else np.full(len(class_id), UNTRACKED)
        return cls(
            xyxy=boxes.xyxy.astype(np.float32)[keep],
            confidence=boxes.conf.astype(np.float32)[keep],
            class_id=class_id[keep],
            kind=kind[keep],
            track_id=track_id[keep],
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, selection: np.ndarray | slice) -> Self:
        """The detections a boolean mask or index array selects."""
        return replace(
            self,
            xyxy=self.xyxy[selection],
            confidence=self.confidence[selection],
            class_id=self.class_id[selection],
            kind=self.kind[selection],
            track_id=self.track_id[selection],
        )

    def with_track_ids(self, track_id: np.ndarray) -> Self:
        return replace(self, track_id=np.asarray(track_id, np.int64))

    @property
    def anchors(self) -> np.ndarray:
        """(N, 2) bottom-centre points: where a vehicle or person stands on the ground."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)

    def cut_sides(self, height: int, width: int, margin_px: float) -> np.ndarray:
        """(N, 4) bool: which sides (left, top, right, bottom) of each box lie on the image's edge (the object
        goes on out of view)."""
        x1, y1, x2, y2 = self.xyxy.T
        return np.stack([x1 <= margin_px, y1 <= margin_px, x2 >= width - margin_px, y2 >= height - margin_px], axis=1)

    @property
    def heights(self) -> np.ndarray:
        return self.xyxy[:, 3] - self.xyxy[:, 1]

    @property
    def xywh(self) -> np.ndarray:
        """(N, 4) centre x, centre y, width, height."""
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)


def class_floors(names: Mapping[int, str], class_conf: Mapping[str, float]) -> np.ndarray:
    """(classes,) the lowest confidence kept for each class id: its class_conf floor, else 0."""
    size = max(names, default=-1) + 1
    return np.array([class_conf.get(names.get(i, ""), 0.0) for i in range(size)], np.float32)
