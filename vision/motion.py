"""Ego-motion of a moving camera (a drone flying a street), so that parked objects keep still.

Boxes are carried into the first frame's pixel coordinates (the reference), where a parked car
stays put while the drone flies on; tracking, zones and dwell then work as for a fixed camera.
"""
import cv2
import numpy as np

from config.vision import MotionConfig

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2×3 affine that applies `inner`, then `outer`."""
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


def invert(affine: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(affine)


def transform_boxes(xyxy: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """(N, 4) boxes through a 2×3 affine: the axis-aligned box around the moved corners."""
    x1, y1, x2, y2 = xyxy.T
    corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x1, y2], 1),
                        np.stack([x2, y2], 1)], 1)  # (N, 4, 2)
    moved = corners @ affine[:, :2].T + affine[:, 2]
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1).astype(xyxy.dtype)


class EgoMotion:
    """`update(image)` → the 2×3 affine from this frame's pixels to the reference frame's.

    Each frame is matched to the previous one (ORB features, a RANSAC similarity that ignores
    what moves by itself); the steps are chained. A frame too poor to match keeps the last pose.
    """

    def __init__(self, config: MotionConfig) -> None:
        self.config = config
        self.orb = cv2.ORB_create(config.features)
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
        self.previous: tuple[tuple, np.ndarray] | None = None
        self.to_reference = IDENTITY.copy()
        self.unmatched_frames = 0

    def update(self, image: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        keypoints, descriptors = self.orb.detectAndCompute(gray, None)
        if self.previous is not None and descriptors is not None and self.previous[1] is not None:
            step = self._step(self.previous, (keypoints, descriptors))
            if step is None:
                self.unmatched_frames += 1
            else:
                self.to_reference = compose(self.to_reference, step)
        self.previous = (keypoints, descriptors)
        return self.to_reference

    def _step(self, previous: tuple, current: tuple) -> np.ndarray | None:
        """Current frame → previous frame, or None when too few features agree."""
        matches = self.matcher.match(current[1], previous[1])
        if len(matches) < self.config.min_inliers:
            return None
        source = np.float32([current[0][m.queryIdx].pt for m in matches])
        target = np.float32([previous[0][m.trainIdx].pt for m in matches])
        affine, inliers = cv2.estimateAffinePartial2D(source, target, ransacReprojThreshold=self.config.ransac_px)
        if affine is None or int(inliers.sum()) < self.config.min_inliers:
            return None
        return affine
