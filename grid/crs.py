"""Conversions between WGS-84, GCJ-02 (Chinese map offset) and BD-09 (Baidu's offset on top of GCJ-02).

The functions take scalars or arrays (they broadcast) and return numpy values in degrees.
Points outside China's bounding box get no offset, as every public implementation does.
"""
from enum import StrEnum

import numpy as np
import shapely
from numpy.typing import ArrayLike

KRASOVSKY_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid the GCJ-02 formula uses
KRASOVSKY_EE = 0.00669342162296594323  # its first eccentricity squared
BD_X_PI = np.pi * 3000.0 / 180.0
GCJ_INVERSE_TOLERANCE_DEG = 1e-10
GCJ_INVERSE_MAX_STEPS = 30

Coords = tuple[np.ndarray, np.ndarray]


class CoordSys(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @classmethod
    def parse(cls, name: str) -> "CoordSys":
        """The system a common spelling names ("WGS-84", "EPSG:4326", "GCJ-02", "bd09ll", ...)."""
        key = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
        try:
            return cls(_ALIASES[key])
        except KeyError:
            raise ValueError(f"unknown coordinate system {name!r}; accepted: {ACCEPTED_NAMES}") from None


# Spellings after lower-casing and dropping "-", "_" and spaces.
_ALIASES = {"wgs84": "wgs84", "epsg:4326": "wgs84", "crs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "bd09ll": "bd09"}
ACCEPTED_NAMES = "wgs84 (WGS-84, EPSG:4326, CRS84), gcj02 (GCJ-02), bd09 (BD-09, bd09ll), in any case"


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _out(lon: np.ndarray, lat: np.ndarray) -> Coords:
    # [()] turns 0-d results into numpy floats, so scalar calls get scalars back.
    return lon[()], lat[()]


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """True where the point lies outside the box in which Chinese offsets apply."""
    lon, lat = _arrays(lon, lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> Coords:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = np.radians(lat)
    magic = 1 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    dlat = dlat * 180.0 / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180.0 / (KRASOVSKY_A / np.sqrt(magic) * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    return _out(lon + dlon, lat + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Exact inverse of wgs84_to_gcj02 by fixed-point iteration (error far below 1e-7 degrees)."""
    gcj_lon, gcj_lat = _arrays(lon, lat)
    wgs_lon, wgs_lat = gcj_lon, gcj_lat
    for _ in range(GCJ_INVERSE_MAX_STEPS):
        dlon, dlat = _gcj_delta(wgs_lon, wgs_lat)
        err_lon, err_lat = wgs_lon + dlon - gcj_lon, wgs_lat + dlat - gcj_lat
        wgs_lon, wgs_lat = wgs_lon - err_lon, wgs_lat - err_lat
        if max(np.max(np.abs(err_lon), initial=0.0), np.max(np.abs(err_lat), initial=0.0)) < GCJ_INVERSE_TOLERANCE_DEG:
            break
    return _out(wgs_lon, wgs_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon, lat = _arrays(lon, lat)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    outside = out_of_china(lon, lat)
    return _out(np.where(outside, lon, z * np.cos(theta) + 0.0065), np.where(outside, lat, z * np.sin(theta) + 0.006))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon, lat = _arrays(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    outside = out_of_china(lon, lat)
    return _out(np.where(outside, lon, z * np.cos(theta)), np.where(outside, lat, z * np.sin(theta)))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: CoordSys) -> Coords:
    """Coordinates given in `crs`, in WGS-84."""
    match CoordSys(crs):
        case CoordSys.WGS84:
            return _out(*_arrays(lon, lat))
        case CoordSys.GCJ02:
            return gcj02_to_wgs84(lon, lat)
        case CoordSys.BD09:
            return bd09_to_wgs84(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: CoordSys) -> Coords:
    """WGS-84 coordinates, in `crs`."""
    match CoordSys(crs):
        case CoordSys.WGS84:
            return _out(*_arrays(lon, lat))
        case CoordSys.GCJ02:
            return wgs84_to_gcj02(lon, lat)
        case CoordSys.BD09:
            return wgs84_to_bd09(lon, lat)


def geometries_to_wgs84(geometries: ArrayLike, crs: CoordSys) -> np.ndarray:
    """Shapely geometries with every vertex converted from `crs` to WGS-84 (one vectorised pass)."""
    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))

    return shapely.transform(np.asarray(geometries, dtype=object), convert)
