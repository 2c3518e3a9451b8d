"""Zones of one camera and which tracked objects are in them, with a few frames of inertia."""
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import shapely

from config.vision import PresenceConfig, ZoneConfig
from vision.detections import UNTRACKED, Detections

# The kinds each zone kind watches.
WATCHED_KINDS = {"no_parking": ("vehicle",), "no_vending": ("stall", "vendor")}


@dataclass(frozen=True)
class Zone:
    """A zone's settings and its polygon, built once at load."""

    config: ZoneConfig
    shape: shapely.Geometry  # the outline less its holes

    @classmethod
    def from_config(cls, config: ZoneConfig) -> "Zone":
        outline = shapely.Polygon(config.polygon)  # valid: ZoneConfig checks it
        # Holes may touch or overlap (neighbouring parking bays): subtract their union.
        shape = outline.difference(shapely.union_all([shapely.Polygon(hole) for hole in config.holes]))
        shapely.prepare(shape)
        return cls(config=config, shape=shape)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def outline(self) -> np.ndarray:
        """(K, 2) int32 exterior points, for drawing."""
        return np.asarray(self.config.polygon, np.int32)

    def moved(self, affine: np.ndarray) -> "Zone":
        """The same zone with its outline carried through a 2×3 affine (to draw it in another frame's pixels)."""
        polygon = np.asarray(self.config.polygon, float) @ affine[:, :2].T + affine[:, 2]
        return replace(self, config=self.config.model_copy(update={"polygon": [tuple(p) for p in polygon]}))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool: which (N, 2) points lie inside (holes excluded, the border counts as inside)."""
        if not len(points):
            return np.zeros(0, bool)
        return shapely.intersects_xy(self.shape, points[:, 0], points[:, 1])


Locate = Callable[[tuple[float, float]], tuple[float, float] | None]


@dataclass(frozen=True)
class GroundZone(Zone):
    """A zone drawn on the map (lon/lat): image points are tested where the source's ground mapping puts them.

    For a drone the mapping follows the frame's telemetry, so the zone stays on the kerb as the view moves.
    """

    locate: Locate | None = None

    @classmethod
    def on_ground(cls, config: ZoneConfig, locate: Locate) -> "GroundZone":
        zone = Zone.from_config(config)
        return cls(config=config, shape=zone.shape, locate=locate)

    @property
    def outline(self) -> np.ndarray:
        """Nothing to draw in pixels: the outline lies on the map, not in the image."""
        return np.zeros((0, 2), np.int32)

    def contains(self, points: np.ndarray) -> np.ndarray:
        grounded = [self.locate((float(x), float(y))) for x, y in points]
        lonlat = np.array([p if p is not None else (np.nan, np.nan) for p in grounded], float).reshape(-1, 2)
        inside = shapely.intersects_xy(self.shape, lonlat[:, 0], lonlat[:, 1]) if len(lonlat) else np.zeros(0, bool)
        return inside & ~np.isnan(lonlat[:, 0])


class ZonePresence:
    """Per zone and track id, present after `enter_frames` analysed frames inside, absent after `leave_frames` outside.

    Frames where a track is not detected count neither way: dwell.py handles the unseen.
    """

    def __init__(self, zones: list[Zone], config: PresenceConfig, *, forget_after_s: float) -> None:
        self.zones = zones
        self.config = config
        # A track lost longer than the tracker keeps it never comes back under its id.
        self.forget_after_s = forget_after_s
        self._track_ids = np.empty(0, np.int64)  # sorted
        self._last_seen_s = np.empty(0, np.float64)
        self._streak = np.empty((len(zones), 0), np.int64)  # > 0: frames inside in a row, < 0: outside
        self._present = np.empty((len(zones), 0), bool)

    def update(self, detections: Detections, timestamp_s: float) -> np.ndarray:
        """(zones, N) bool: detection n is present in zone z. Untracked detections are never present."""
        self._forget_older_than(timestamp_s - self.forget_after_s)
        inside = np.zeros((len(self.zones), len(detections)), bool)
        for row, zone in enumerate(self.zones):  # a loop over zones, not objects
            inside[row] = zone.contains(detections.anchors)
        tracked = detections.track_id != UNTRACKED
        self._add_tracks(detections.track_id[tracked])
        columns = np.searchsorted(self._track_ids, detections.track_id[tracked])
        streak = self._streak[:, columns]
        inside_tracked = inside[:, tracked]
        streak = np.where(inside_tracked, np.maximum(streak, 0) + 1, np.minimum(streak, 0) - 1)
        present = self._present[:, columns]
        present = np.where(streak >= self.config.enter_frames, True, present)
        present = np.where(streak <= -self.config.leave_frames, False, present)
        self._streak[:, columns] = streak
        self._present[:, columns] = present
        self._last_seen_s[columns] = timestamp_s
        result = np.zeros((len(self.zones), len(detections)), bool)
        result[:, tracked] = present
        return result

    def _forget_older_than(self, cutoff_s: float) -> None:
        keep = self._last_seen_s >= cutoff_s
        self._track_ids, self._last_seen_s = self._track_ids[keep], self._last_seen_s[keep]
        self._streak, self._present = self._streak[:, keep], self._present[:, keep]

    def _add_tracks(self, track_ids: np.ndarray) -> None:
        new = np.setdiff1d(track_ids, self._track_ids)
        if not len(new):
            return
        ids = np.concatenate([self._track_ids, new])
        order = np.argsort(ids)
        zeros = np.zeros((len(self.zones), len(new)), np.int64)
        self._track_ids = ids[order]
        self._last_seen_s = np.concatenate([self._last_seen_s, np.zeros(len(new))])[order]
        self._streak = np.concatenate([self._streak, zeros], axis=1)[:, order]
        self._present = np.concatenate([self._present, zeros.astype(bool)], axis=1)[:, order]
