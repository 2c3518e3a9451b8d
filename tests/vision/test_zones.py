"""Zones: point-in-polygon at the bottom-centre anchor, holes, and presence with inertia."""
import numpy as np
import pytest
from pydantic import ValidationError

from config.vision import PresenceConfig, ZoneConfig
from vision.detections import UNTRACKED, Detections
from vision.zones import Zone, ZonePresence

SQUARE = [(0, 0), (100, 0), (100, 100), (0, 100)]


def zone(**changes) -> Zone:
    return Zone.from_config(ZoneConfig(**({"id": "z", "kind": "no_parking", "polygon": SQUARE} | changes)))


def boxes_at(anchors: list[tuple[float, float]], track_ids: list[int]) -> Detections:
    """Boxes 20 wide and 40 high standing on each anchor."""
    xy = np.array(anchors, np.float32).reshape(-1, 2)
    n = len(xy)
    return Detections(
        xyxy=np.stack([xy[:, 0] - 10, xy[:, 1] - 40, xy[:, 0] + 10, xy[:, 1]], axis=1),
        confidence=np.full(n, 0.8, np.float32),
        class_id=np.full(n, 2),
        kind=np.full(n, "vehicle", "<U16"),
        track_id=np.array(track_ids, np.int64),
    )


@pytest.mark.parametrize(
    "point, inside",
    [((50, 50), True), ((0, 0), True), ((100, 50), True), ((101, 50), False), ((-1, -1), False), ((50, 150), False)],
)
def test_contains_counts_the_border_as_inside(point: tuple[float, float], inside: bool) -> None:
    assert zone().contains(np.array([point], float)).tolist() == [inside]


def test_holes_are_outside_even_when_they_overlap() -> None:
    bays = [[(10, 10), (40, 10), (40, 40), (10, 40)], [(30, 10), (60, 10), (60, 40), (30, 40)]]  # overlapping bays
    points = np.array([[20, 20], [35, 20], [55, 20], [80, 80]], float)
    assert zone(holes=bays).contains(points).tolist() == [False, False, False, True]


def test_a_self_crossing_polygon_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid"):
        zone(polygon=[(0, 0), (100, 100), (100, 0), (0, 100)])


def test_a_polygon_needs_three_points() -> None:
    with pytest.raises(ValidationError, match="polygon"):
        zone(polygon=[(0, 0), (1, 1)])


def test_presence_needs_consecutive_frames_to_enter_and_to_leave() -> None:
    presence = ZonePresence([zone()], PresenceConfig(enter_frames=2, leave_frames=2), forget_after_s=10)
    # Anchor inside, inside, outside (one jittery frame), inside, outside, outside.
    path = [(50, 90), (50, 90), (50, 120), (50, 90), (50, 120), (50, 120)]
    seen = [bool(presence.update(boxes_at([p], [7]), t)[0, 0]) for t, p in enumerate(path)]
    assert seen == [False, True, True, True, True, False]


def test_one_frame_inside_never_enters_and_untracked_boxes_are_never_present() -> None:
    presence = ZonePresence([zone()], PresenceConfig(enter_frames=2, leave_frames=2), forget_after_s=10)
    path = [(50, 120), (50, 90), (50, 120), (50, 120)]
    assert not any(presence.update(boxes_at([p], [3]), t)[0, 0] for t, p in enumerate(path))
    assert not presence.update(boxes_at([(50, 50)] * 2, [UNTRACKED, UNTRACKED]), 5).any()


def test_presence_keeps_tracks_apart_and_forgets_stale_ones() -> None:
    presence = ZonePresence([zone(), zone(id="far", polygon=[(500, 500), (600, 500), (600, 600)])],
                            PresenceConfig(enter_frames=1, leave_frames=1), forget_after_s=2)  # fmt: skip
    present = presence.update(boxes_at([(50, 50), (590, 510), (50, 50)], [1, 2, UNTRACKED]), 0)
    assert present.tolist() == [[True, False, False], [False, True, False]]
    presence.update(boxes_at([(50, 50)], [1]), 5)
    assert presence._track_ids.tolist() == [1]  # track 2 unseen for 5 s > forget_after_s
