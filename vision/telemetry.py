"""DJI flight telemetry from the SRT subtitle files the aircraft write beside each video.

Every DJI generation writes its own layout; one record a video frame (or a second):

    Mavic 3      [latitude: 3.41531] [longitude: -3.37440] [rel_alt: -2.400 abs_alt: 0.401]
    Air 2S       [focal_len : 240] [latitude: 41.424724] [longitude: 2.234156] [altitude: 117.000000]
    Matrice 300  GPS(36.6146,-6.1120,0.0M) BAROMETER:0.3M           (lat, lon, altitude)
    Mavic Pro    GPS(149.0251,-20.2533,16) BAROMETER:1.9            (lon, lat, satellites)
    P4 RTK       GPS (lon, lat, satellites), H 85.80m, F.PRY (p°, r°, y°), G.PRY (p°, r°, y°)

    records = parse_srt(Path("DJI_0001.SRT"))
    record = record_at(records, frame.timestamp_s)
"""
import itertools
import math
import re
import statistics
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path


class TelemetryError(Exception):
    """An SRT file that cannot be used as a whole; `records` keeps the records that were whole."""

    def __init__(self, message: str, records: list["TelemetryRecord"] | None = None) -> None:
        super().__init__(message)
        self.records = records or []


@dataclass(frozen=True)
class TelemetryRecord:
    """One SRT record. Angles in degrees; `focal_len_mm` is DJI's 35 mm-equivalent focal length.

    `timestamp` is naive: DJI writes the clock of the remote controller, with no time zone.
    """

    index: int
    start_s: float
    end_s: float
    timestamp: datetime | None
    lat: float
    lon: float
    rel_alt_m: float | None = None
    abs_alt_m: float | None = None
    gimbal_yaw: float | None = None
    gimbal_pitch: float | None = None
    gimbal_roll: float | None = None
    aircraft_yaw: float | None = None
    aircraft_pitch: float | None = None
    aircraft_roll: float | None = None
    focal_len_mm: float | None = None


NUMBER = r"[-+]?\d+(?:\.\d+)?"
TIMECODE = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})")
# 2021-12-25 12:27:52.373 | 2022-08-07 13:40:40,774,808 (ms, µs) | 2017.8.5 14:11:51
DATETIME = re.compile(r"(\d{4})[-.](\d{1,2})[-.](\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{3})(?:,(\d{3}))?)?")
LATITUDE = re.compile(rf"\[latitude\s*:\s*({NUMBER})\]")
LONGITUDE = re.compile(rf"\[longt?itude\s*:\s*({NUMBER})\]")  # Mavic 2 firmware spells it "longtitude"
GPS = re.compile(rf"\bGPS\s*\(\s*({NUMBER})\s*,\s*({NUMBER})\s*,\s*({NUMBER})\s*(M?)\s*\)")
REL_ALT = [
    re.compile(rf"\brel_alt\s*:\s*({NUMBER})"),
    re.compile(rf"\[altitude\s*:\s*({NUMBER})\]"),  # Air 2S, Mavic Air 2: height above take-off
    re.compile(rf"\bBAROMETER\s*:\s*({NUMBER})"),
    re.compile(rf"\bHb\s*:\s*({NUMBER})"),
    re.compile(rf"\bH ({NUMBER})m\b"),
]
ABS_ALT = re.compile(rf"\babs_alt\s*:\s*({NUMBER})")
FOCAL_LEN = re.compile(rf"\[focal_len\s*:\s*({NUMBER})\]")
AIRCRAFT_PRY = re.compile(rf"\bF\.PRY\s*\(\s*({NUMBER})°?\s*,\s*({NUMBER})°?\s*,\s*({NUMBER})°?\s*\)")
GIMBAL_PRY = re.compile(rf"\bG\.PRY\s*\(\s*({NUMBER})°?\s*,\s*({NUMBER})°?\s*,\s*({NUMBER})°?\s*\)")


@dataclass
class _Block:
    number: int
    line: int
    text: str


def parse_srt(source: str | Path, *, name: str | None = None) -> list[TelemetryRecord]:
    """Records of a DJI SRT; a Path is read as a file, a str is the SRT text itself.

    Raises TelemetryError naming the file and the first problem when the file is empty, not an SRT,
    or has records without a position (a file cut short); the error's `records` keeps the whole ones.
    """
    name = name or (str(source) if isinstance(source, Path) else "<SRT text>")
    text = _read(source, name) if isinstance(source, Path) else source
    if not text.strip():
        raise TelemetryError(f"{name}: empty SRT file")
    blocks = _split_blocks(text)
    if not blocks:
        raise TelemetryError(f"{name}: no SRT records (numbered blocks) found")
    records: list[TelemetryRecord] = []
    problems: list[str] = []
    for block in blocks:
        try:
            records.append(_parse_block(block))
        except ValueError as exc:
            problems.append(f"record {block.number} at line {block.line}: {exc}")
    untimed = [record.index for record in records if math.isnan(record.start_s)]
    if untimed and len(untimed) < len(records):
        raise TelemetryError(f"{name}: record {untimed[0]} has no timecode while others do")
    if untimed:
        records = _times_from_timestamps(records, name)
    if problems:
        raise TelemetryError(
            f"{name}: {len(problems)} of {len(blocks)} records unusable, first {problems[0]}", records=records
        )
    return records


def record_at(records: list[TelemetryRecord], t_s: float) -> TelemetryRecord | None:
    """The record covering video time `t_s` (start inclusive, end exclusive), None outside them all."""
    i = bisect_right(records, t_s, key=lambda record: record.start_s) - 1
    if i < 0 or t_s >= records[i].end_s:
        return None
    return records[i]


def _read(path: Path, name: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise TelemetryError(f"{name}: SRT file not found") from None
    except OSError as exc:
        raise TelemetryError(f"{name}: cannot read the SRT file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise TelemetryError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _split_blocks(text: str) -> list[_Block]:
    """Numbered blocks; a bare number opens one only at the start or after a blank line."""
    blocks: list[_Block] = []
    previous_blank = True
    for line_number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if previous_blank and line.isdigit():
            blocks.append(_Block(number=int(line), line=line_number, text=""))
        elif line and blocks:
            blocks[-1].text += line + "\n"
        previous_blank = not line
    return blocks


def _parse_block(block: _Block) -> TelemetryRecord:
    """One record; raises ValueError saying what is missing or wrong."""
    text = block.text
    lat, lon, gps_alt = _position(text)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"position out of range: lat {lat}, lon {lon}")
    start_s = end_s = math.nan  # from the timestamps later when the file has no timecodes
    if timecode := TIMECODE.search(text):
        numbers = [int(group) for group in timecode.groups()]
        start_s = numbers[0] * 3600 + numbers[1] * 60 + numbers[2] + numbers[3] / 1000
        end_s = numbers[4] * 3600 + numbers[5] * 60 + numbers[6] + numbers[7] / 1000
    aircraft = _triple(AIRCRAFT_PRY, text)
    gimbal = _triple(GIMBAL_PRY, text)
    return TelemetryRecord(
        index=block.number,
        start_s=start_s,
        end_s=end_s,
        timestamp=_timestamp(text),
        lat=lat,
        lon=lon,
        rel_alt_m=next((float(m.group(1)) for pattern in REL_ALT if (m := pattern.search(text))), None),
        abs_alt_m=float(m.group(1)) if (m := ABS_ALT.search(text)) else gps_alt,
        aircraft_pitch=aircraft[0],
        aircraft_roll=aircraft[1],
        aircraft_yaw=aircraft[2],
        gimbal_pitch=gimbal[0],
        gimbal_roll=gimbal[1],
        gimbal_yaw=gimbal[2],
        focal_len_mm=_tenths_unless_decimal(m.group(1)) if (m := FOCAL_LEN.search(text)) else None,
    )


def _position(text: str) -> tuple[float, float, float | None]:
    """(lat, lon, altitude or None)."""
    lat, lon = LATITUDE.search(text), LONGITUDE.search(text)
    if lat and lon:
        return float(lat.group(1)), float(lon.group(1)), None
    if gps := GPS.search(text):
        first, second, third, metres = gps.groups()
        if metres:  # Matrice firmware: GPS(lat, lon, altitude M)
            return float(first), float(second), float(third)
        return float(second), float(first), None  # older firmware: GPS(lon, lat, satellites)
    raise ValueError("no GPS position")


def _timestamp(text: str) -> datetime | None:
    if not (match := DATETIME.search(text)):
        return None
    year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
    milliseconds, microseconds = match.group(7), match.group(8)
    fraction = int(milliseconds or 0) * 1000 + int(microseconds or 0)
    try:
        return datetime(year, month, day, hour, minute, second, fraction)
    except ValueError as exc:
        raise ValueError(f"bad date {match.group(0)!r}: {exc}") from None


def _triple(pattern: re.Pattern[str], text: str) -> tuple[float | None, float | None, float | None]:
    if match := pattern.search(text):
        pitch, roll, yaw = (float(group) for group in match.groups())
        return pitch, roll, yaw
    return None, None, None


def _tenths_unless_decimal(value: str) -> float:
    """Older firmware writes tenths without a point ("240" = 24.0 mm, like "fnum : 280" = f/2.8)."""
    return float(value) if "." in value else int(value) / 10


def _times_from_timestamps(records: list[TelemetryRecord], name: str) -> list[TelemetryRecord]:
    """Files without timecodes (Mavic 2 style): evenly spaced records, at the median timestamp step.

    The step, not each timestamp: the clock ticks in whole seconds and repeats some of them.
    """
    stamps = [record.timestamp for record in records if record.timestamp is not None]
    if len(stamps) < len(records):
        raise TelemetryError(f"{name}: records without timecodes need timestamps; some have neither")
    steps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(stamps)]
    step_s = statistics.median(steps) if steps else 1.0
    if step_s <= 0:
        raise TelemetryError(f"{name}: records without timecodes and timestamps that do not advance")
    return [replace(record, start_s=i * step_s, end_s=(i + 1) * step_s) for i, record in enumerate(records)]
