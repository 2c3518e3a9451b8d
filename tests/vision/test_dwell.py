"""Dwell rules on synthetic tracks (no model): stays survive id switches, occlusion and class flicker."""
from collections.abc import Callable

import numpy as np
import pytest

from config.vision import VisionConfig, ZoneConfig, load_vision_config
from vision.detections import UNTRACKED, Detections
from vision.dwell import DwellRules
from vision.events import ViolationEvent
from vision.zones import Zone, ZonePresence

STEP_S = 0.5  # 2 analysed frames a second
CAR, TRUCK, PERSON, UMBRELLA = 2, 7, 0, 25
KIND_OF_CLASS = {CAR: "vehicle", TRUCK: "vehicle", PERSON: "person", UMBRELLA: "vending_signal", 99: "vendor"}
LOT = [(0, 0), (400, 0), (400, 300), (0, 300)]


def obj(track_id: int, x: float, y: float, *, class_id: int = CAR, height: float = 40, width: float = 60,
        confidence: float = 0.6) -> tuple:  # fmt: skip
    """An object standing on (x, y)."""
    return track_id, (x - width / 2, y - height, x + width / 2, y), class_id, confidence


def frame(*objects: tuple) -> Detections:
    if not objects:
        return Detections.empty()
    track_ids, boxes, class_ids, confidences = zip(*objects)
    return Detections(
        xyxy=np.array(boxes, np.float32),
        confidence=np.array(confidences, np.float32),
        class_id=np.array(class_ids, np.int64),
        kind=np.array([KIND_OF_CLASS[c] for c in class_ids], "<U16"),
        track_id=np.array(track_ids, np.int64),
    )


@pytest.fixture(scope="module")
def config() -> VisionConfig:
    return load_vision_config()  # the shipped defaults: enter/leave 2 frames, grace 5 s, second photo after 3 s


def run(config: VisionConfig, frames: list[Detections], *, kind: str = "no_parking", dwell_s: float = 5,
        **zone: object) -> list[ViolationEvent]:  # fmt: skip
    """Every event of the timeline, frames STEP_S apart, open events ended at the last frame."""
    zones = [Zone.from_config(ZoneConfig(id="lot", kind=kind, polygon=LOT, dwell_s=dwell_s, **zone))]
    presence = ZonePresence(zones, config.presence, forget_after_s=config.tracker.lost_track_s)
    rules = DwellRules(source_id="cam-1", zones=zones, config=config.dwell, categories=config.events.categories,
                       first_update_after_s=config.evidence.second_photo_after_s)  # fmt: skip
    events: list[ViolationEvent] = []
    for index, detections in enumerate(frames):
        timestamp_s = index * STEP_S
        events += rules.update(detections, presence.update(detections, timestamp_s), timestamp_s)
    return events + rules.finish()


def timeline(seconds: float, make: Callable[[float], Detections]) -> list[Detections]:
    return [make(i * STEP_S) for i in range(round(seconds / STEP_S))]


def phases(events: list[ViolationEvent]) -> dict[str, list[str]]:
    by_id: dict[str, list[str]] = {}
    for event in events:
        by_id.setdefault(event.event_id, []).append(event.phase)
    return by_id


def test_a_parked_car_gives_one_event_with_start_update_end(config: VisionConfig) -> None:
    events = run(config, timeline(20, lambda t: frame(obj(1, 200, 200))))
    assert list(phases(events).values()) == [["start", "update", "end"]]
    start, update, end = events
    # Present from the second frame (inertia), the event once 5 s of dwell have passed.
    assert start.started_at_s == 0.5 and start.last_seen_s == 5.5 and start.dwell_s == 5.0
    assert update.last_seen_s == 8.5  # the second photo, 3 s after the first
    assert end.last_seen_s == 19.5 and end.dwell_s == 19.0
    assert (start.rule, start.category, start.zone_id, start.track_ids) == ("illegal_parking", "0505", "lot", (1,))
    assert start.ground_point_px == (200.0, 200.0)
    assert start.event_id == "cam-1:illegal_parking:lot#1:500"


def test_event_ids_are_the_same_on_a_second_run(config: VisionConfig) -> None:
    frames = timeline(12, lambda t: frame(obj(1, 100, 100), obj(2, 300, 250)))
    assert [e.event_id for e in run(config, frames)] == [e.event_id for e in run(config, frames)]


def test_a_track_id_switch_keeps_the_stay(config: VisionConfig) -> None:
    events = run(config, timeline(20, lambda t: frame(obj(1 if t < 6 else 9, 200, 200))))
    assert list(phases(events).values()) == [["start", "update", "end"]]
    assert events[-1].track_ids == (1, 9) and events[-1].started_at_s == 0.5


def test_a_car_hidden_by_passing_traffic_keeps_its_dwell(config: VisionConfig) -> None:
    def scene(t: float) -> Detections:
        if 6 <= t < 10:  # the parked car is hidden; a van drives past in front of it, 40 px a frame
            return frame(obj(5, 40 + 80 * (t - 6), 210, height=60, width=90))
        return frame(obj(1 if t < 6 else 2, 200, 200))  # it comes back under a new id

    events = run(config, timeline(20, scene))
    assert list(phases(events).values()) == [["start", "update", "end"]]
    assert events[-1].started_at_s == 0.5 and events[-1].dwell_s == 19.0
    assert 5 not in events[-1].track_ids


def test_class_flicker_car_truck_keeps_the_stay(config: VisionConfig) -> None:
    def scene(t: float) -> Detections:
        flicker = round(t / STEP_S) % 2
        return frame(obj(1, 200, 200, class_id=TRUCK, width=70, height=44) if flicker else obj(1, 200, 200))

    assert list(phases(run(config, timeline(15, scene))).values()) == [["start", "update", "end"]]


def test_one_jittery_frame_neither_ends_nor_starts(config: VisionConfig) -> None:
    # A parked car whose box jumps once, far past the tolerance, keeps its single event.
    parked = run(config, timeline(15, lambda t: frame(obj(1, 200, 260 if t == 7 else 200))))
    assert list(phases(parked).values()) == [["start", "update", "end"]]
    # A car parked just outside the zone whose anchor pokes inside once never starts, even with no dwell.
    outside = run(config, timeline(15, lambda t: frame(obj(1, 200, 290 if t == 7 else 320))), dwell_s=0)
    assert outside == []


@pytest.mark.parametrize("pixels_a_second", [4, 10, 30, 120])
def test_a_moving_vehicle_never_triggers(config: VisionConfig, pixels_a_second: float) -> None:
    # 4 px/s is a car creeping 10 cm a second at this scale; its stay's reference cannot keep up.
    events = run(config, timeline(60, lambda t: frame(obj(1, 20 + pixels_a_second * t % 380, 200))))
    assert events == []


def test_one_event_per_object(config: VisionConfig) -> None:
    events = run(config, timeline(12, lambda t: frame(obj(1, 100, 100), obj(2, 170, 100), obj(3, 300, 250))))
    assert sorted(len(p) for p in phases(events).values()) == [3, 3, 3]
    assert {e.track_ids for e in events} == {(1,), (2,), (3,)}


def test_the_event_ends_when_the_object_leaves(config: VisionConfig) -> None:
    def scene(t: float) -> Detections:
        return frame(obj(1, 200 + 60 * max(0.0, t - 12), 200))  # parked, then drives off at 12 s

    events = run(config, timeline(30, scene))
    end = events[-1]
    assert [e.phase for e in events] == ["start", "update", "end"]
    assert end.last_seen_s == 12.0 and end.dwell_s == 11.5


def test_the_end_comes_after_the_grace_period_not_at_the_end_of_the_footage(config: VisionConfig) -> None:
    zones = [Zone.from_config(ZoneConfig(id="lot", kind="no_parking", polygon=LOT, dwell_s=5))]
    presence = ZonePresence(zones, config.presence, forget_after_s=config.tracker.lost_track_s)
    rules = DwellRules(source_id="cam-1", zones=zones, config=config.dwell, categories=config.events.categories,
                       first_update_after_s=config.evidence.second_photo_after_s)  # fmt: skip
    ended_at = None
    for index in range(60):
        t = index * STEP_S
        detections = frame(obj(1, 200, 200)) if t <= 12 else frame()  # gone from the scene at 12.5 s
        if any(e.phase == "end" for e in rules.update(detections, presence.update(detections, t), t)):
            ended_at = t
    assert ended_at == 12 + config.dwell.lost_grace_s + STEP_S


def test_street_vending_needs_a_vending_signal_or_a_vendor(config: VisionConfig) -> None:
    person = obj(1, 200, 200, class_id=PERSON, height=100, width=40)
    with_umbrella = run(config, timeline(10, lambda t: frame(person, obj(UNTRACKED, 230, 130, class_id=UMBRELLA))),
                        kind="no_vending")  # fmt: skip
    assert [(e.rule, e.category) for e in with_umbrella] == [("street_vending", "0501")] * 3
    assert [e.phase for e in with_umbrella] == ["start", "update", "end"]
    far_umbrella = timeline(10, lambda t: frame(person, obj(UNTRACKED, 390, 20, class_id=UMBRELLA, height=10)))
    assert run(config, far_umbrella, kind="no_vending") == []
    assert run(config, timeline(10, lambda t: frame(person)), kind="no_vending") == []
    loitering = run(config, timeline(10, lambda t: frame(person)), kind="no_vending", requires_vending_signal=False)
    assert len(loitering) == 3
    vendor = obj(1, 200, 200, class_id=99, height=100, width=40)
    assert len(run(config, timeline(10, lambda t: frame(vendor)), kind="no_vending")) == 3


def test_a_vehicle_is_not_a_vendor_and_a_person_does_not_park(config: VisionConfig) -> None:
    person = obj(1, 200, 200, class_id=PERSON, height=100, width=40)
    assert run(config, timeline(10, lambda t: frame(person))) == []
    assert run(config, timeline(10, lambda t: frame(obj(1, 200, 200))), kind="no_vending",
               requires_vending_signal=False) == []  # fmt: skip
