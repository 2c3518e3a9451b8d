"""The dwell rules: a vehicle parked in a no_parking zone, a stall standing in a no_vending zone.

Street vending is a stall held still: a stall-like object (a parasol, a table of goods, a cart, a `stall` or
`vendor` class of a custom model: the kinds `stall` and `vendor`, config/vision.yaml detector.class_map) stays
in the zone for its dwell, with or without a person beside it. People are never watched by the vending rule: a
person standing alone, or by a chair, a bench or a bag, is not vending. A weak stall sign is no sign at all:
detector.class_conf keeps a box of each such class only from its measured floor.

A stay is one physical object of one kind held still at one point of one zone, keyed by place,
look and kind, not by track id. Each frame, the zone's present objects of that kind are matched
to open stays: a sighting continues a stay when it lies within the zone's stationary tolerance of
the stay's point, overlaps its last box and looks like it (colour histograms, vision/appearance.py;
a stay's look is taken at its second sighting, so passing traffic is never described),
so a track id switch, a car hidden a few seconds by passing traffic, or car<->truck flicker keep
the stay and its dwell, while a second car stopping where the first stood starts its own.

A stay counts once its object was seen still in every analysed frame for `min_still_s` and in at least
`min_still_frames` frames (stills lie seconds apart: two are no proof of standing); after
that a frame in which it is unseen counts against it unless another box covers it (occlusion):
unseen and uncovered for `uncovered_grace_s` ends it, unseen but covered for `lost_grace_s` too.
Unseen frames end a stay only once it was unseen in `min_unseen_frames` analysed frames in a row
(a still sequence's frames lie seconds apart). Any box of the kind may continue a stay; only a box
present in the zone opens one, and never a duplicate or a part of a box that took a stay this frame.
A reported stay whose object has gone waits `rejoin_s` for a box where it stood that looks like it
(the same violation); its end event comes after. Dwell is measured in seconds from frame timestamps.
The second evidence photo is checked to show the object of the first (the stay's look then and now);
when it does not, no update is sent and the stay ends. Boxes too small for a look to mean anything
(`min_look_px`) are judged by place and overlap alone, and so are boxes the frame's edge cuts, whose cut sides
are taken where the stay last saw them (a car leaving a drone's view keeps its ground point).
A stay that was still for its zone's whole dwell counts even if that is shorter than `min_still_s`.
"""
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from config.vision import DwellConfig, Rule
from vision.appearance import Appearance
from vision.detections import UNTRACKED, Detections
from vision.events import Phase, ViolationEvent, make_event_id
from vision.zones import WATCHED_KINDS, Zone

RULE_OF_ZONE_KIND: dict[str, Rule] = {"no_parking": "illegal_parking", "no_vending": "street_vending"}
EARTH_RADIUS_M = 6_371_000.0

# (K,) detection rows -> (K, D) looks of those detections in this frame's image.
Describe = Callable[[np.ndarray], np.ndarray]
# A point in the rules' pixels -> (lon, lat), or None where the camera cannot place it.
Locate = Callable[[tuple[float, float]], tuple[float, float] | None]


@dataclass
class Stay:
    """One object held still in one zone."""

    stay_id: str
    zone: Zone
    anchor_px: np.ndarray  # the stationary reference: where the stay began, following slow drift
    tolerance_px: float
    started_at_s: float
    last_seen_s: float
    box_xyxy: np.ndarray
    confidence: float
    seen_row: int  # the row of its last sighting in that frame's detections
    # The reference look, following slow changes of light; taken at the second sighting, so the many
    # one-frame stays of passing traffic are never described.
    look: np.ndarray | None = None
    look_now: np.ndarray | None = None  # the look of the last sighting
    track_ids: list[int] = field(default_factory=list)
    uncovered_since_s: float | None = None  # unseen with nothing in front of it since then
    unseen_frames: int = 0  # analysed frames in a row without a sighting
    sightings: int = 1
    event_started: bool = False
    first_photo_look: np.ndarray | None = None  # the reference look when the first photo was taken
    first_photo_box: np.ndarray | None = None
    last_event_s: float = 0.0
    updates_sent: int = 0
    second_photo_similarity: float | None = None

    @property
    def dwell_s(self) -> float:
        return self.last_seen_s - self.started_at_s

    def see(
        self, *, row: int, box_xyxy: np.ndarray, confidence: float, track_id: int, look: np.ndarray,
        timestamp_s: float, follow: float,
    ) -> None:  # fmt: skip
        self.seen_row = row
        self.last_seen_s = timestamp_s
        self.uncovered_since_s = None
        self.unseen_frames = 0
        self.sightings += 1
        anchor = np.array([(box_xyxy[0] + box_xyxy[2]) / 2, box_xyxy[3]])
        self.anchor_px = (1 - follow) * self.anchor_px + follow * anchor
        self.look = look if self.look is None else (1 - follow) * self.look + follow * look
        self.look_now = look
        self.box_xyxy = box_xyxy
        self.confidence = max(self.confidence, confidence)
        if track_id != UNTRACKED and track_id not in self.track_ids:
            self.track_ids.append(track_id)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N,) intersection over union of one xyxy box with each of (N, 4) boxes."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return intersection / np.maximum(area + areas - intersection, 1e-9)


def covered_share(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(M,) the largest share of each of (M, 4) boxes that one of (N, 4) other boxes covers."""
    if not len(boxes) or not len(others):
        return np.zeros(len(boxes))
    top_left = np.maximum(boxes[:, None, :2], others[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], others[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    areas = np.maximum(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1), 1e-9)
    return intersection.max(axis=1) / areas


def restore_cut_sides(boxes: np.ndarray, cut: np.ndarray, known: np.ndarray) -> np.ndarray:
    """(N, 4) boxes with their cut sides (N, 4 bool: left, top, right, bottom) restored from the known box: its
    size, placed by the sides in view (a box cut at the bottom keeps its top), never short of the frame's edge."""
    left, top, right, bottom = cut.T
    offset = boxes - known  # per side
    centre_dx = (offset[:, 0] + offset[:, 2]) / 2
    dx = np.where(left == right, np.where(left, 0.0, centre_dx), np.where(left, offset[:, 2], offset[:, 0]))
    dy = np.where(~bottom, offset[:, 3], np.where(~top, offset[:, 1], 0.0))
    placed = known + np.stack([dx, dy, dx, dy], axis=1)  # the known box moved with the sides in view
    restored = boxes.copy()
    restored[:, :2] = np.where(cut[:, :2], np.minimum(boxes[:, :2], placed[:, :2]), boxes[:, :2])
    restored[:, 2:] = np.where(cut[:, 2:], np.maximum(boxes[:, 2:], placed[:, 2:]), boxes[:, 2:])
    return restored


def ground_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lon, lat) points a few metres apart (equirectangular)."""
    east = math.radians(b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    north = math.radians(b[1] - a[1])
    return EARTH_RADIUS_M * math.hypot(east, north)


def required_dwell_s(zone: Zone) -> float:
    """Seconds still before an event in this zone: its dwell, at least its min_stop_s; a queue lane only past that."""
    config = zone.config
    if config.queue and config.min_stop_s is None:
        return math.inf
    return max(config.dwell_s, config.min_stop_s or 0.0)


class DwellRules:
    """`update(detections, present, timestamp_s, describe)` -> this frame's events; `finish()` ends the open ones."""

    def __init__(
        self,
        *,
        source_id: str,
        zones: list[Zone],
        config: DwellConfig,
        categories: dict[Rule, str],
        second_photo_after_s: dict[Rule, float],
        locate: Locate | None = None,
    ) -> None:
        self.source_id = source_id
        self.zones = zones
        self.config = config
        self.categories = categories
        # The first update comes when the second evidence photo is due; later ones every update_every_s.
        self.second_photo_after_s = second_photo_after_s
        self.appearance = Appearance(config.appearance)
        self.locate = locate
        for zone in zones:
            if zone.config.stationary_unit == "m" and locate is None:
                raise ValueError(f"zone {zone.id!r}: stationary_unit m needs a located camera (ground mapping)")
        self.stays: list[Stay] = []  # oldest first
        # Reported stays whose object is gone from view, kept rejoin_s for it to reappear: their end comes after.
        self.dormant: list[Stay] = []
        self._stays_opened = 0

    def update(
        self, detections: Detections, present: np.ndarray, timestamp_s: float, describe: Describe,
        cut: np.ndarray | None = None,
    ) -> list[ViolationEvent]:
        """`present`: (zones, N) from ZonePresence for these detections; `describe`: the looks of detection rows;
        `cut`: (N, 4) the sides (left, top, right, bottom) of each box that the frame's edge cuts."""
        cut = np.zeros((len(detections), 4), bool) if cut is None else cut
        looks = _LookCache(describe, self.appearance.size)
        events = self._expire_dormant(timestamp_s)
        seen: set[str] = set()
        for row, zone in enumerate(self.zones):
            if required_dwell_s(zone) == math.inf:
                continue  # a queue lane: its stops never count
            watched = np.isin(detections.kind, WATCHED_KINDS[zone.config.kind])
            # Any box of the kind may continue a stay (a track the tracker lost and restarted is not yet present);
            # only a present one opens a stay.
            rows, opening = np.flatnonzero(watched), present[row][watched]
            seen.update(self._match(zone, detections, rows, opening, cut[rows], looks, timestamp_s))
        unseen = [stay for stay in self.stays if stay.stay_id not in seen]
        covered = covered_share(np.array([s.box_xyxy for s in unseen]).reshape(-1, 4), detections.xyxy)
        for stay, share in zip(unseen, covered):
            if self._lost(stay, hidden=share >= self.config.cover_share, timestamp_s=timestamp_s):
                self.stays.remove(stay)
                if stay.event_started and self._rejoin_s(stay) > 0:
                    self.dormant.append(stay)
                elif stay.event_started:
                    events.append(self._event(stay, "end"))
        for stay in [s for s in self.stays if s.stay_id in seen]:
            events.extend(self._lifecycle(stay, timestamp_s, looks))
        return events

    def finish(self) -> list[ViolationEvent]:
        """End every open event at its last sighting (the source has ended)."""
        ended = sorted([*self.dormant, *(s for s in self.stays if s.event_started)], key=lambda s: s.last_seen_s)
        self.stays, self.dormant = [], []
        return [self._event(stay, "end") for stay in ended]

    def _expire_dormant(self, timestamp_s: float) -> list[ViolationEvent]:
        """End the reported stays whose object has not come back within rejoin_s."""
        expired = [stay for stay in self.dormant if timestamp_s - stay.last_seen_s > self._rejoin_s(stay)]
        for stay in expired:
            self.dormant.remove(stay)
        return [self._event(stay, "end") for stay in expired]

    def _rejoin_s(self, stay: Stay) -> float:
        return self.config.rejoin_s[RULE_OF_ZONE_KIND[stay.zone.config.kind]]

    def _rejoined(self, zone: Zone, box: np.ndarray, row: int, looks: "_LookCache") -> Stay | None:
        """The dormant stay of this zone that this box (detection row `row`) brings back: where it stood, alike."""
        for stay in (s for s in self.dormant if s.zone is zone):
            if self._same_object(stay, box, row, looks, self.config.rejoin_iou):
                self.dormant.remove(stay)
                self.stays.append(stay)
                return stay
        return None

    def _reported_as(self, young: Stay, looks: "_LookCache") -> Stay | None:
        """The reported stay (open, or dormant: then brought back) whose object this qualifying stay holds."""
        rejoined = self._rejoined(young.zone, young.box_xyxy, young.seen_row, looks)
        if rejoined is not None:
            return rejoined
        for stay in (s for s in self.stays if s.zone is young.zone and s.event_started):
            if self._same_object(stay, young.box_xyxy, young.seen_row, looks, self.config.match_iou):
                return stay
        return None

    def _same_object(self, stay: Stay, box: np.ndarray, row: int, looks: "_LookCache", min_iou: float) -> bool:
        """This box (detection row `row`) overlaps the stay's last box by min_iou, or one of the two lies in the
        other (duplicate_share: a part of the car, its roof behind the car in front), and looks like it (when
        judged)."""
        inside = max(covered_share(box[None, :], stay.box_xyxy[None, :])[0],
                     covered_share(stay.box_xyxy[None, :], box[None, :])[0])
        part = inside >= self.config.duplicate_share
        if box_iou(box, stay.box_xyxy[None, :])[0] < min_iou and not part:
            return False
        judged = stay.look is not None and self.appearance.judges(np.array([box, stay.box_xyxy])).all()
        return not judged or bool(self.appearance.alike(stay.look, looks.of(np.array([row])))[0])

    def _counts(self, stay: Stay) -> bool:
        """Seen still long enough (min_still_s, or the zone's whole dwell if shorter) and often enough to be a stay."""
        still_s = min(self.config.min_still_s, required_dwell_s(stay.zone))
        return stay.dwell_s >= still_s and stay.sightings >= self.config.min_still_frames

    def _lost(self, stay: Stay, *, hidden: bool, timestamp_s: float) -> bool:
        """An unseen stay: gone when it never counted, or, once unseen in min_unseen_frames analysed frames in a
        row, when unseen and uncovered too long or hidden too long."""
        if not self._counts(stay):
            return True  # seen still in every analysed frame, or not a stay
        stay.unseen_frames += 1
        if hidden:
            stay.uncovered_since_s = None
        elif stay.uncovered_since_s is None:
            stay.uncovered_since_s = timestamp_s
        if stay.unseen_frames < self.config.min_unseen_frames:
            return False
        if timestamp_s - stay.last_seen_s > self.config.lost_grace_s:
            return True
        uncovered_since_s = stay.uncovered_since_s
        return uncovered_since_s is not None and timestamp_s - uncovered_since_s >= self.config.uncovered_grace_s

    def _match(
        self, zone: Zone, detections: Detections, rows: np.ndarray, opening: np.ndarray, cut: np.ndarray,
        looks: "_LookCache", timestamp_s: float,
    ) -> set[str]:  # fmt: skip
        """Attach the candidate rows to this zone's stays, open stays for the rest of those that may (`opening`:
        present in the zone; `cut`: their sides the frame's edge cuts); the ids of the stays seen."""
        candidates = detections[rows]
        is_cut = cut.any(axis=1)
        free = np.ones(len(candidates), bool)
        seen: set[str] = set()
        # Oldest stays choose first, so a duplicate born of one jittery box never steals a long stay.
        for stay in (s for s in self.stays if s.zone is zone):
            # A box the frame's edge cuts is the visible part: on its cut sides the stay knows the object better.
            boxes = restore_cut_sides(candidates.xyxy, cut, stay.box_xyxy) if is_cut.any() else candidates.xyxy
            anchors = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
            distance = np.linalg.norm(anchors - stay.anchor_px, axis=1)
            # Near the stay's point and much the same box: a van passing in front is neither.
            overlap = box_iou(stay.box_xyxy, boxes)
            feasible = free & (distance <= stay.tolerance_px) & (overlap >= self.config.match_iou)
            if not feasible.any():
                continue
            # And it looks the same: another car where this one stood is not this one (looks of these rows only).
            # (Boxes too small for a look to mean anything, or cut by the frame's edge, are judged by place and
            # overlap alone: half a car does not look like the whole.)
            judged = feasible & self.appearance.judges(candidates.xyxy) & ~is_cut
            if stay.look is not None and judged.any() and self.appearance.judges(stay.box_xyxy)[0]:
                similarity = np.ones(len(candidates))
                similarity[judged] = self.appearance.similarity(stay.look, looks.of(rows[judged]))
                feasible &= similarity >= self.config.appearance.min_similarity
                if not feasible.any():
                    continue
            # Its own track first, then the nearest: a new track id may take over a lost stay.
            own_track = np.isin(candidates.track_id, stay.track_ids)
            cost = np.where(feasible, distance / stay.tolerance_px - own_track, np.inf)
            chosen = int(np.argmin(cost))
            free[chosen] = False
            seen.add(stay.stay_id)
            self._see(stay, candidates, chosen, int(rows[chosen]), looks, timestamp_s, box=boxes[chosen])
        # A second box of an object that continued or opened a stay this frame (the detector's duplicate: much the
        # same box, or a part of it) opens nothing; the larger boxes open first.
        taken = list(candidates.xyxy[~free])
        areas = np.prod(candidates.xyxy[:, 2:] - candidates.xyxy[:, :2], axis=1)
        for index in sorted(np.flatnonzero(free & opening), key=lambda i: -areas[i]):
            box = candidates.xyxy[index]
            if taken and (box_iou(box, np.array(taken)).max() >= self.config.match_iou
                          or covered_share(box[None, :], np.array(taken))[0] >= self.config.duplicate_share):
                continue
            taken.append(box)
            row = int(rows[index])
            stay = self._rejoined(zone, candidates.xyxy[index], row, looks)
            if stay is not None:
                self._see(stay, candidates, index, row, looks, timestamp_s)
            else:
                stay = self._open(zone, candidates[np.array([index])], row, timestamp_s)
            seen.add(stay.stay_id)
        return seen

    def _see(
        self, stay: Stay, candidates: Detections, index: int, row: int, looks: "_LookCache", timestamp_s: float,
        box: np.ndarray | None = None,
    ) -> None:
        stay.see(
            row=row,
            box_xyxy=candidates.xyxy[index] if box is None else box,
            confidence=float(candidates.confidence[index]),
            track_id=int(candidates.track_id[index]),
            look=looks.of(np.array([row]))[0],
            timestamp_s=timestamp_s,
            follow=self.config.reference_follow,
        )

    def _tolerance_px(self, zone: Zone, anchor: np.ndarray, height: float) -> float:
        """The zone's stationary tolerance in pixels at this point: box heights, pixels, or metres on the ground."""
        tolerance, unit = zone.config.stationary_tolerance, zone.config.stationary_unit
        if unit == "box":
            pixels = tolerance * height
        elif unit == "px":
            pixels = tolerance
        else:
            pixels = tolerance / self._metres_per_px(anchor, height)
        return max(pixels, self.config.jitter_px)

    def _metres_per_px(self, anchor: np.ndarray, height: float) -> float:
        """Ground metres of one pixel at `anchor`, the larger of across and up the image (never too lenient)."""
        assert self.locate is not None  # checked at construction
        step = max(1.0, height / 4)
        x, y = float(anchor[0]), float(anchor[1])
        here, across, up = self.locate((x, y)), self.locate((x + step, y)), self.locate((x, y - step))
        if here is None or across is None or up is None:
            return math.inf  # off the ground (above the horizon): nothing there is still
        return max(ground_distance_m(here, across), ground_distance_m(here, up)) / step

    def _open(self, zone: Zone, detection: Detections, row: int, timestamp_s: float) -> Stay:
        self._stays_opened += 1
        anchor = detection.anchors[0]
        stay = Stay(
            stay_id=f"{zone.id}#{self._stays_opened}",
            zone=zone,
            anchor_px=anchor,
            tolerance_px=self._tolerance_px(zone, anchor, float(detection.heights[0])),
            started_at_s=timestamp_s,
            last_seen_s=timestamp_s,
            box_xyxy=detection.xyxy[0],
            confidence=float(detection.confidence[0]),
            seen_row=row,
        )
        if detection.track_id[0] != UNTRACKED:
            stay.track_ids.append(int(detection.track_id[0]))
        self.stays.append(stay)
        return stay

    def _lifecycle(self, stay: Stay, timestamp_s: float, looks: "_LookCache") -> list[ViolationEvent]:
        """Start once the stay qualifies; update when the second photo is due (and shows the same object),
        then every update_every_s."""
        if not stay.event_started:
            if not (self._counts(stay) and stay.dwell_s >= required_dwell_s(stay.zone)):
                return []
            reported = self._reported_as(stay, looks)
            if reported is not None:  # the object of a reported stay, whose boxes went astray: not a new violation
                self.stays.remove(stay)
                if reported.last_seen_s < timestamp_s:
                    reported.track_ids.extend(t for t in stay.track_ids if t not in reported.track_ids)
                    reported.see(row=stay.seen_row, box_xyxy=stay.box_xyxy, confidence=stay.confidence,
                                 track_id=UNTRACKED, look=stay.look_now, timestamp_s=timestamp_s,
                                 follow=self.config.reference_follow)  # fmt: skip
                return []
            stay.event_started = True
            stay.last_event_s = timestamp_s
            if stay.look_now is None:  # an event at the first sighting (no dwell, no min_still_s/frames)
                stay.look = stay.look_now = looks.of(np.array([stay.seen_row]))[0]
            stay.first_photo_look = stay.look
            stay.first_photo_box = stay.box_xyxy
            return [self._event(stay, "start")]
        wait_s = self._second_photo_after_s(stay) if stay.updates_sent == 0 else self.config.update_every_s
        if timestamp_s - stay.last_event_s < wait_s:
            return []
        if stay.updates_sent == 0 and not self._second_photo_matches(stay):
            self.stays.remove(stay)  # the object in the box is no longer the one of the first photo
            return [self._event(stay, "end")]
        stay.updates_sent += 1
        stay.last_event_s = timestamp_s
        return [self._event(stay, "update")]

    def _second_photo_after_s(self, stay: Stay) -> float:
        zone_seconds = stay.zone.config.second_photo_after_s
        if zone_seconds is not None:
            return zone_seconds
        return self.second_photo_after_s[RULE_OF_ZONE_KIND[stay.zone.config.kind]]

    def _second_photo_matches(self, stay: Stay) -> bool:
        """Record how much the object now looks like the first photo's; True when alike, or too small to judge
        (then nothing is recorded)."""
        assert stay.first_photo_look is not None and stay.look is not None
        if not self.appearance.judges(np.array([stay.first_photo_box, stay.box_xyxy])).all():
            return True
        # The stay's reference looks then and now (each the blend of many sightings, every one of which matched the
        # reference of its time): one frame's passing shadow or jitter does not decide.
        stay.second_photo_similarity = float(self.appearance.similarity(stay.first_photo_look, stay.look)[0])
        return stay.second_photo_similarity >= self.config.appearance.min_similarity

    def _event(self, stay: Stay, phase: Phase) -> ViolationEvent:
        rule = RULE_OF_ZONE_KIND[stay.zone.config.kind]
        x1, y1, x2, y2 = (float(v) for v in stay.box_xyxy)
        similarity = stay.second_photo_similarity
        return ViolationEvent(
            event_id=make_event_id(
                source_id=self.source_id, rule=rule, stay_id=stay.stay_id, started_at_s=stay.started_at_s
            ),
            source_id=self.source_id,
            rule=rule,
            category=self.categories[rule],
            zone_id=stay.zone.id,
            phase=phase,
            started_at_s=stay.started_at_s,
            last_seen_s=stay.last_seen_s,
            dwell_s=stay.dwell_s,
            box_xyxy=(x1, y1, x2, y2),
            ground_point_px=((x1 + x2) / 2, y2),
            track_ids=tuple(stay.track_ids),
            confidence=stay.confidence,
            second_photo_similarity=similarity,
            second_photo_same=None if similarity is None else similarity >= self.config.appearance.min_similarity,
        )


class _LookCache:
    """The looks of one frame's detection rows, each described once, on first use."""

    def __init__(self, describe: Describe, size: int) -> None:
        self.describe = describe
        self.size = size
        self._looks: dict[int, np.ndarray] = {}

    def of(self, rows: np.ndarray) -> np.ndarray:
        """(K, D) looks of these detection rows."""
        missing = np.array([row for row in rows.tolist() if row not in self._looks], np.int64)
        if len(missing):
            for row, look in zip(missing.tolist(), self.describe(missing)):
                self._looks[row] = look
        return np.array([self._looks[row] for row in rows.tolist()], np.float32).reshape(-1, self.size)
