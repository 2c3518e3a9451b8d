"""The three ONNX models on onnxruntime's CPU provider: plate detector, colour classifier, LPRNet recogniser."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from vision.plates.ctc import log_softmax

COLOURS = ("blue", "green", "yellow")  # the classifier's output order (HyperLPR's PLATE_TYPE_*)
LETTERBOX_FILL = 114
RECOGNIZER_HW = (24, 94)


@dataclass(frozen=True)
class PlateBox:
    """A detected plate: box and four corners (top-left, top-right, bottom-right, bottom-left) in image pixels."""

    box: tuple[float, float, float, float]
    score: float
    corners: np.ndarray
    double_layer: bool


def session(path: Path, threads: int) -> ort.InferenceSession:
    """A CPU session with `threads` intra-op threads, warnings silenced (the classifier keeps weights as inputs)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class PlateDetector:
    """yolov5-face style detector: rows of box (cx, cy, w, h), objectness, 4 corners, single/double-layer scores."""

    def __init__(self, path: Path, threads: int, conf: float, iou: float) -> None:
        self.session = session(path, threads)
        self.input = self.session.get_inputs()[0].name
        self.size = int(self.session.get_inputs()[0].shape[2])
        self.conf, self.iou = conf, iou

    def __call__(self, image: np.ndarray) -> list[PlateBox]:
        """Plates in a BGR image, best first."""
        blob, scale, left, top = self._letterbox(image)
        rows = self.session.run(None, {self.input: blob})[0][0]
        rows = rows[rows[:, 4] > self.conf]
        if not len(rows):
            return []
        layer_scores = rows[:, 13:15] * rows[:, 4:5]
        scores = layer_scores.max(axis=1)
        xyxy = np.column_stack([rows[:, 0] - rows[:, 2] / 2, rows[:, 1] - rows[:, 3] / 2,
                                rows[:, 0] + rows[:, 2] / 2, rows[:, 1] + rows[:, 3] / 2])
        xywh = np.column_stack([xyxy[:, :2], rows[:, 2:4]])
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.conf, self.iou)
        offset = np.array([left, top])
        plates = []
        for index in np.array(keep).reshape(-1):
            box = (xyxy[index].reshape(2, 2) - offset) / scale
            corners = (rows[index, 5:13].reshape(4, 2) - offset) / scale
            plates.append(PlateBox(tuple(float(v) for v in box.reshape(-1)), float(scores[index]), corners,
                                   bool(layer_scores[index].argmax() == 1)))
        return sorted(plates, key=lambda plate: -plate.score)

    def _letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        """Fit the image into the square input keeping its aspect; RGB scaled to 0-1."""
        height, width = image.shape[:2]
        scale = self.size / max(height, width)
        resized = cv2.resize(image, (round(width * scale), round(height * scale)))
        top, left = (self.size - resized.shape[0]) // 2, (self.size - resized.shape[1]) // 2
        canvas = np.full((self.size, self.size, 3), LETTERBOX_FILL, np.uint8)
        canvas[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
        blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return np.ascontiguousarray(blob), scale, left, top


class ColourClassifier:
    """Plate colour from the 96x96 classifier: blue, green (new energy) or yellow, with its probability."""

    def __init__(self, path: Path, threads: int) -> None:
        self.session = session(path, threads)
        self.input = self.session.get_inputs()[0].name
        self.size = int(self.session.get_inputs()[0].shape[2])

    def __call__(self, crop: np.ndarray) -> tuple[str, float]:
        """Colour name and probability of a rectified BGR plate crop."""
        blob = cv2.resize(crop, (self.size, self.size)).transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        probs = self.session.run(None, {self.input: blob})[0][0]  # the graph ends in a softmax
        index = int(np.argmax(probs))
        return COLOURS[index], float(probs[index])


class Recognizer:
    """LPRNet (exported ONNX): per-frame log-probabilities (classes x 18) of a BGR crop."""

    def __init__(self, path: Path, threads: int) -> None:
        self.session = session(path, threads)
        self.input = self.session.get_inputs()[0].name

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        """Log-probabilities of the crop resized to 94x24, normalised as in training ((x - 127.5) / 128)."""
        height, width = RECOGNIZER_HW
        resized = cv2.resize(crop, (width, height)) if crop.shape[:2] != RECOGNIZER_HW else crop
        blob = ((resized.astype(np.float32) - 127.5) * 0.0078125).transpose(2, 0, 1)[None]
        return log_softmax(self.session.run(None, {self.input: blob})[0][0])
