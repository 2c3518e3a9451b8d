"""ByteTrack through our Tracker, on synthetic detections (no model)."""
import numpy as np

from config.vision import TrackerConfig
from vision.detections import UNTRACKED, Detections
from vision.tracking import Tracker

KINDS = {2: "vehicle", 0: "person", 25: "stall"}


def frame(*objects: tuple[float, float, int, float]) -> Detections:
    """Objects as (x, y, class id, confidence): 60x40 boxes with their top-left corner at (x, y)."""
    x, y, class_id, confidence = (np.array(v) for v in zip(*objects))
    return Detections(
        xyxy=np.stack([x, y, x + 60, y + 40], axis=1).astype(np.float32),
        confidence=confidence.astype(np.float32),
        class_id=class_id.astype(np.int64),
        kind=np.array([KINDS[c] for c in class_id], "<U16"),
        track_id=np.full(len(x), UNTRACKED),
    )


def test_objects_keep_their_ids_and_kinds_not_tracked_stay_untracked() -> None:
    assert "stall" in TrackerConfig().tracked_kinds  # shipped: a stall needs a track id to be present in a zone
    tracker = Tracker(TrackerConfig(tracked_kinds=["vehicle", "person"]), analysis_fps=2)
    ids = [tracker.update(frame((100 + 5 * i, 100, 2, 0.8), (400, 300, 0, 0.7), (400, 250, 25, 0.6))).track_id
           for i in range(6)]  # fmt: skip
    car, person, umbrella = np.array(ids).T
    assert len(set(car)) == 1 and len(set(person)) == 1 and car[0] != person[0] and car[0] != UNTRACKED
    assert set(umbrella) == {UNTRACKED}
    assert tracker.tracks_seen == 2


def test_a_track_lost_for_a_few_seconds_comes_back_with_its_id() -> None:
    tracker = Tracker(TrackerConfig(lost_track_s=5), analysis_fps=2)
    seen = [tracker.update(frame((100, 100, 2, 0.8))).track_id[0] for _ in range(4)]
    for _ in range(6):  # 3 s unseen
        tracker.update(Detections.empty())
    assert tracker.update(frame((101, 100, 2, 0.8))).track_id[0] == seen[-1]


def test_weak_boxes_continue_a_track_but_never_start_one() -> None:
    tracker = Tracker(TrackerConfig(), analysis_fps=2)
    track_id = [tracker.update(frame((100, 100, 2, 0.8))).track_id[0] for _ in range(3)][-1]
    assert tracker.update(frame((100, 100, 2, 0.15))).track_id[0] == track_id  # ByteTrack's second stage
    weak_newcomer = [tracker.update(frame((100, 100, 2, 0.8), (500, 300, 2, 0.15))).track_id[1] for _ in range(3)]
    assert weak_newcomer == [UNTRACKED] * 3
    # A confident newcomer is confirmed on its second frame (after the tracker's first), then keeps its id.
    newcomer = [tracker.update(frame((100, 100, 2, 0.8), (500, 300, 2, 0.8))).track_id[1] for _ in range(3)]
    assert newcomer[0] == UNTRACKED and newcomer[1] == newcomer[2] != UNTRACKED
