"""One Ultralytics detection model, shared by every stream."""
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ultralytics import YOLO
from ultralytics.engine.results import Results

from config.vision import DetectorConfig
from vision.detections import Detections

if TYPE_CHECKING:
    from vision.fast.detector import OpenVinoDetector
    from vision.tiles import TiledDetector

REMOTE_PREFIXES = ("http://", "https://", "grpc://")


class ModelUnavailableError(RuntimeError):
    """The configured model cannot be loaded; the rest of the platform runs without vision."""


class Detector:
    """Loads `config.model` through `YOLO(path, task="detect")`; `detect(image)` gives mapped Detections."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        location = config.model
        is_remote = location.startswith(REMOTE_PREFIXES)
        # A bare name like yolo11n.pt is fetched by Ultralytics when online; anything path-like must exist.
        if not is_remote and ("/" in location or Path(location).suffix != ".pt") and not Path(location).exists():
            raise ModelUnavailableError(f"detection model not found: {location} (set detector.model to a model path)")
        try:
            self.model = YOLO(location, task="detect")
            # A first predict builds the predictor with our arguments; asking for names first would load it twice.
            self._predict(np.zeros((config.imgsz, config.imgsz, 3), np.uint8))
        except Exception as exc:  # Ultralytics raises many types (download, format, backend): all mean "no model"
            raise ModelUnavailableError(f"cannot load detection model {location}: {exc}") from exc
        self.class_names: dict[int, str] = dict(self.model.names)
        mapped = sorted(set(self.class_names.values()) & config.class_map.keys())
        if not mapped:
            raise ModelUnavailableError(
                f"model {location} has none of the classes in detector.class_map "
                f"(it knows {sorted(self.class_names.values())[:10]}...)"
            )
        self.mapped_class_names = mapped

    def detect(self, image: np.ndarray) -> Detections:
        """Boxes of the mapped classes in one BGR image."""
        return Detections.from_ultralytics(self._predict(image), self.config.class_map, self.config.class_conf)

    def detect_many(self, images: list[np.ndarray]) -> list[Detections]:
        """Each image's Detections, one after another (the openvino runtime runs several side by side)."""
        return list(self.detect_iter(images))

    def detect_iter(self, images: list[np.ndarray]) -> Iterator[Detections]:
        """Each image's Detections in order, as detect_many, one at a time."""
        for image in images:
            yield self.detect(image)

    def _predict(self, image: np.ndarray) -> Results:
        return self.model.predict(
            image,
            imgsz=self.config.imgsz,
            conf=self.config.conf,
            iou=self.config.iou,
            agnostic_nms=self.config.agnostic_nms,
            device=self.config.device,
            verbose=False,
        )[0]


def load_detector(config: DetectorConfig) -> "Detector | OpenVinoDetector | TiledDetector":
    """The detector `config.runtime` asks for, tiled when `config.tiles` says so."""
    from vision.tiles import TiledDetector

    detector = load_model_detector(config)
    return TiledDetector(detector, config.tiles) if config.tiles.enabled else detector


def load_model_detector(config: DetectorConfig) -> "Detector | OpenVinoDetector":
    """The detector `config.runtime` asks for; auto takes the OpenVINO fast path where the model allows it."""
    from vision.fast.detector import OpenVinoDetector, RuntimeUnavailableError

    if config.runtime == "openvino":
        return OpenVinoDetector(config, config.openvino)
    if config.runtime == "auto":
        try:
            return OpenVinoDetector(config, config.openvino)
        except RuntimeUnavailableError:  # not an IR on the CPU (a .pt, ONNX, an engine, CUDA): Ultralytics runs it
            pass
    return Detector(config)
