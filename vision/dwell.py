"""The dwell rules: a vehicle parked in a no_parking zone, a person vending in a no_vending zone.

A stay is keyed by place and kind, not by track id: it is an object of one kind held still at one
point of one zone. Each frame, the zone's present objects of that kind are matched to open stays
by distance to the stay's point (within the zone's stationary tolerance) and overlap with its last
box, so a track
id switch, a car hidden a few seconds by passing traffic, or car<->truck flicker keep the stay and
its dwell. Dwell is measured in seconds from frame timestamps.
"""
from dataclasses import dataclass, field

import numpy as np

from config.vision import DwellConfig, Rule
from vision.detections import UNTRACKED, Detections
from vision.events import Phase, ViolationEvent, make_event_id
from vision.zones import WATCHED_KINDS, Zone

RULE_OF_ZONE_KIND: dict[str, Rule] = {"no_parking": "illegal_parking", "no_vending": "street_vending"}
VENDING_SIGNAL_KINDS = ("vending_signal", "vendor")


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
    track_ids: list[int] = field(default_factory=list)
    vending_signal_seen: bool = False
    event_started: bool = False
    last_event_s: float = 0.0
    updates_sent: int = 0

    @property
    def dwell_s(self) -> float:
        return self.last_seen_s - self.started_at_s

    def see(
        self, *, box_xyxy: np.ndarray, confidence: float, track_id: int, timestamp_s: float, follow: float
    ) -> None:
        self.last_seen_s = timestamp_s
        anchor = np.array([(box_xyxy[0] + box_xyxy[2]) / 2, box_xyxy[3]])
        self.anchor_px = (1 - follow) * self.anchor_px + follow * anchor
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


class DwellRules:
    """`update(detections, present, timestamp_s)` -> the events of this frame; `finish()` ends the open ones."""

    def __init__(
        self,
        *,
        source_id: str,
        zones: list[Zone],
        config: DwellConfig,
        categories: dict[Rule, str],
        first_update_after_s: float,
    ) -> None:
        self.source_id = source_id
        self.zones = zones
        self.config = config
        self.categories = categories
        # The first update comes when the second evidence photo is due; later ones every update_every_s.
        self.first_update_after_s = first_update_after_s
        self.stays: list[Stay] = []  # oldest first
        self._stays_opened = 0

    def update(self, detections: Detections, present: np.ndarray, timestamp_s: float) -> list[ViolationEvent]:
        """`present`: (zones, N) from ZonePresence for these detections."""
        confident = detections.confidence >= self.config.vending_signal_conf
        is_signal = np.isin(detections.kind, VENDING_SIGNAL_KINDS) & confident
        signal_centres = detections[is_signal].xywh[:, :2]
        seen: set[str] = set()
        for row, zone in enumerate(self.zones):
            candidates = np.flatnonzero(present[row] & np.isin(detections.kind, WATCHED_KINDS[zone.config.kind]))
            seen.update(self._match(zone, detections[candidates], signal_centres, timestamp_s))
        events: list[ViolationEvent] = []
        for stay in list(self.stays):
            if stay.stay_id not in seen:
                if timestamp_s - stay.last_seen_s > self.config.lost_grace_s:
                    self.stays.remove(stay)
                    if stay.event_started:
                        events.append(self._event(stay, "end"))
                continue
            events.extend(self._lifecycle(stay, timestamp_s))
        return events

    def finish(self) -> list[ViolationEvent]:
        """End every open event at its last sighting (the source has ended)."""
        events = [self._event(stay, "end") for stay in self.stays if stay.event_started]
        self.stays = []
        return events

    def _match(
        self, zone: Zone, candidates: Detections, signal_centres: np.ndarray, timestamp_s: float
    ) -> set[str]:
        """Attach candidates to this zone's stays, open stays for the rest; the ids of the stays seen."""
        anchors = candidates.anchors
        near_signal = self._near_vending_signal(candidates, signal_centres)
        free = np.ones(len(candidates), bool)
        seen: set[str] = set()
        # Oldest stays choose first, so a duplicate born of one jittery box never steals a long stay.
        for stay in (s for s in self.stays if s.zone is zone):
            distance = np.linalg.norm(anchors - stay.anchor_px, axis=1)
            # Near the stay's point and much the same box: a van passing in front is neither.
            overlap = box_iou(stay.box_xyxy, candidates.xyxy)
            feasible = free & (distance <= stay.tolerance_px) & (overlap >= self.config.match_iou)
            if not feasible.any():
                continue
            # Its own track first, then the nearest: a new track id may take over a lost stay.
            own_track = np.isin(candidates.track_id, stay.track_ids)
            cost = np.where(feasible, distance / stay.tolerance_px - own_track, np.inf)
            chosen = int(np.argmin(cost))
            free[chosen] = False
            seen.add(stay.stay_id)
            stay.see(
                box_xyxy=candidates.xyxy[chosen],
                confidence=float(candidates.confidence[chosen]),
                track_id=int(candidates.track_id[chosen]),
                timestamp_s=timestamp_s,
                follow=self.config.reference_follow,
            )
            stay.vending_signal_seen |= bool(near_signal[chosen])
        for index in np.flatnonzero(free):
            stay = self._open(zone, candidates[np.array([index])], timestamp_s)
            stay.vending_signal_seen = bool(near_signal[index])
            seen.add(stay.stay_id)
        return seen

    def _near_vending_signal(self, candidates: Detections, signal_centres: np.ndarray) -> np.ndarray:
        """(N,) bool: a vendor, or a person with a vending signal within vending_radius person-heights."""
        centres = candidates.xywh[:, :2]
        distance = np.linalg.norm(centres[:, None, :] - signal_centres[None, :, :], axis=2)
        near = (distance <= self.config.vending_radius * candidates.heights[:, None]).any(axis=1)
        return near | (candidates.kind == "vendor")

    def _open(self, zone: Zone, detection: Detections, timestamp_s: float) -> Stay:
        self._stays_opened += 1
        height = float(detection.heights[0])
        tolerance = zone.config.stationary_tolerance
        stay = Stay(
            stay_id=f"{zone.id}#{self._stays_opened}",
            zone=zone,
            anchor_px=detection.anchors[0],
            tolerance_px=tolerance * height if zone.config.stationary_unit == "box" else tolerance,
            started_at_s=timestamp_s,
            last_seen_s=timestamp_s,
            box_xyxy=detection.xyxy[0],
            confidence=float(detection.confidence[0]),
        )
        if detection.track_id[0] != UNTRACKED:
            stay.track_ids.append(int(detection.track_id[0]))
        self.stays.append(stay)
        return stay

    def _lifecycle(self, stay: Stay, timestamp_s: float) -> list[ViolationEvent]:
        """Start once the stay qualifies; update when the second photo is due, then every update_every_s."""
        if not stay.event_started:
            needs_signal = stay.zone.config.kind == "no_vending" and stay.zone.config.requires_vending_signal
            if stay.dwell_s < stay.zone.config.dwell_s or (needs_signal and not stay.vending_signal_seen):
                return []
            stay.event_started = True
            stay.last_event_s = timestamp_s
            return [self._event(stay, "start")]
        wait_s = self.first_update_after_s if stay.updates_sent == 0 else self.config.update_every_s
        if timestamp_s - stay.last_event_s < wait_s:
            return []
        stay.updates_sent += 1
        stay.last_event_s = timestamp_s
        return [self._event(stay, "update")]

    def _event(self, stay: Stay, phase: Phase) -> ViolationEvent:
        rule = RULE_OF_ZONE_KIND[stay.zone.config.kind]
        x1, y1, x2, y2 = (float(v) for v in stay.box_xyxy)
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
        )
