"""The detector with the real model: clear errors without one, mapped kinds with one."""
from pathlib import Path

import cv2
import pytest

from config.vision import DetectorConfig, VisionConfig
from tests.requirements import shared_path
from vision.detector import Detector, ModelUnavailableError, load_detector


def test_a_missing_model_path_fails_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_model_openvino_model"
    with pytest.raises(ModelUnavailableError, match=str(missing)):
        Detector(DetectorConfig(model=str(missing)))


def test_a_bare_model_name_offline_fails_naming_it() -> None:
    # YOLO_OFFLINE=1 (conftest): Ultralytics cannot fetch yolo11n.pt, the default for online users.
    with pytest.raises(ModelUnavailableError, match="yolo11n.pt"):
        Detector(DetectorConfig(model="yolo11n.pt"))


@pytest.mark.model
def test_a_class_map_naming_none_of_the_models_classes_is_refused(vision_config: VisionConfig) -> None:
    config = vision_config.detector.model_copy(update={"class_map": {"stall": "stall"}})
    with pytest.raises(ModelUnavailableError, match="none of the classes"):
        Detector(config)


@pytest.mark.model
@pytest.mark.footage
def test_the_parked_car_is_one_vehicle_box(detector: Detector) -> None:
    # The frame at 9 s of the street clip: the blue car stands in the blue zone, nothing else on the road.
    capture = cv2.VideoCapture(str(shared_path("data/media/cctv_street_no_parking_zone.mp4")))
    capture.set(cv2.CAP_PROP_POS_MSEC, 9000)
    ok, image = capture.read()
    capture.release()
    assert ok
    detections = detector.detect(image)
    vehicles = detections[detections.kind == "vehicle"]
    assert len(vehicles) == 1  # agnostic NMS: car and truck boxes on one car leave one
    x, y = vehicles.anchors[0]
    assert 295 <= x <= 315 and 200 <= y <= 212
    assert set(detections.kind.tolist()) <= {"vehicle", "person", "stall", "vendor"}


@pytest.mark.model
@pytest.mark.parametrize(("model", "runtime", "expected"), [
    ("models/yolo11n_int8_openvino_model", "auto", "OpenVinoDetector"),  # an IR on the CPU: the fast path
    ("models/yolo11n_coco_rebuilt.pt", "auto", "Detector"),  # anything else: Ultralytics
    ("models/yolo11n_int8_openvino_model", "ultralytics", "Detector"),
])
def test_the_runtime_setting_chooses_the_detector(vision_config: VisionConfig, model: str, runtime: str,
                                                  expected: str) -> None:
    config = vision_config.detector.model_copy(update={"model": str(shared_path(model)), "runtime": runtime})
    assert type(load_detector(config)).__name__ == expected


def test_the_openvino_runtime_refuses_a_model_that_is_not_an_ir(tmp_path: Path) -> None:
    from vision.fast.detector import RuntimeUnavailableError

    with pytest.raises(RuntimeUnavailableError, match="not an OpenVINO IR"):
        load_detector(DetectorConfig(model=str(tmp_path / "yolo11n.pt"), runtime="openvino"))
