"""Plate fixtures: LPRNet exported from the shared state_dict once per run, the reader on the shared models."""
from pathlib import Path

import pytest

from config.vision import PlatesConfig, load_vision_config
from tests.requirements import shared_path

MODELS = "models/plates"


@pytest.fixture(scope="session")
def plates_config(tmp_path_factory: pytest.TempPathFactory) -> PlatesConfig:
    """config/vision.yaml's plates section on the shared models, the recogniser exported here (3 s)."""
    from vision.plates.lprnet import export_onnx

    onnx = export_onnx(shared_path(f"{MODELS}/Final_LPRNet_model.pth"), tmp_path_factory.mktemp("lprnet") / "lprnet.onnx")
    return load_vision_config(overrides={"plates": {
        "enabled": True, "detector": str(shared_path(f"{MODELS}/y5fu_320x_sim.onnx")),
        "classifier": str(shared_path(f"{MODELS}/litemodel_cls_96x_r1.onnx")), "recognizer": str(onnx)}}).plates


@pytest.fixture(scope="session")
def reader(plates_config: PlatesConfig):
    from vision.plates.reader import PlateReader

    return PlateReader(plates_config)


def crops_dir() -> Path:
    return shared_path("data/plates/crops")


def scenes_dir() -> Path:
    return shared_path("data/plates/hyperlpr_samples")
