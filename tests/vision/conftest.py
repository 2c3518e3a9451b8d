"""Vision fixtures: the settings with the shared model, and that model loaded once per session."""
import os

os.environ.setdefault("YOLO_OFFLINE", "1")  # before ultralytics is imported: it must never try to download

import pytest

from config.vision import VisionConfig, load_vision_config
from tests.requirements import shared_path

MODEL = "models/yolo11n_int8_openvino_model"


@pytest.fixture(scope="session")
def vision_config() -> VisionConfig:
    """config/vision.yaml with the shared YOLO11n INT8 model."""
    return load_vision_config(overrides={"detector": {"model": str(shared_path(MODEL))}})


@pytest.fixture(scope="session")
def detector(vision_config: VisionConfig):
    """One model for the whole run: CPU is scarce."""
    from vision.detector import Detector

    return Detector(vision_config.detector)
