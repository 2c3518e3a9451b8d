"""Where a pixel is on the ground: fixed cameras by homography, drones by their telemetry.

    h = Homography.from_control_points(pixels, lonlats)   # four or more surveyed points
    lonlat = h.to_ground([[640, 700]])                     # -> [[lon, lat]]

    record = record_at(records, frame.timestamp_s)
    lonlat = project_to_ground((812, 455), image_size=(1920, 1080), record=record,
                               intrinsics=Intrinsics.from_focal_35mm(24.0, image_size=(1920, 1080)))
"""
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike

from vision.telemetry import TelemetryRecord

# WGS-84
SEMI_MAJOR_M = 6_378_137.0
ECCENTRICITY_SQ = 6.694_379_990_14e-3
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
# Thinner than this share of their extent, control points count as lying on a line.
COLLINEAR_RATIO = 1e-3


class GeoError(ValueError):
    """Control points or camera parameters that cannot place pixels on the ground."""


@dataclass(frozen=True)
class LocalPlane:
    """East/north metres on the plane tangent to WGS-84 at (lon0, lat0); centimetre-true within a kilometre."""

    lon0: float
    lat0: float

    @property
    def _metres_per_radian(self) -> tuple[float, float]:
        """(east, north): the prime-vertical and meridional radii of curvature at lat0."""
        sin_lat = math.sin(math.radians(self.lat0))
        w = math.sqrt(1 - ECCENTRICITY_SQ * sin_lat**2)
        prime_vertical = SEMI_MAJOR_M / w
        meridional = SEMI_MAJOR_M * (1 - ECCENTRICITY_SQ) / w**3
        return prime_vertical * math.cos(math.radians(self.lat0)), meridional

    def to_metres(self, lonlats: ArrayLike) -> np.ndarray:
        """(N, 2) lon/lat degrees -> (N, 2) east/north metres."""
        lonlats = np.asarray(lonlats, dtype=float).reshape(-1, 2)
        east, north = self._metres_per_radian
        return np.radians(lonlats - (self.lon0, self.lat0)) * (east, north)

    def to_lonlat(self, metres: ArrayLike) -> np.ndarray:
        """(N, 2) east/north metres -> (N, 2) lon/lat degrees."""
        metres = np.asarray(metres, dtype=float).reshape(-1, 2)
        east, north = self._metres_per_radian
        return np.degrees(metres / (east, north)) + (self.lon0, self.lat0)


def _check_spread(points: np.ndarray, what: str) -> None:
    """Refuse points all on one line, and four points with three on one line."""
    centred = points - points.mean(axis=0)
    widest, thinnest = np.linalg.svd(centred, compute_uv=False)
    if widest == 0 or thinnest <= COLLINEAR_RATIO * widest:
        raise GeoError(f"degenerate {what}: all {len(points)} points lie on one line (or coincide)")
    if len(points) == 4:
        for i, j, k in itertools.combinations(range(4), 3):
            (ax, ay), (bx, by) = points[j] - points[i], points[k] - points[i]
            if abs(ax * by - ay * bx) <= COLLINEAR_RATIO * widest**2:
                raise GeoError(f"degenerate {what}: points {i}, {j}, {k} lie on one line; "
                               "four control points need no three on a line")  # fmt: skip


@dataclass(frozen=True)
class Homography:
    """Image pixels -> ground lon/lat for a fixed camera over flat ground.

    `residuals_m`: for each control point, how far (metres) its pixel lands from its surveyed place.
    """

    matrix: np.ndarray  # pixels -> local east/north metres, scaled so w > 0 in front of the camera
    plane: LocalPlane
    residuals_m: np.ndarray

    @property
    def rms_error_m(self) -> float:
        return float(np.sqrt(np.mean(self.residuals_m**2)))

    @classmethod
    def from_control_points(cls, pixels: ArrayLike, lonlats: ArrayLike) -> "Homography":
        """Least squares over all points (no RANSAC: surveyed control points are few and trusted)."""
        pixels = np.asarray(pixels, dtype=float).reshape(-1, 2)
        lonlats = np.asarray(lonlats, dtype=float).reshape(-1, 2)
        if len(pixels) != len(lonlats):
            raise GeoError(f"{len(pixels)} pixels but {len(lonlats)} ground points")
        if len(pixels) < 4:
            raise GeoError(f"a homography needs at least 4 control points, got {len(pixels)}")
        lon0, lat0 = lonlats.mean(axis=0)
        plane = LocalPlane(lon0=float(lon0), lat0=float(lat0))
        ground = plane.to_metres(lonlats)
        _check_spread(pixels, "pixel control points")
        _check_spread(ground, "ground control points")
        matrix, _ = cv2.findHomography(pixels, ground, method=0)
        if matrix is None:
            raise GeoError("cv2.findHomography found no homography for these control points")
        w = np.c_[pixels, np.ones(len(pixels))] @ matrix[2]
        if np.any(np.sign(w) != np.sign(w[0])):
            raise GeoError("control points lie on both sides of the horizon: check their order")
        matrix = matrix * np.sign(w[0])
        residuals = np.linalg.norm(_apply(matrix, pixels) - ground, axis=1)
        return cls(matrix=matrix, plane=plane, residuals_m=residuals)

    def to_ground(self, pixels: ArrayLike) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) lon/lat; NaN rows for pixels at or beyond the horizon."""
        return self.plane.to_lonlat(_apply(self.matrix, np.asarray(pixels, dtype=float).reshape(-1, 2)))


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    homogeneous = np.c_[points, np.ones(len(points))] @ matrix.T
    w = homogeneous[:, 2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 1e-12, homogeneous[:, :2] / w, np.nan)


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera in pixels of an image of `image_size` (width, height); no lens distortion.

        Intrinsics.from_focal_mm(4.5, sensor_width_mm=6.3, image_size=(4000, 3000))
        Intrinsics.from_focal_35mm(24.0, image_size=(1920, 1080))   # DJI SRT focal_len
    """

    fx: float
    fy: float
    cx: float
    cy: float
    image_size: tuple[int, int]

    @classmethod
    def from_focal_mm(cls, focal_mm: float, *, sensor_width_mm: float, image_size: tuple[int, int]) -> "Intrinsics":
        width, height = image_size
        f = focal_mm / sensor_width_mm * width
        return cls(fx=f, fy=f, cx=width / 2, cy=height / 2, image_size=image_size)

    @classmethod
    def from_focal_35mm(cls, focal_35mm: float, *, image_size: tuple[int, int]) -> "Intrinsics":
        """By the diagonal, as the 35 mm-equivalent is defined; assumes the image is the full field of view."""
        width, height = image_size
        f = focal_35mm / FULL_FRAME_DIAGONAL_MM * math.hypot(width, height)
        return cls(fx=f, fy=f, cx=width / 2, cy=height / 2, image_size=image_size)

    def scaled_to(self, image_size: tuple[int, int]) -> "Intrinsics":
        """The same camera for a resized frame (detections on a downscaled copy)."""
        sx, sy = image_size[0] / self.image_size[0], image_size[1] / self.image_size[1]
        return Intrinsics(fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy, image_size=image_size)

    @property
    def horizontal_fov_deg(self) -> float:
        return math.degrees(2 * math.atan(self.image_size[0] / 2 / self.fx))


def _rotation_ned(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Camera forward-right-down axes to north-east-down: yaw about down, then pitch, then roll."""
    yaw, pitch, roll = np.radians([yaw_deg, pitch_deg, roll_deg])
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


def project_to_ground(
    pixel_xy: tuple[float, float],
    *,
    image_size: tuple[int, int],
    record: TelemetryRecord,
    intrinsics: Intrinsics,
) -> tuple[float, float] | None:
    """(lon, lat) where the pixel's ray meets flat ground at take-off level; None when it does not.

    The camera is at (record.lat, record.lon), record.rel_alt_m above the ground, looking along the
    gimbal's yaw (degrees clockwise from north) and pitch (0 level, -90 straight down); gimbal roll
    counts as level when the file does not give it. None for pixels at or above the horizon, or a
    camera not above the ground.
    """
    height_m, yaw, pitch = record.rel_alt_m, record.gimbal_yaw, record.gimbal_pitch
    if height_m is None or yaw is None or pitch is None:
        missing = [name for name in ("rel_alt_m", "gimbal_yaw", "gimbal_pitch") if getattr(record, name) is None]
        raise GeoError(
            f"record {record.index} lacks {', '.join(missing)}; set them with dataclasses.replace() "
            "when the aircraft does not log them (e.g. a nadir survey: gimbal_pitch=-90)"
        )
    if height_m <= 0:
        return None
    camera = intrinsics.scaled_to(image_size) if intrinsics.image_size != image_size else intrinsics
    u, v = pixel_xy
    # OpenCV camera axes (x right, y down, z forward) as forward-right-down.
    ray_frd = np.array([1.0, (u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy])
    north, east, down = _rotation_ned(yaw, pitch, record.gimbal_roll or 0.0) @ ray_frd
    if down <= 1e-9:
        return None
    scale = height_m / down
    lon, lat = LocalPlane(lon0=record.lon, lat0=record.lat).to_lonlat([[east * scale, north * scale]])[0]
    return float(lon), float(lat)


@dataclass(frozen=True)
class MergedPoints:
    """Ground points grouped into objects: `labels[i]` is the object of input point i."""

    centres: np.ndarray  # (K, 2) lon/lat, the mean of each object's points
    labels: np.ndarray  # (N,) int
    counts: np.ndarray  # (K,) points per object


def merge_ground_points(points: Sequence[tuple[float, float]] | np.ndarray, max_distance_m: float) -> MergedPoints:
    """Merge sightings of one object from successive frames: in input order, each point joins the
    nearest object whose running centre lies within `max_distance_m`, or starts a new object.

        merge_ground_points([(121.4700, 31.2300), (121.47001, 31.23), (121.48, 31.23)], 3.0).labels
        # -> array([0, 0, 1])
    """
    if max_distance_m <= 0:
        raise GeoError(f"max_distance_m must be positive, got {max_distance_m}")
    lonlats = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(lonlats) == 0:
        return MergedPoints(centres=np.empty((0, 2)), labels=np.empty(0, dtype=int), counts=np.empty(0, dtype=int))
    plane = LocalPlane(*lonlats.mean(axis=0))
    metres = plane.to_metres(lonlats)
    sums: list[np.ndarray] = []
    counts: list[int] = []
    labels = np.empty(len(metres), dtype=int)
    for i, point in enumerate(metres):
        if sums:
            centres = np.array(sums) / np.array(counts)[:, None]
            distances = np.linalg.norm(centres - point, axis=1)
            nearest = int(np.argmin(distances))
            if distances[nearest] <= max_distance_m:
                sums[nearest] = sums[nearest] + point
                counts[nearest] += 1
                labels[i] = nearest
                continue
        sums.append(point.copy())
        counts.append(1)
        labels[i] = len(sums) - 1
    centres = plane.to_lonlat(np.array(sums) / np.array(counts)[:, None])
    return MergedPoints(centres=centres, labels=labels, counts=np.array(counts))

