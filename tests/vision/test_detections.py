"""Detections: shape checks, masks, anchors, and building from a real Ultralytics Results."""
import numpy as np
import pytest
import torch
from ultralytics.engine.results import Results

from vision.detections import UNTRACKED, Detections

NAMES = {0: "person", 1: "bicycle", 2: "car", 7: "truck", 25: "umbrella"}


def make(xyxy: list[list[float]], kinds: list[str]) -> Detections:
    n = len(xyxy)
    return Detections(
        xyxy=np.array(xyxy, np.float32).reshape(n, 4),
        confidence=np.linspace(0.9, 0.5, n, dtype=np.float32),
        class_id=np.arange(n),
        kind=np.array(kinds, "<U16"),
        track_id=np.full(n, UNTRACKED),
    )


def test_anchor_is_bottom_centre_and_masks_filter_every_array() -> None:
    d = make([[10, 20, 30, 60], [100, 100, 140, 120]], ["vehicle", "person"])
    np.testing.assert_allclose(d.anchors, [[20, 60], [120, 120]])
    np.testing.assert_allclose(d.heights, [40, 20])
    np.testing.assert_allclose(d.xywh, [[20, 40, 20, 40], [120, 110, 40, 20]])
    vehicles = d[d.kind == "vehicle"]
    assert len(vehicles) == 1 and vehicles.class_id.tolist() == [0] and vehicles.confidence[0] == pytest.approx(0.9)


@pytest.mark.parametrize(
    "field_name, bad",
    [
        ("xyxy", np.zeros((2, 3), np.float32)),
        ("confidence", np.zeros(3, np.float32)),
        ("kind", np.array(["vehicle"])),
        ("track_id", np.zeros((2, 1), np.int64)),
    ],
)
def test_mismatched_shapes_are_refused(field_name: str, bad: np.ndarray) -> None:
    fields = vars(make([[0, 0, 1, 1], [0, 0, 2, 2]], ["vehicle", "vehicle"])) | {field_name: bad}
    with pytest.raises(ValueError, match=field_name):
        Detections(**fields)


def test_empty_has_the_right_shapes() -> None:
    empty = Detections.empty()
    assert len(empty) == 0 and empty.anchors.shape == (0, 2) and empty[empty.kind == "vehicle"].xyxy.shape == (0, 4)


def test_from_ultralytics_maps_classes_to_kinds_and_drops_unmapped() -> None:
    boxes = torch.tensor(
        [
            [10, 10, 50, 40, 0.8, 2],  # car
            [60, 10, 90, 40, 0.4, 7],  # truck
            [5, 5, 9, 9, 0.9, 1],  # bicycle: not in the map
            [0, 0, 20, 80, 0.7, 0],  # person
        ],
        dtype=torch.float32,
    )
    result = Results(np.zeros((100, 100, 3), np.uint8), path="x.jpg", names=NAMES, boxes=boxes)
    d = Detections.from_ultralytics(result, {"car": "vehicle", "truck": "vehicle", "person": "person"})
    assert d.kind.tolist() == ["vehicle", "vehicle", "person"]
    assert d.class_id.tolist() == [2, 7, 0]
    assert d.track_id.tolist() == [UNTRACKED] * 3
    np.testing.assert_allclose(d.confidence, [0.8, 0.4, 0.7])


def test_from_ultralytics_keeps_track_ids_when_present() -> None:
    boxes = torch.tensor([[10, 10, 50, 40, 7, 0.8, 2]], dtype=torch.float32)  # with a track id column
    result = Results(np.zeros((100, 100, 3), np.uint8), path="x.jpg", names=NAMES, boxes=boxes)
    assert Detections.from_ultralytics(result, {"car": "vehicle"}).track_id.tolist() == [7]
