"""Dwell rules on synthetic scenes (no model): painted boxes, so the look check sees real pixels.

Stays survive id switches, occlusion and class flicker; they never chain different objects. The boxes reach
the rules as a model's would: an Ultralytics Results read with the shipped class map and confidence floors.
"""
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pytest
import torch
from ultralytics.engine.results import Results

from config.vision import VisionConfig, ZoneConfig, load_vision_config
from vision.appearance import Appearance
from vision.detections import UNTRACKED, Detections
from vision.dwell import DwellRules, Locate, restore_cut_sides
from vision.events import ViolationEvent
from vision.zones import Zone, ZonePresence

STEP_S = 0.5  # 2 analysed frames a second
CAR, TRUCK, PERSON, BENCH, UMBRELLA, HANDBAG, CHAIR, TABLE, STALL, VENDOR = 2, 7, 0, 13, 25, 26, 56, 60, 80, 99
CLASS_NAMES = {CAR: "car", TRUCK: "truck", PERSON: "person", BENCH: "bench", UMBRELLA: "umbrella", HANDBAG: "handbag",
               CHAIR: "chair", TABLE: "dining table", STALL: "stall", VENDOR: "vendor"}  # fmt: skip
SHIPPED = load_vision_config().detector  # its class_map and class_conf
LOT = [(0, 0), (400, 0), (400, 300), (0, 300)]
ROAD_GREY = (90, 90, 90)
BLUE, RED, WHITE, SILVER = (200, 90, 30), (40, 40, 210), (235, 235, 235), (170, 170, 165)  # BGR
IMAGE_SHAPE = (400, 520, 3)


@dataclass(frozen=True)
class Scene:
    """One analysed frame: its boxes and the picture they were painted on."""

    detections: Detections
    image: np.ndarray


def obj(track_id: int, x: float, y: float, *, class_id: int = CAR, height: float = 40, width: float = 60,
        confidence: float = 0.6, colour: tuple[int, int, int] = BLUE) -> tuple:  # fmt: skip
    """An object standing on (x, y), painted in `colour` (a darker windscreen band on its upper third)."""
    return track_id, (x - width / 2, y - height, x + width / 2, y), class_id, confidence, colour


def frame(*objects: tuple, unseen: tuple = (), overlay: tuple = ()) -> Scene:
    """`objects` painted in order (later ones in front) and detected; `unseen` painted behind them but missed
    by the model; `overlay` painted in front of everything, not detected either."""
    image = np.full(IMAGE_SHAPE, ROAD_GREY, np.uint8)
    for _, (x1, y1, x2, y2), _, _, colour in (*unseen, *objects, *overlay):
        cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y2)), colour, thickness=-1)
        windscreen = tuple(int(c * 0.5) for c in colour)
        cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y1 + (y2 - y1) / 3)), windscreen, -1)
    if not objects:
        return Scene(Detections.empty(), image)
    rows = [(*box, track_id, confidence, class_id) for track_id, box, class_id, confidence, _ in objects]
    result = Results(image, path="synthetic.jpg", names=CLASS_NAMES, boxes=torch.tensor(rows, dtype=torch.float32))
    return Scene(Detections.from_ultralytics(result, SHIPPED.class_map, SHIPPED.class_conf), image)


@pytest.fixture(scope="module")
def config() -> VisionConfig:
    return load_vision_config()  # the shipped defaults: enter/leave 2 frames, still 1 s, grace 5 s (1 s uncovered)


class Rules:
    """DwellRules of one zone fed scenes STEP_S apart, as the pipeline feeds them."""

    def __init__(self, config: VisionConfig, *, kind: str = "no_parking", dwell_s: float = 5,
                 second_photo_after_s: float = 3, locate: Locate | None = None, **zone: object) -> None:  # fmt: skip
        zones = [Zone.from_config(ZoneConfig(id="lot", kind=kind, polygon=LOT, dwell_s=dwell_s,
                                             second_photo_after_s=second_photo_after_s, **zone))]  # fmt: skip
        self.presence = ZonePresence(zones, config.presence, forget_after_s=config.tracker.lost_track_s)
        self.rules = DwellRules(source_id="cam-1", zones=zones, config=config.dwell,
                                categories=config.events.categories,
                                second_photo_after_s=config.evidence.second_photo_after_s,
                                locate=locate)  # fmt: skip
        self.appearance = Appearance(config.dwell.appearance)

    def update(self, scene: Scene, timestamp_s: float, cut: np.ndarray | None = None) -> list[ViolationEvent]:
        detections = scene.detections
        present = self.presence.update(detections, timestamp_s)
        return self.rules.update(detections, present, timestamp_s,
                                 lambda rows: self.appearance.describe(scene.image, detections.xyxy[rows]),
                                 cut)  # fmt: skip


def run(config: VisionConfig, frames: list[Scene], **zone: object) -> list[ViolationEvent]:
    """Every event of the timeline, frames STEP_S apart, open events ended at the last frame."""
    rules = Rules(config, **zone)
    events: list[ViolationEvent] = []
    for index, scene in enumerate(frames):
        events += rules.update(scene, index * STEP_S)
    return events + rules.rules.finish()


def timeline(seconds: float, make: Callable[[float], Scene]) -> list[Scene]:
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
    parked = obj(1, 200, 200)

    def scene(t: float) -> Scene:
        if 6 <= t < 10:  # a bus crawls past in front, 10 px a frame: the parked car is unseen behind it
            bus = obj(5, 200 + 20 * (t - 8), 215, height=90, width=200, colour=WHITE)
            return frame(bus, unseen=(parked,))
        return frame(obj(1 if t < 6 else 2, 200, 200))  # it comes back under a new id

    events = run(config, timeline(20, scene))
    assert list(phases(events).values()) == [["start", "update", "end"]]
    assert events[-1].started_at_s == 0.5 and events[-1].dwell_s == 19.0
    assert 5 not in events[-1].track_ids and events[-1].track_ids == (1, 2)


def test_unseen_frames_with_nothing_in_front_end_the_stay(config: VisionConfig) -> None:
    # The same 4 s without the bus, and another car (red) takes the spot: an empty spot is no occlusion, the
    # blue car's stay ends at its last sighting and the red car's own begins.
    def scene(t: float) -> Scene:
        return frame() if 6 <= t < 10 else frame(obj(1 if t < 6 else 2, 200, 200, colour=BLUE if t < 6 else RED))

    events = run(config, timeline(20, scene))
    by_id = phases(events)
    assert list(by_id.values()) == [["start", "end"], ["start", "update", "end"]]
    blue_id, red_id = by_id
    [blue_end] = [e for e in events if e.event_id == blue_id and e.phase == "end"]
    [red_start] = [e for e in events if e.event_id == red_id and e.phase == "start"]
    assert blue_end.last_seen_s == 5.5 and red_start.started_at_s == 10.5
    # One missed frame of a still-visible car is forgiven (uncovered_grace_s); the dwell keeps counting.
    one_miss = run(config, timeline(20, lambda t: frame() if t == 8 else frame(obj(1, 200, 200))))
    assert list(phases(one_miss).values()) == [["start", "update", "end"]]


def test_a_reported_car_back_where_it_stood_is_the_same_violation(config: VisionConfig) -> None:
    # Its boxes lost for 20 s (gone astray among its neighbours', hidden by what no box covers): back at its spot,
    # looking as before, within rejoin_s, it continues its event; the end comes once it has been gone rejoin_s.
    rules = Rules(config)
    phases_seen: list[tuple[float, str]] = []
    for index in range(int((42 + config.dwell.rejoin_s["illegal_parking"]) / STEP_S)):
        t = index * STEP_S
        here = t < 10 or 30 <= t < 40
        phases_seen += [(t, e.phase) for e in rules.update(frame(obj(1, 200, 200)) if here else frame(), t)]
        if 12 <= t < 30:
            assert rules.rules.stays == [] and len(rules.rules.dormant) == 1, "gone from view, not yet ended"
    assert [phase for _, phase in phases_seen] == ["start", "update", "update", "end"]
    end_at = phases_seen[-1][0]
    assert 39.5 + config.dwell.rejoin_s["illegal_parking"] < end_at <= 40 + config.dwell.rejoin_s["illegal_parking"]


def test_a_still_sequence_forgives_a_missed_still(config: VisionConfig) -> None:
    # Stills 8 s apart (a camera that uploads a frame now and then): the model misses the parked car in one
    # still, or two; seconds would end its stay at once, min_unseen_frames does not. Three misses in a row end it.
    def starts(missed: set[int]) -> int:
        rules = Rules(config, dwell_s=30, second_photo_after_s=60)
        events = []
        for still in range(30):
            scene = frame() if still in missed else frame(obj(1, 200, 200))
            events += rules.update(scene, still * 8.0)
        events += rules.rules.finish()
        return sum(e.phase == "start" for e in events)

    assert starts({10}) == 1 and starts({10, 11}) == 1
    assert config.dwell.min_unseen_frames == 3
    assert starts({10, 11, 12}) == 1, "the same car back after 24 s rejoins its reported stay"
    assert starts({2, 3, 4}) == 1, "not yet reported: a new stay after three misses, one event still"


def test_a_duplicate_box_of_a_reported_car_opens_no_second_event(config: VisionConfig) -> None:
    # The detector boxes one parked car twice (NMS keeps both): one stay, one event.
    def scene(t: float) -> Scene:
        return frame(obj(1, 200, 200), obj(2, 203, 203, width=62, height=42))

    assert list(phases(run(config, timeline(20, scene))).values()) == [["start", "update", "end"]]


def test_a_part_of_a_reported_car_boxed_alone_later_is_not_a_second_violation(config: VisionConfig) -> None:
    """A car parked behind another shows only its roof: the detector boxes the whole car, then the roof alone
    (a box lying inside the car's, overlapping it too little to be its box)."""
    car = obj(1, 200, 200)  # box (170, 160)-(230, 200)

    def scene(t: float) -> Scene:
        if t < 8:
            return frame(car)
        return frame(obj(2, 200, 172, height=12, width=40, colour=SILVER), unseen=(car,))

    events = run(config, timeline(30, scene))
    assert len([e for e in events if e.phase == "start"]) == 1


def test_a_box_too_small_for_its_look_is_matched_by_place(config: VisionConfig) -> None:
    # A car far down the street, 20x16 px: its histogram is noise, so the look decides nothing there (a colour
    # change keeps the stay) and the second photo's check is recorded as not judged.
    def scene(t: float) -> Scene:
        return frame(obj(1, 200, 200, width=20, height=16, colour=BLUE if round(t / STEP_S) % 2 else SILVER))

    events = run(config, timeline(20, scene))
    assert list(phases(events).values()) == [["start", "update", "end"]]
    assert all(e.second_photo_same is None and e.second_photo_similarity is None for e in events)
    # The same colours on a car large enough to judge: two different cars, never one stay.
    big = run(config, timeline(20, lambda t: frame(obj(1, 200, 200, colour=BLUE if round(t / STEP_S) % 2 else RED))))
    assert big == []


def test_a_stay_counts_only_after_consecutive_still_sightings(config: VisionConfig) -> None:
    # Seen every other frame at the same spot (cars passing it one after another): never min_still_s in a row.
    flashing = run(config, timeline(30, lambda t: frame(obj(1, 200, 200)) if round(t / STEP_S) % 2 else frame()),
                   dwell_s=0)  # fmt: skip
    assert flashing == []


def test_a_different_looking_object_never_continues_a_stay(config: VisionConfig) -> None:
    # The motorway failure: a blue car leaves, a red one takes its place the very next frame and ByteTrack
    # hands it the lost id. Same place, same box, same id: only the look tells them apart.
    def scene(t: float) -> Scene:
        return frame(obj(1, 200, 200, colour=BLUE if t < 4 else RED))

    events = run(config, timeline(12, scene))
    starts = [e for e in events if e.phase == "start"]
    assert len(starts) == 1 and starts[0].started_at_s >= 4, "the red car's own stay, from its own arrival"
    assert all(e.started_at_s >= 4 for e in events)
    # A silver car after a white one is told apart too; the same blue car under a new id is not.
    silver = run(config, timeline(12, lambda t: frame(obj(1, 200, 200, colour=WHITE if t < 4 else SILVER))))
    assert all(e.started_at_s >= 4 for e in silver)
    same = run(config, timeline(12, lambda t: frame(obj(1 if t < 4 else 7, 200, 200))))
    assert {e.started_at_s for e in same} == {0.5}


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


def test_passing_traffic_is_never_described(config: VisionConfig) -> None:
    # Looks are computed for candidates only: a car that never stands still twice at one spot costs no histogram.
    rules = Rules(config)
    described: list[int] = []
    describe = rules.appearance.describe
    rules.appearance.describe = lambda image, boxes: described.append(len(boxes)) or describe(image, boxes)
    for index in range(40):
        t = index * STEP_S
        rules.update(frame(obj(1, 20 + 60 * t % 380, 100), obj(2, 380 - 60 * t % 380, 250)), t)
    assert sum(described) == 0
    for t in (20.0, 20.5, 21.0):  # a car stopping: present from its second frame, described at its third
        rules.update(frame(obj(3, 200, 200)), t)
    assert sum(described) == 1


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


@pytest.mark.parametrize("covered", [False, True])
def test_the_stay_ends_after_the_grace_period_not_at_the_end_of_the_footage(
    config: VisionConfig, covered: bool
) -> None:
    # Gone from the scene at 12.5 s: an empty spot ends the stay after uncovered_grace_s; a lorry parked in
    # front of it (covering its box) keeps it lost_grace_s. Then it waits rejoin_s to come back before its end.
    rules = Rules(config)
    lorry = obj(8, 200, 205, height=80, width=100, colour=WHITE)
    gone_at = ended_at = None
    for index in range(int((20 + config.dwell.rejoin_s["illegal_parking"]) / STEP_S)):
        t = index * STEP_S
        scene = frame(obj(1, 200, 200)) if t <= 12 else frame(*([lorry] if covered else []))
        ended = any(e.phase == "end" and e.track_ids == (1,) for e in rules.update(scene, t))
        if gone_at is None and rules.rules.dormant:
            gone_at = t
        if ended:
            ended_at = t
    # Hidden: lost_grace_s after its last sighting; uncovered: uncovered_grace_s after its first empty frame.
    grace_s = config.dwell.lost_grace_s if covered else config.dwell.uncovered_grace_s
    assert gone_at == 12 + STEP_S + grace_s
    assert ended_at == 12 + config.dwell.rejoin_s["illegal_parking"] + STEP_S


PERSON_AT_THE_STALL = obj(1, 200, 200, class_id=PERSON, height=100, width=40, colour=RED)
PARASOL = obj(2, 250, 120, class_id=UMBRELLA, height=60, width=110, colour=BLUE)  # bottom edge in the zone


def test_a_parasol_held_still_is_one_vending_event_with_or_without_its_vendor(config: VisionConfig) -> None:
    alone = run(config, timeline(10, lambda t: frame(PARASOL)), kind="no_vending")
    assert [(e.rule, e.category, e.phase) for e in alone] == [("street_vending", "0501", p)
                                                              for p in ("start", "update", "end")]  # fmt: skip
    assert alone[0].box_xyxy == (195.0, 60.0, 305.0, 120.0)  # the stall's box, not a person's
    attended = run(config, timeline(10, lambda t: frame(PERSON_AT_THE_STALL, PARASOL)), kind="no_vending")
    assert len(phases(attended)) == 1 and attended[0].box_xyxy == alone[0].box_xyxy  # the person adds nothing
    # the vendor leaves for a while: the stall stays
    coming_and_going = run(config, timeline(10, lambda t: frame(*((PERSON_AT_THE_STALL,) if 3 <= t < 6 else ()),
                                                                PARASOL)), kind="no_vending")  # fmt: skip
    assert list(phases(coming_and_going).values()) == [["start", "update", "end"]]


@pytest.mark.parametrize("class_id", [STALL, TABLE, VENDOR])
def test_a_stall_a_table_of_goods_or_a_vendor_held_still_is_vending(config: VisionConfig, class_id: int) -> None:
    stall = obj(3, 200, 200, class_id=class_id, height=80, width=100, confidence=0.8)
    assert list(phases(run(config, timeline(10, lambda t: frame(stall)), kind="no_vending")).values()) == [
        ["start", "update", "end"]]  # fmt: skip


def test_a_stall_that_moves_on_is_not_vending(config: VisionConfig) -> None:
    # a parasol carried along the pavement (a pedestrian's umbrella): never still for the dwell
    walking = timeline(10, lambda t: frame(obj(2, 60 + 30 * t, 200, class_id=UMBRELLA, height=60, width=80)))
    assert run(config, walking, kind="no_vending") == []


@pytest.mark.parametrize("company", [(), (CHAIR,), (BENCH,), (HANDBAG,), (CHAIR, HANDBAG)],
                         ids=["alone", "chair", "bench", "bag", "chair_and_bag"])  # fmt: skip
def test_a_person_standing_alone_or_by_chairs_benches_and_bags_is_not_vending(config: VisionConfig,
                                                                               company: tuple) -> None:  # fmt: skip
    things = [obj(UNTRACKED, 150 + 60 * i, 210, class_id=c, height=40, width=40, confidence=0.9, colour=WHITE)
              for i, c in enumerate(company)]  # fmt: skip
    assert run(config, timeline(10, lambda t: frame(PERSON_AT_THE_STALL, *things)), kind="no_vending") == []


def test_a_stall_sign_under_its_confidence_floor_is_no_stall(config: VisionConfig) -> None:
    floor = config.detector.class_conf["umbrella"]
    weak = obj(2, 250, 120, class_id=UMBRELLA, height=60, width=110, confidence=floor - 0.05)  # a table top's 0.2-0.29
    assert run(config, timeline(10, lambda t: frame(PERSON_AT_THE_STALL, weak)), kind="no_vending") == []
    sure = obj(2, 250, 120, class_id=UMBRELLA, height=60, width=110, confidence=floor + 0.05)
    assert len(run(config, timeline(10, lambda t: frame(PERSON_AT_THE_STALL, sure)), kind="no_vending")) == 3
    weak_stall = obj(3, 200, 200, class_id=STALL, height=80, width=100,
                     confidence=config.detector.class_conf["stall"] - 0.05)  # fmt: skip
    assert run(config, timeline(10, lambda t: frame(weak_stall)), kind="no_vending") == []


def test_a_vehicle_is_not_a_stall_and_a_stall_does_not_park(config: VisionConfig) -> None:
    assert run(config, timeline(10, lambda t: frame(PARASOL, PERSON_AT_THE_STALL))) == []
    assert run(config, timeline(10, lambda t: frame(obj(1, 200, 200))), kind="no_vending") == []


def jittering(t: float) -> Scene:
    """A parked car whose box the model places 4 px left or right of the middle, frame by frame."""
    return frame(obj(1, 200 + (4 if round(t / STEP_S) % 2 else -4), 200))


def five_cm_a_pixel(pixel: tuple[float, float]) -> tuple[float, float]:
    """A located camera looking straight down near the equator: 1 px = 5 cm east or south."""
    metres_per_degree = 6_371_000.0 * np.pi / 180
    return 114.0 + pixel[0] * 0.05 / metres_per_degree, 22.5 - pixel[1] * 0.05 / metres_per_degree


@pytest.mark.parametrize(("unit", "loose", "tight"), [("px", 12, 5), ("box", 0.3, 0.1), ("m", 0.6, 0.25)])
def test_stationary_tolerance_in_pixels_box_heights_or_metres(
    config: VisionConfig, unit: str, loose: float, tight: float
) -> None:
    # 8 px of jitter: still within 12 px, 0.3 box heights (12 px) or 0.6 m (12 px at 5 cm a pixel); not within
    # 5 px, 0.1 box heights (4 px) or 0.25 m (5 px).
    locate = five_cm_a_pixel if unit == "m" else None
    still = run(config, timeline(12, jittering), stationary_unit=unit, stationary_tolerance=loose, locate=locate)
    assert list(phases(still).values()) == [["start", "update", "end"]]
    assert run(config, timeline(12, jittering), stationary_unit=unit, stationary_tolerance=tight, locate=locate) == []


def test_metres_need_a_located_camera(config: VisionConfig) -> None:
    with pytest.raises(ValueError, match="zone 'lot': stationary_unit m needs a located camera"):
        Rules(config, stationary_unit="m", stationary_tolerance=0.5)


def test_stops_in_a_queue_lane_never_count_and_short_stops_are_not_parking(config: VisionConfig) -> None:
    waiting = timeline(30, lambda t: frame(obj(1, 200, 200)))  # 30 s at the stop line
    assert run(config, waiting, queue=True) == []
    # A queue lane with a limit counts only stops past it (a breakdown, a car left there).
    [start] = [e for e in run(config, waiting, queue=True, min_stop_s=20) if e.phase == "start"]
    assert start.dwell_s == 20.0
    # Any zone's min_stop_s holds whatever dwell_s says (a run with short dwells cannot undercut it).
    [start] = [e for e in run(config, waiting, dwell_s=3, min_stop_s=10) if e.phase == "start"]
    assert start.dwell_s == 10.0


def test_the_second_photo_must_show_the_object_of_the_first(config: VisionConfig) -> None:
    # A steady car: its update (the second photo) says it is the same object.
    steady = run(config, timeline(25, lambda t: frame(obj(1, 200, 200))), second_photo_after_s=15)
    start, update, end = steady
    assert start.second_photo_same is None and update.second_photo_same is True
    assert update.second_photo_similarity > 0.9 and end.second_photo_same is True

    # A look that changes little from frame to frame, so every sighting continues the stay, but is much
    # changed 18 s after the first photo (red paint spreading up the box, 1.5 % of its height a frame):
    # no second photo is sent, the stay ends, the end says why.
    def repainted(t: float) -> Scene:
        share = min(1.0, max(0.0, (t - 4) * 0.03))
        car = obj(1, 200, 200)
        red = obj(UNTRACKED, 200, 200, height=40 * share, colour=RED) if share > 0 else None
        return frame(car, overlay=(red,) if red else ())

    events = run(config, timeline(26, repainted), second_photo_after_s=18)  # (what stands there now starts afresh)
    assert [e.phase for e in events] == ["start", "end"]
    assert events[-1].second_photo_same is False and events[-1].second_photo_similarity < 0.6


@pytest.mark.parametrize("told_of_the_cut", [True, False])
def test_a_car_leaving_the_view_keeps_its_stay_by_the_sides_in_view(config: VisionConfig, told_of_the_cut: bool) -> None:
    """A flying drone, in the rules' reference pixels: the parked car stands still while the frame's bottom edge
    climbs over it, so its box is the part still in view. Its top and sides still place it; its bottom is cut."""
    rules = Rules(config, dwell_s=4)
    events: list[ViolationEvent] = []
    for index in range(12):
        t = index * STEP_S
        bottom = min(200.0, 200 - 5 * (index - 4))  # from t 2.5 s the edge climbs 5 px a frame
        scene = frame(obj(1, 200, bottom, height=bottom - 160))  # the car's top stays at y 160
        cut = np.array([[False, False, False, bottom < 200]]) if told_of_the_cut else None
        events += rules.update(scene, t, cut)
    starts = [e for e in events if e.phase == "start"]
    if told_of_the_cut:
        assert len(starts) == 1 and starts[0].dwell_s >= 4
        assert starts[0].ground_point_px == (200.0, 200.0)  # where it stands, not where the view ends
    else:
        assert starts == []  # its bottom-centre ran off the stay's point: the stay broke


def test_restoring_a_cut_side_takes_the_known_size_placed_by_the_sides_in_view() -> None:
    known = np.array([100.0, 100.0, 160.0, 140.0])
    boxes = np.array([[103.0, 120.0, 163.0, 135.0], [100.0, 90.0, 160.0, 130.0], [150.0, 100.0, 160.0, 140.0]])
    cut = np.array([[False, False, False, True], [False, True, False, False], [True, False, False, False]])
    restored = restore_cut_sides(boxes, cut, known)
    # cut at the bottom: placed by its top and sides (moved 3 px right, 20 px down); never short of the edge
    assert restored[0].tolist() == [103.0, 120.0, 163.0, 160.0]
    # cut at the top (the edge is at y 90: the object reaches at least there): the known top moved with the bottom
    assert restored[1].tolist() == [100.0, 90.0, 160.0, 130.0]
    # cut on the left: placed by its right side
    assert restored[2].tolist() == [100.0, 100.0, 160.0, 140.0]


def test_a_zone_dwell_shorter_than_min_still_s_is_enough_to_count(config: VisionConfig) -> None:
    """Stills 0.2 s apart (a drone's): a zone's 0.6 s dwell, shorter than min_still_s, is the stay's test."""
    assert config.dwell.min_still_s == 1.0
    rules = Rules(config, dwell_s=0.6)
    starts = [e for i in range(10) for e in rules.update(frame(obj(1, 200, 200)), round(i * 0.2, 1))
              if e.phase == "start"]
    # present from 0.2 s (two frames in the zone); still for 0.6 s at 0.8 s, not after min_still_s at 1.2 s
    assert len(starts) == 1 and starts[0].last_seen_s == 0.8
