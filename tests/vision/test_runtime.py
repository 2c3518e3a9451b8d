"""The OpenVINO fast path finds what Ultralytics' own predict finds on the same IR and frames (correctness, not timing)."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.vision import DetectorConfig, RuntimeConfig, VisionConfig
from tests.requirements import shared_path
from vision.detections import Detections
from vision.detector import Detector
from vision.dwell import box_iou
from vision.fast.detector import Letterbox, OpenVinoDetector, RuntimeUnavailableError, nms
from vision.fast.reshape import make_anchors, reshape_yolo

# (clip, second): a parked car in the blue zone, a car park of 15+ cars, a 960x540 motorway.
FRAMES = [
    ("data/media/cctv_street_no_parking_zone.mp4", 9.0),
    ("data/media/drone_oblique_parking_lot.mp4", 4.0),
    ("data/media/degirum_pysdk_examples/Traffic.mp4", 2.0),
]


def read_frame(relative: str, second: float) -> np.ndarray:
    capture = cv2.VideoCapture(str(shared_path(relative)))
    capture.set(cv2.CAP_PROP_POS_MSEC, 1000 * second)
    ok, image = capture.read()
    capture.release()
    assert ok, f"no frame at {second} s of {relative}"
    return image


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [read_frame(relative, second) for relative, second in FRAMES]


@pytest.fixture(scope="module")
def fast(vision_config: VisionConfig) -> OpenVinoDetector:
    # Two requests side by side, as the multi-stream runner uses it.
    return OpenVinoDetector(vision_config.detector, RuntimeConfig(performance_hint="THROUGHPUT", infer_requests=2))


def assert_same(expected: Detections, actual: Detections) -> None:
    assert len(actual) == len(expected)
    np.testing.assert_array_equal(actual.class_id, expected.class_id)
    np.testing.assert_array_equal(actual.kind, expected.kind)
    np.testing.assert_allclose(actual.xyxy, expected.xyxy, atol=1.0)
    np.testing.assert_allclose(actual.confidence, expected.confidence, atol=0.01)


@pytest.mark.model
@pytest.mark.footage
@pytest.mark.parametrize("index", range(len(FRAMES)), ids=[Path(relative).stem for relative, _ in FRAMES])
def test_boxes_and_classes_equal_ultralytics_predict(
    detector: Detector, fast: OpenVinoDetector, frames: list[np.ndarray], index: int
) -> None:
    expected = detector.detect(frames[index])
    assert len(expected) > 0  # a frame with nothing in it would prove nothing
    assert_same(expected, fast.detect(frames[index]))


@pytest.mark.model
@pytest.mark.footage
def test_several_sources_in_one_call_equal_one_at_a_time(
    detector: Detector, fast: OpenVinoDetector, frames: list[np.ndarray]
) -> None:
    # Three frame sizes through two requests: every request re-pads when its geometry changes.
    images = frames + frames[::-1]
    for expected, actual in zip([detector.detect(image) for image in images], fast.detect_many(images)):
        assert_same(expected, actual)


@pytest.mark.model
@pytest.mark.footage
def test_class_aware_nms_equals_ultralytics(vision_config: VisionConfig, frames: list[np.ndarray]) -> None:
    config = vision_config.detector.model_copy(update={"agnostic_nms": False})
    expected = Detector(config).detect(frames[1])
    assert_same(expected, OpenVinoDetector(config, RuntimeConfig(performance_hint="LATENCY")).detect(frames[1]))


@pytest.mark.parametrize(
    "height, width, size, pad",
    [(360, 640, (640, 360), (0, 140)), (432, 768, (640, 360), (0, 140)), (540, 960, (640, 360), (0, 140)),
     (641, 480, (479, 640), (80, 0)), (100, 100, (640, 640), (0, 0))],
)
def test_letterbox_follows_ultralytics_rounding(height: int, width: int, size: tuple[int, int], pad: tuple[int, int]) -> None:
    box = Letterbox.fit(height, width, 640)
    assert (box.size, box.pad) == (size, pad)


@pytest.mark.parametrize(
    "height, width, shape, pad",
    [(360, 640, (384, 640), (0, 12)), (540, 960, (384, 640), (0, 12)), (641, 480, (640, 480), (0, 0)),
     (480, 640, (480, 640), (0, 0))],
)
def test_rect_letterbox_is_the_smallest_multiple_of_32(
    height: int, width: int, shape: tuple[int, int], pad: tuple[int, int]
) -> None:
    box = Letterbox.fit(height, width, 640, stride=32)
    assert (box.shape, box.pad) == (shape, pad)


@pytest.mark.model
def test_the_reshaped_ir_at_its_own_size_is_the_same_network(vision_config: VisionConfig) -> None:
    import openvino as ov

    core = ov.Core()
    xml = next(shared_path("models/yolo11n_int8_openvino_model").glob("*.xml"))
    x = np.random.default_rng(0).random((1, 3, 640, 640), np.float32)
    original = core.compile_model(core.read_model(xml), "CPU")({0: x})[0]
    same = core.compile_model(reshape_yolo(core.read_model(xml), batch=1, height=640, width=640), "CPU")({0: x})[0]
    np.testing.assert_array_equal(original, same)
    rect = reshape_yolo(core.read_model(xml), batch=2, height=384, width=640)
    assert tuple(rect.output(0).get_partial_shape().to_shape()) == (2, 84, 48 * 80 + 24 * 40 + 12 * 20)
    points, strides = make_anchors(384, 640)
    assert points[0, :, -1].tolist() == [19.5, 11.5] and strides[0, 0, [0, -1]].tolist() == [8, 32]


@pytest.mark.model
@pytest.mark.footage
def test_rect_input_finds_the_same_objects(detector: Detector, vision_config: VisionConfig,
                                           frames: list[np.ndarray]) -> None:
    """640x384 instead of 640x640: not the same numbers, the same objects (as Ultralytics' own rect mode on .pt)."""
    rect = OpenVinoDetector(vision_config.detector, RuntimeConfig(performance_hint="LATENCY", input_shape="rect"))
    compared = 0
    for image in frames:
        expected, actual = detector.detect(image), rect.detect(image)
        confident = expected[expected.confidence >= 0.4]  # weak boxes come and go with any change of input
        compared += len(confident)
        for box, kind in zip(confident.xyxy, confident.kind):
            overlap = box_iou(box, actual.xyxy[actual.kind == kind])
            assert overlap.max(initial=0.0) >= 0.7, f"{kind} at {box.tolist()} not found with rect input"
    assert compared >= 5


def test_nms_keeps_the_best_of_overlapping_boxes_in_score_order() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], np.float32)
    scores = np.array([0.5, 0.9, 0.3, 0.8], np.float32)
    # IoU: box 3 with box 1 0.61; box 0 with box 1 0.68 and with box 3 0.9; box 2 overlaps none.
    assert nms(boxes, scores, 0.6).tolist() == [1, 2]
    assert nms(boxes, scores, 0.7).tolist() == [1, 3, 2]
    assert nms(np.empty((0, 4), np.float32), np.empty(0, np.float32), 0.7).tolist() == []


def test_a_model_that_is_not_an_openvino_ir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailableError, match="not an OpenVINO IR"):
        OpenVinoDetector(DetectorConfig(model=str(tmp_path / "yolo11n.pt")))


@pytest.mark.model
@pytest.mark.footage
def test_detect_iter_gives_detect_many_results_in_order_and_recovers_when_left_early(
    fast: OpenVinoDetector, frames: list[np.ndarray]
) -> None:
    """Results in the images' order whatever their input shape; a caller leaving early frees the requests."""
    images = frames * 3  # three clips' frames, each in every shape
    shapes = ["rect"] * 3 + [None] * 3 + ["square"] * 3
    expected = [fast.detect(image, shape) for image, shape in zip(images, shapes)]
    for actual, wanted in zip(fast.detect_iter(images, shapes), expected, strict=True):
        np.testing.assert_array_equal(actual.xyxy, wanted.xyxy)
    left = fast.detect_iter(images, shapes)
    next(left)
    left.close()  # abandoned with requests in flight
    assert [len(d) for d in fast.detect_many(images, shapes)] == [len(d) for d in expected]
