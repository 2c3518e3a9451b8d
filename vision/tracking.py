"""ByteTrack (Ultralytics' BYTETracker) fed with our Detections; one Tracker per source."""
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Self

import numpy as np
from ultralytics.trackers.byte_tracker import BYTETracker

from config.vision import TrackerConfig
from vision.detections import UNTRACKED, Detections

# Columns of BYTETracker.update's output rows.
TRACK_ID_COLUMN, DETECTION_INDEX_COLUMN = 4, 7


@dataclass(frozen=True)
class _TrackerInput:
    """The slice of Ultralytics' Boxes that BYTETracker reads: conf, cls, xywh, boolean indexing."""

    conf: np.ndarray
    cls: np.ndarray
    xywh: np.ndarray

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask: np.ndarray) -> Self:
        return _TrackerInput(conf=self.conf[mask], cls=self.cls[mask], xywh=self.xywh[mask])


class Tracker:
    """`update(detections)` returns the same detections with track ids; untracked kinds keep UNTRACKED."""

    def __init__(self, config: TrackerConfig, *, analysis_fps: float) -> None:
        self.config = config
        # track_buffer counts analysed frames: seconds, not frames, in our configuration.
        buffer_frames = max(1, round(config.lost_track_s * analysis_fps))
        self._tracker = BYTETracker(
            SimpleNamespace(
                track_high_thresh=config.track_high_thresh,
                track_low_thresh=config.track_low_thresh,
                new_track_thresh=config.new_track_thresh,
                match_thresh=config.match_thresh,
                fuse_score=config.fuse_score,
                track_buffer=buffer_frames,
            )
        )
        self.tracks_seen = 0  # how many tracks were ever reported (O(1) memory: ids only grow)
        self._newest_id = 0

    def update(self, detections: Detections) -> Detections:
        tracked = np.isin(detections.kind, self.config.tracked_kinds)
        tracked_indices = np.flatnonzero(tracked)
        subset = detections[tracked]
        rows = self._tracker.update(
            _TrackerInput(conf=subset.confidence, cls=subset.class_id.astype(np.float32), xywh=subset.xywh)
        )
        track_id = np.full(len(detections), UNTRACKED, np.int64)
        if len(rows):
            # A track's row carries the index of the detection it matched this frame.
            track_id[tracked_indices[rows[:, DETECTION_INDEX_COLUMN].astype(np.int64)]] = rows[:, TRACK_ID_COLUMN]
            ids = rows[:, TRACK_ID_COLUMN].astype(np.int64)
            newer = np.unique(ids[ids > self._newest_id])  # ids come from an increasing counter: greater means new
            self.tracks_seen += len(newer)
            self._newest_id = max(self._newest_id, int(ids.max()))
        return detections.with_track_ids(track_id)
