"""Tiled detection: windows cover the frame, cut boxes are dropped, and far cars are found more surely."""
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.accuracy import GROUNDTRUTH_DIR
from config.sources import SourceConfig
from config.vision import TilesConfig
from tests.requirements import shared_path
from vision.analyze import main as analyze_main
from vision.detections import UNTRACKED, Detections
from vision.detector import load_detector
from vision.tiles import TiledDetector, tile_grid


@given(
    height=st.integers(64, 2000), width=st.integers(64, 4000),
    columns=st.integers(1, 5), rows=st.integers(1, 5), overlap=st.floats(0.0, 0.5),
)
def test_windows_cover_the_frame_and_overlap_as_configured(height, width, columns, rows, overlap) -> None:
    tiles = tile_grid(height, width, TilesConfig(columns=columns, rows=rows, overlap=overlap))
    assert len(tiles) == columns * rows
    covered = np.zeros((height, width), bool)
    for tile in tiles:
        assert 0 <= tile.x and tile.x + tile.width <= width and 0 <= tile.y and tile.y + tile.height <= height
        covered[tile.y:tile.y + tile.height, tile.x:tile.x + tile.width] = True
    assert covered.all()
    if columns > 1:
        first, second = tiles[0], tiles[1]
        shared = first.x + first.width - second.x
        assert shared == pytest.approx(overlap * first.width, abs=2)


def boxes(*rows: tuple[float, float, float, float, float]) -> Detections:
    array = np.array(rows, np.float32).reshape(-1, 5)
    return Detections(xyxy=array[:, :4], confidence=array[:, 4], class_id=np.zeros(len(array), np.int64),
                      kind=np.full(len(array), "vehicle", "<U16"), track_id=np.full(len(array), UNTRACKED, np.int64))


class WindowDetector:
    """Answers each window with the boxes given for its size: (whole frame, each tile) in order."""

    def __init__(self, answers: list[Detections]) -> None:
        self.answers, self.windows = answers, []

    def detect_iter(self, images: Sequence[np.ndarray]) -> Iterator[Detections]:
        self.windows = [image.shape for image in images]
        yield from self.answers[:len(images)]


def test_a_box_cut_by_a_tiles_inner_edge_is_dropped_and_duplicates_merge() -> None:
    config = TilesConfig(columns=2, rows=1, overlap=0.25, full_frame=False)
    left, right = tile_grid(100, 350, config)  # windows 0-200 and 150-350
    detector_answers = [
        boxes((160, 40, 200, 60, 0.9), (10, 40, 40, 60, 0.8), (0, 10, 20, 30, 0.7)),  # cut at 200; whole; frame edge
        boxes((10, 40, 50, 60, 0.6), (170, 40, 200, 60, 0.5)),  # whole (frame 160-200); at the frame's right edge
    ]
    tiled = TiledDetector(WindowDetector(detector_answers), config)
    found = tiled.detect(np.zeros((100, 350, 3), np.uint8))
    assert tiled.detector.windows == [(100, left.width, 3), (100, right.width, 3)]
    kept = sorted(map(tuple, found.xyxy.round().astype(int).tolist()))
    # the car cut by the left window's right edge (x 200) comes whole from the right window, once
    assert kept == [(0, 10, 20, 30), (10, 40, 40, 60), (160, 40, 200, 60), (320, 40, 350, 60)]


def test_a_source_cannot_ask_for_tiles_and_a_rect_input() -> None:
    with pytest.raises(ValidationError, match="tiles run square windows"):
        SourceConfig(id="drone1", kind="drone", media="file", uri="x.mp4", zones="z.yaml",
                     input_shape="rect", tiles={"columns": 2, "rows": 2})


def test_analyze_names_a_bad_tiles_argument(capsys) -> None:
    with pytest.raises(SystemExit):
        analyze_main(["analyze", "x.mp4", "--out", "out", "--tiles", "three"])
    assert "--tiles: expected COLUMNSxROWS" in capsys.readouterr().err


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter)


def confidently_found(found: Detections, truth: list[list[float]], track_conf: float) -> int:
    """True boxes with a vehicle box (IoU >= 0.3) confident enough to start a track."""
    cars = found[(found.kind == "vehicle") & (found.confidence >= track_conf)]
    return sum(bool(len(cars)) and bool((iou(np.array(box), cars.xyxy) >= 0.3).any()) for box in truth)


def test_tiles_find_the_far_rows_of_a_drone_car_park_more_surely(vision_config) -> None:
    """Real inference on the oblique drone clip: cars 30x14 px are confident in enlarged windows."""
    capture = cv2.VideoCapture(str(shared_path("data/media/drone_oblique_parking_lot.mp4")))
    capture.set(cv2.CAP_PROP_POS_MSEC, 10_000)
    ok, frame = capture.read()
    assert ok
    truth = yaml.safe_load((GROUNDTRUTH_DIR / "drone_oblique_parking_lot.yaml").read_text(encoding="utf-8"))
    required = [v["boxes"][0]["box"] for v in truth["violations"] if not v.get("optional")]
    track_conf = vision_config.tracker.new_track_thresh
    whole = load_detector(vision_config.detector).detect(frame)
    tiled_config = vision_config.detector.model_copy(update={"tiles": TilesConfig(columns=3, rows=3)})
    tiled_detector = load_detector(tiled_config)
    assert isinstance(tiled_detector, TiledDetector)
    tiled = tiled_detector.detect(frame)
    whole_found, tiled_found = (confidently_found(d, required, track_conf) for d in (whole, tiled))
    assert tiled_found >= whole_found + 5, (whole_found, tiled_found, len(required))
    assert tiled_found >= 0.85 * len(required)
