"""Pixels to ground: hand-computed drone geometry and a synthetic homography, checked with pyproj's geodesics."""
import math
from dataclasses import replace

import numpy as np
import pyproj
import pytest

from tests.requirements import shared_path
from vision.geo import GeoError, Homography, Intrinsics, LocalPlane, merge_ground_points, project_to_ground
from vision.telemetry import TelemetryRecord, parse_srt

GEOD = pyproj.Geod(ellps="WGS84")
LON0, LAT0 = 121.4737, 31.2304  # People's Square, Shanghai
IMAGE = (1920, 1080)
# tan(hfov / 2) = 960 / 1000 = 0.96
CAMERA = Intrinsics(fx=1000.0, fy=1000.0, cx=960.0, cy=540.0, image_size=IMAGE)


def drone(*, yaw: float = 0.0, pitch: float = -90.0, height_m: float = 100.0) -> TelemetryRecord:
    return TelemetryRecord(
        index=1, start_s=0.0, end_s=1.0, timestamp=None, lat=LAT0, lon=LON0,
        rel_alt_m=height_m, gimbal_yaw=yaw, gimbal_pitch=pitch, gimbal_roll=0.0,
    )  # fmt: skip


def bearing_and_distance(
    lonlat: tuple[float, float] | None, origin: tuple[float, float] = (LON0, LAT0)
) -> tuple[float, float]:
    """Azimuth (degrees clockwise from north, 0..360) and metres from `origin`, on the ellipsoid."""
    assert lonlat is not None
    azimuth, _, distance = GEOD.inv(origin[0], origin[1], lonlat[0], lonlat[1])
    return azimuth % 360, distance


@pytest.mark.parametrize(
    ("pixel", "yaw", "pitch", "azimuth", "distance_m"),
    [
        ((1920, 540), 0, -90, 90, 96.0),  # right edge: east by 100 * tan(hfov / 2)
        ((0, 540), 0, -90, 270, 96.0),  # left edge: west
        ((960, 0), 0, -90, 0, 54.0),  # top edge: the heading, 100 * 540 / 1000
        ((1920, 540), 90, -90, 180, 96.0),  # heading east: the right edge is south
        ((1920, 540), 180, -90, 270, 96.0),  # heading south: the right edge is west
        ((960, 540), 0, -45, 0, 100.0),  # 45 degrees down: 100 m ahead
        ((960, 540), 30, -45, 30, 100.0),
        ((960, 540), -120, -45, 240, 100.0),
        ((960, 640), 0, 0, 0, 1000.0),  # level camera: 0.1 below the axis meets the ground 1 km ahead
        # ray (forward 1, right 1): 45 degrees down it meets the ground 100 * sqrt(2) m ahead and 100 m to the
        # right; heading east, that is 100 m east and 141.42 m south.
        ((1960, 540), 90, -45, 180 - math.degrees(math.atan2(100, 100 * math.sqrt(2))), 100 * math.sqrt(3)),
    ],
)
def test_drone_pixel_lands_where_hand_geometry_says(
    pixel: tuple[float, float], yaw: float, pitch: float, azimuth: float, distance_m: float
) -> None:
    lonlat = project_to_ground(pixel, image_size=IMAGE, record=drone(yaw=yaw, pitch=pitch), intrinsics=CAMERA)
    got_azimuth, got_distance = bearing_and_distance(lonlat)
    assert got_distance == pytest.approx(distance_m, abs=0.02)
    assert (got_azimuth - azimuth + 180) % 360 - 180 == pytest.approx(0, abs=0.01)


def test_nadir_centre_is_straight_below() -> None:
    lonlat = project_to_ground((960, 540), image_size=IMAGE, record=drone(), intrinsics=CAMERA)
    assert lonlat == pytest.approx((LON0, LAT0), abs=1e-9)


def test_right_edge_offset_follows_the_field_of_view() -> None:
    assert CAMERA.horizontal_fov_deg == pytest.approx(2 * math.degrees(math.atan(0.96)))
    lonlat = project_to_ground((1920, 540), image_size=IMAGE, record=drone(), intrinsics=CAMERA)
    _, distance = bearing_and_distance(lonlat)
    assert distance == pytest.approx(100 * math.tan(math.radians(CAMERA.horizontal_fov_deg / 2)), abs=0.01)


@pytest.mark.parametrize(
    ("pixel", "pitch", "height_m"),
    [
        ((960, 540), 0, 100),  # level: the centre is on the horizon
        ((960, 100), 0, 100),  # above the horizon
        ((960, 0), -10, 100),  # 10 degrees down, the top edge looks 18 degrees up
        ((960, 540), -90, 0),  # camera on the ground
        ((960, 540), -90, -2.4),  # below take-off level
    ],
)
def test_rays_that_miss_the_ground_give_none(pixel: tuple[float, float], pitch: float, height_m: float) -> None:
    record = drone(pitch=pitch, height_m=height_m)
    assert project_to_ground(pixel, image_size=IMAGE, record=record, intrinsics=CAMERA) is None


def test_missing_pose_is_a_clear_error() -> None:
    record = replace(drone(), gimbal_pitch=None, rel_alt_m=None)
    with pytest.raises(GeoError, match="record 1 lacks rel_alt_m, gimbal_pitch"):
        project_to_ground((0, 0), image_size=IMAGE, record=record, intrinsics=CAMERA)


def test_detections_on_a_downscaled_frame_land_on_the_same_spot() -> None:
    full = project_to_ground((1500, 200), image_size=IMAGE, record=drone(yaw=40, pitch=-60), intrinsics=CAMERA)
    half = project_to_ground((750, 100), image_size=(960, 540), record=drone(yaw=40, pitch=-60), intrinsics=CAMERA)
    assert half == pytest.approx(full, abs=1e-9)


def test_intrinsics_from_focal_lengths() -> None:
    # Phantom 4 Pro: 8.8 mm on a 13.2 mm wide sensor, 5472 px wide.
    p4p = Intrinsics.from_focal_mm(8.8, sensor_width_mm=13.2, image_size=(5472, 3648))
    assert (p4p.fx, p4p.fy, p4p.cx, p4p.cy) == pytest.approx((3648.0, 3648.0, 2736.0, 1824.0))
    # Mavic 3: 24 mm equivalent, 84 degrees diagonal field of view (4:3 stills).
    mavic3 = Intrinsics.from_focal_35mm(24.0, image_size=(5280, 3956))
    assert math.degrees(2 * math.atan(math.hypot(5280, 3956) / 2 / mavic3.fx)) == pytest.approx(84.0, abs=0.1)


@pytest.mark.footage
def test_real_p4_rtk_record_looks_ahead_along_its_gimbal() -> None:
    """First P4 RTK record: H 85.80 m, G.PRY (-24.4, 0.0, 110.4): the centre lands 85.8 / tan(24.4) m away."""
    record = parse_srt(shared_path("data/drone/srt/p4_rtk.SRT"))[0]
    camera = Intrinsics.from_focal_mm(8.8, sensor_width_mm=13.2, image_size=(3840, 2160))
    lonlat = project_to_ground((1920, 1080), image_size=(3840, 2160), record=record, intrinsics=camera)
    azimuth, distance = bearing_and_distance(lonlat, origin=(record.lon, record.lat))
    assert azimuth == pytest.approx(110.4, abs=0.01)
    assert distance == pytest.approx(85.8 / math.tan(math.radians(24.4)), abs=0.05)


# --- homography --------------------------------------------------------------------------------

# A fixed camera's pixels -> metres east/north of the reference point, with strong perspective.
TRUE_H = np.array([[0.04, 0.006, -45.0], [0.001, -0.05, 40.0], [0.0, 0.0009, 1.0]])
AEQD = pyproj.Transformer.from_crs(
    "EPSG:4326", pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +datum=WGS84 +units=m"), always_xy=True
)


def true_ground(pixels: np.ndarray) -> np.ndarray:
    """Where the synthetic plane puts each pixel, as lon/lat (pyproj, independent of vision.geo)."""
    homogeneous = np.c_[pixels, np.ones(len(pixels))] @ TRUE_H.T
    east_north = homogeneous[:, :2] / homogeneous[:, 2:]
    lon, lat = AEQD.transform(east_north[:, 0], east_north[:, 1], direction="INVERSE")
    return np.c_[lon, lat]


def metres_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]


CONTROL_PIXELS = np.array([[200.0, 1000.0], [1700.0, 1000.0], [1400.0, 500.0], [500.0, 500.0], [960.0, 700.0]])


def test_homography_round_trips_control_points_within_centimetres() -> None:
    lonlats = true_ground(CONTROL_PIXELS)
    homography = Homography.from_control_points(CONTROL_PIXELS, lonlats)

    assert np.all(metres_between(homography.to_ground(CONTROL_PIXELS), lonlats) < 0.01)
    assert homography.rms_error_m < 0.01 and homography.residuals_m.shape == (5,)


def test_homography_maps_other_pixels_to_the_plane() -> None:
    homography = Homography.from_control_points(CONTROL_PIXELS[:4], true_ground(CONTROL_PIXELS[:4]))
    middle = np.array([[960.0, 750.0], [300.0, 900.0], [1600.0, 600.0]])

    assert np.all(metres_between(homography.to_ground(middle), true_ground(middle)) < 0.02)


def test_homography_reports_a_misplaced_control_point() -> None:
    lonlats = true_ground(CONTROL_PIXELS)
    lon, lat, _ = GEOD.fwd(lonlats[4, 0], lonlats[4, 1], 90, 2.0)  # surveyed 2 m east of the truth
    lonlats[4] = (lon, lat)
    homography = Homography.from_control_points(CONTROL_PIXELS, lonlats)
    assert homography.residuals_m.max() > 0.5 and homography.rms_error_m > 0.3


def test_pixels_beyond_the_horizon_map_to_nan() -> None:
    homography = Homography.from_control_points(CONTROL_PIXELS, true_ground(CONTROL_PIXELS))
    # w = 0.0009 * y + 1 crosses zero at y = -1111: the horizon is above the frame.
    ground = homography.to_ground([[960.0, -2000.0], [960.0, 540.0]])
    assert np.all(np.isnan(ground[0])) and np.all(np.isfinite(ground[1]))


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (CONTROL_PIXELS[:3], "at least 4 control points, got 3"),
        (np.array([[0.0, 0.0], [100, 100], [200, 200], [300, 300]]), "all 4 points lie on one line"),
        (np.array([[0.0, 0.0], [100, 0], [200, 0], [100, 300]]), "points 0, 1, 2 lie on one line"),
        (np.array([[5.0, 5.0]] * 5), "lie on one line \\(or coincide\\)"),
    ],
)
def test_degenerate_control_points_are_refused(pixels: np.ndarray, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        Homography.from_control_points(pixels, true_ground(CONTROL_PIXELS[: len(pixels)]))


def test_collinear_ground_points_are_refused() -> None:
    lonlats = np.array([[LON0 + i * 1e-4, LAT0] for i in range(4)])
    with pytest.raises(GeoError, match="degenerate ground control points"):
        Homography.from_control_points(CONTROL_PIXELS[:4], lonlats)


def test_mismatched_point_counts_are_refused() -> None:
    with pytest.raises(GeoError, match="5 pixels but 4 ground points"):
        Homography.from_control_points(CONTROL_PIXELS, true_ground(CONTROL_PIXELS[:4]))


def test_local_plane_agrees_with_pyproj_within_a_kilometre() -> None:
    plane = LocalPlane(lon0=LON0, lat0=LAT0)
    offsets = np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, -1000.0], [-700.0, 700.0], [3.5, 12.25]])
    lon, lat = AEQD.transform(offsets[:, 0], offsets[:, 1], direction="INVERSE")
    np.testing.assert_allclose(plane.to_metres(np.c_[lon, lat]), offsets, atol=0.1)
    np.testing.assert_allclose(plane.to_metres(plane.to_lonlat(offsets)), offsets, atol=1e-6)


# --- merging sightings -------------------------------------------------------------------------


def east_of_origin(*metres: float) -> np.ndarray:
    return np.array([GEOD.fwd(LON0, LAT0, 90, m)[:2] for m in metres])


def test_sightings_within_the_distance_merge_into_one_object() -> None:
    merged = merge_ground_points(east_of_origin(0.0, 1.0, 2.0, 10.0, 10.5), max_distance_m=3.0)

    assert merged.labels.tolist() == [0, 0, 0, 1, 1]
    assert merged.counts.tolist() == [3, 2]
    _, distances = zip(*(bearing_and_distance(tuple(centre)) for centre in merged.centres), strict=True)
    assert distances == pytest.approx((1.0, 10.25), abs=0.01)


def test_merging_does_not_chain_along_a_row_of_cars() -> None:
    """Each point is compared with the objects' centres, so evenly spaced points do not fuse into one."""
    merged = merge_ground_points(east_of_origin(0.0, 2.5, 5.0, 7.5), max_distance_m=3.0)
    assert merged.labels.tolist() == [0, 0, 1, 1]


def test_merging_nothing() -> None:
    merged = merge_ground_points([], max_distance_m=3.0)
    assert merged.centres.shape == (0, 2) and merged.labels.shape == (0,)
    with pytest.raises(GeoError, match="max_distance_m must be positive"):
        merge_ground_points([(LON0, LAT0)], max_distance_m=0)
