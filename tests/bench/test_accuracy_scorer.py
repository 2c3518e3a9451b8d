"""The accuracy scorer's matching: zone, time window (interval plus dwell), box (IoU or ground point)."""
from pathlib import Path

import pytest

from bench.accuracy import (
    GroundTruth, ReportedEvent, TrueViolation, all_groundtruth, load_groundtruth, same_object, score,
)

CAR = (100.0, 100.0, 160.0, 140.0)  # 60 x 40 px, ground point (130, 140)


def violation(**changes) -> TrueViolation:
    fields = {"id": "car", "zone": "kerb", "from_s": 10.0, "to_s": 40.0, "boxes": [{"t": 20.0, "box": CAR}]}
    return TrueViolation.model_validate({**fields, **changes})


def event(t: float, box=CAR, zone: str = "kerb") -> ReportedEvent:
    return ReportedEvent(zone_id=zone, rule="illegal_parking", reported_s=t, box=box)


def test_an_event_in_the_window_on_the_box_is_a_true_positive_with_its_delay() -> None:
    result = score([event(16.5)], [violation()], {"kerb": 5.0})
    assert (result.true_positives, result.false_positives, result.misses, result.duplicates) == (1, 0, 0, 0)
    assert result.delays_s == [1.5]  # dwell reached at 15 s
    assert result.precision == 1.0 and result.recall == 1.0


def test_a_second_event_for_the_same_violation_is_a_duplicate_not_a_second_hit() -> None:
    result = score([event(15.0), event(30.0)], [violation()], {"kerb": 5.0})
    assert (result.true_positives, result.duplicates, result.false_positives) == (1, 1, 0)


def test_no_event_is_a_miss_and_recall_zero() -> None:
    result = score([], [violation()], {"kerb": 5.0})
    assert result.misses == 1 and result.missed == ["car"] and result.recall == 0.0 and result.precision is None


@pytest.mark.parametrize(("t", "hit"), [(9.9, False), (10.0, True), (45.0, True), (45.1, False)])
def test_the_time_window_is_the_interval_plus_the_dwell(t: float, hit: bool) -> None:
    result = score([event(t)], [violation()], {"kerb": 5.0})
    assert (result.true_positives, result.false_positives) == ((1, 0) if hit else (0, 1))


def test_another_zone_is_a_false_positive_and_a_miss() -> None:
    result = score([event(16.0, zone="road")], [violation()], {"kerb": 5.0})
    assert (result.true_positives, result.false_positives, result.misses) == (0, 1, 1)
    assert result.false_positive_events[0]["zone_id"] == "road"


def test_box_matches_by_iou_or_by_the_same_ground_point() -> None:
    assert same_object((110, 105, 170, 145), CAR)  # IoU 0.6
    assert not same_object((160, 100, 220, 140), CAR)  # beside it: IoU 0, ground point 60 px away
    # A box cut short at the top (occluded roof): IoU 0.25 < 0.3, but it stands on the same ground point.
    assert same_object((100, 130, 160, 140), CAR)
    assert not same_object((100, 130, 160, 128 + 25), CAR)  # ground point 13 px below: over a quarter height


def test_the_box_of_the_nearest_sighting_is_used() -> None:
    moved = violation(boxes=[{"t": 10.0, "box": CAR}, {"t": 30.0, "box": (300, 100, 360, 140)}])
    assert score([event(31.0, box=(300, 100, 360, 140))], [moved], {"kerb": 5.0}).true_positives == 1
    assert score([event(31.0, box=CAR)], [moved], {"kerb": 5.0}).false_positives == 1


def test_a_stay_shorter_than_the_dwell_or_optional_is_neither_expected_nor_wrong() -> None:
    short = violation(to_s=14.0)  # 4 s < dwell 5 s + margin
    assert score([], [short], {"kerb": 5.0}).misses == 0
    result = score([event(14.0)], [short], {"kerb": 5.0})
    assert (result.true_positives, result.false_positives, result.not_expected) == (0, 0, 1)
    optional = violation(optional=True)
    assert score([], [optional], {"kerb": 5.0}).misses == 0


def test_two_violations_each_take_their_own_event() -> None:
    other = violation(id="van", boxes=[{"t": 20.0, "box": (300, 100, 360, 140)}])
    result = score([event(15.0), event(15.5, box=(300, 100, 360, 140))], [violation(), other], {"kerb": 5.0})
    assert result.true_positives == 2 and result.duplicates == 0 and result.false_positives == 0


def test_a_groundtruth_file_naming_an_unknown_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "clip: x\nmedia: data/x.mp4\nmade: test\nmoving_traffic: false\n"
        "zones: [{id: kerb, kind: no_parking, polygon: [[0, 0], [1, 0], [1, 1]]}]\n"
        "violations: [{id: car, zone: road, from_s: 0, to_s: 1, boxes: [{t: 0, box: [0, 0, 1, 1]}]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="(?s)bad.yaml.*names unknown zone 'road'"):
        load_groundtruth(path)


def test_every_shipped_groundtruth_file_loads_and_says_how_it_was_made() -> None:
    files = all_groundtruth()
    assert len(files) >= 10
    for path, truth in files:
        assert isinstance(truth, GroundTruth) and len(truth.made) > 40, path
        for zone in truth.zone_configs():
            assert len(zone.polygon) >= 3
        if truth.moving_traffic and truth.not_run is None:
            assert truth.carriageway, f"{path}: moving traffic needs a carriageway zone for the hard-negative sweep"


def test_between_two_sightings_the_true_box_moves_linearly() -> None:
    drifting = violation(boxes=[{"t": 10.0, "box": CAR}, {"t": 30.0, "box": (100, 300, 160, 340)}])
    assert drifting.box_at(20.0) == (100, 200, 160, 240)
    assert score([event(20.0, box=(100, 200, 160, 240))], [drifting], {"kerb": 5.0}).true_positives == 1


def test_an_unmatched_event_of_a_partial_groundtruth_is_unjudged_not_false() -> None:
    result = score([event(16.0, box=(400, 100, 460, 140))], [violation()], {"kerb": 5.0}, exhaustive=False)
    assert (result.false_positives, result.unjudged, result.misses) == (0, 1, 1)
