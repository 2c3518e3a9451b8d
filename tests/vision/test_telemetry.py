"""DJI SRT telemetry: every sample layout, values as the files write them, broken files refused."""
import math
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.requirements import shared_path
from vision.telemetry import TelemetryError, TelemetryRecord, parse_srt, record_at

SRT = "data/drone/srt"
ONE_SECOND = "1\n00:00:00,000 --> 00:00:01,000\n"  # the opening of a record


def load(name: str) -> list[TelemetryRecord]:
    return parse_srt(shared_path(f"{SRT}/{name}"))


def metres_apart(a: TelemetryRecord, b: TelemetryRecord) -> float:
    north = math.radians(b.lat - a.lat) * 6_371_000
    east = math.radians(b.lon - a.lon) * 6_371_000 * math.cos(math.radians(a.lat))
    return math.hypot(north, east)


# name, count, first record as the file writes it (values copied from each file's first block)
FIRST_RECORDS = [
    (
        "MAVIC3_first_records.srt", 1376,
        TelemetryRecord(index=1, start_s=0.0, end_s=0.02, timestamp=datetime(2021, 12, 25, 12, 27, 52, 373000),
                        lat=3.41531, lon=-3.37440, rel_alt_m=-2.4, abs_alt_m=0.401, focal_len_mm=24.0),
    ),
    (
        "air2s.srt", 17,
        TelemetryRecord(index=1, start_s=0.0, end_s=0.033, timestamp=datetime(2022, 8, 7, 13, 40, 40, 774808),
                        lat=41.424724, lon=2.234156, rel_alt_m=117.0, focal_len_mm=24.0),
    ),
    (
        "mavic_air2.srt", 25,
        TelemetryRecord(index=1, start_s=0.0, end_s=0.016, timestamp=datetime(2022, 5, 1, 15, 1, 58, 531716),
                        lat=41.420684, lon=2.162162, rel_alt_m=27.3, focal_len_mm=24.0),
    ),
    (
        "matrice_300.srt", 381,
        TelemetryRecord(index=1, start_s=0.0, end_s=1.0, timestamp=datetime(2022, 6, 21, 16, 6, 17),
                        lat=36.6146, lon=-6.1120, rel_alt_m=0.3, abs_alt_m=0.0),
    ),
    (
        "p4_rtk.SRT", 55,
        TelemetryRecord(index=1, start_s=0.0, end_s=1.0, timestamp=None, lat=-34.237922, lon=-58.851745,
                        rel_alt_m=85.80,
                        aircraft_pitch=2.7, aircraft_roll=-7.0, aircraft_yaw=110.1,
                        gimbal_pitch=-24.4, gimbal_roll=0.0, gimbal_yaw=110.4),
    ),
    (
        "mix_p4rtk_mavic2pro.srt", 12,
        TelemetryRecord(index=1, start_s=904.904, end_s=905.905, timestamp=None, lat=-34.650200, lon=-59.409424,
                        rel_alt_m=17.39, aircraft_pitch=-8.9, aircraft_roll=2.9, aircraft_yaw=-75.0,
                        gimbal_pitch=-27.3, gimbal_roll=0.0, gimbal_yaw=-76.0),
    ),
    (
        "mavic_pro.SRT", 468,
        TelemetryRecord(index=1, start_s=1.0, end_s=2.0, timestamp=datetime(2017, 8, 5, 14, 11, 51),
                        lat=-20.2533, lon=149.0251, rel_alt_m=1.9),
    ),
    (
        "old_format.SRT", 468,
        TelemetryRecord(index=1, start_s=1.0, end_s=2.0, timestamp=datetime(2017, 8, 5, 14, 11, 51),
                        lat=-20.2533, lon=149.0251, rel_alt_m=1.9),
    ),
    (
        # No timecodes: video time counts from the first timestamp, one record a second.
        "mavic_2_style.SRT", 468,
        TelemetryRecord(index=1, start_s=0.0, end_s=1.0, timestamp=datetime(2017, 8, 5, 14, 11, 51, 393525),
                        lat=-20.2533, lon=149.0251),
    ),
    (
        "mavic_mini.SRT", 117,
        TelemetryRecord(index=1, start_s=0.0, end_s=1.0, timestamp=None, lat=48.0771, lon=-121.7458, rel_alt_m=200.70),
    ),
    (
        "p4p_sample.SRT", 5,
        TelemetryRecord(index=1, start_s=0.0, end_s=1.0, timestamp=None, lat=47.4692, lon=8.2090, rel_alt_m=45.60),
    ),
]  # fmt: skip


@pytest.mark.footage
@pytest.mark.parametrize(("name", "count", "first"), FIRST_RECORDS, ids=[row[0] for row in FIRST_RECORDS])
def test_every_sample_parses_to_what_the_file_says(name: str, count: int, first: TelemetryRecord) -> None:
    records = load(name)

    assert len(records) == count
    assert records[0] == first
    assert [record.index for record in records] == list(range(1, count + 1))
    starts = [record.start_s for record in records]
    assert starts == sorted(starts) and all(record.end_s > record.start_s for record in records)
    assert all(-90 <= record.lat <= 90 and -180 <= record.lon <= 180 for record in records)


@pytest.mark.footage
@pytest.mark.parametrize(
    ("name", "index", "lat", "lon", "start_s", "end_s"),
    [
        ("MAVIC3_first_records.srt", 1376, 3.41505, -3.37411, 27.5, 27.52),
        ("air2s.srt", 17, 41.424730, 2.234102, 0.533, 0.567),
        ("matrice_300.srt", 381, 36.6146, -6.1120, 380.0, 381.0),
        ("p4_rtk.SRT", 55, -34.232349, -58.849196, 54.0, 55.0),
        ("mavic_mini.SRT", 117, 48.0775, -121.7476, 116.0, 117.0),
        ("mix_p4rtk_mavic2pro.srt", 12, -34.651180, -59.409483, 910.242, 910.276),
    ],
)
def test_last_record(name: str, index: int, lat: float, lon: float, start_s: float, end_s: float) -> None:
    last = load(name)[-1]
    assert (last.index, last.lat, last.lon, last.start_s, last.end_s) == (index, lat, lon, start_s, end_s)


@pytest.mark.footage
def test_three_layouts_of_one_flight_agree_on_every_position() -> None:
    """The same Mavic Pro flight in GPS(lon, lat), old GPS(lon, lat) and [latitude][longtitude] layouts."""
    layouts = [load("mavic_pro.SRT"), load("old_format.SRT"), load("mavic_2_style.SRT")]
    positions = [[(record.lat, record.lon) for record in records] for records in layouts]
    assert positions[0] == positions[1] == positions[2]
    # Mavic 2 style adds a constant fraction of a second to the same clock.
    assert [r.timestamp.replace(microsecond=0) for r in layouts[2] if r.timestamp] == [r.timestamp for r in layouts[0]]


@pytest.mark.footage
def test_mixed_file_switches_layout_without_jumping() -> None:
    """P4 RTK GPS(lon, lat) records, then Mavic 2 Pro [latitude][longtitude] ones, over the same field."""
    records = load("mix_p4rtk_mavic2pro.srt")
    assert records[5].focal_len_mm is None and records[6].focal_len_mm == 28.0
    assert records[6].rel_alt_m == pytest.approx(120.060997)
    assert metres_apart(records[5], records[6]) < 200


@pytest.mark.footage
def test_broken_empty_file_is_refused_naming_it() -> None:
    with pytest.raises(TelemetryError, match=r"broken_empty\.SRT: empty SRT file") as caught:
        load("broken_empty.SRT")
    assert caught.value.records == []


@pytest.mark.footage
def test_incomplete_file_names_the_cut_record_and_keeps_the_whole_ones() -> None:
    with pytest.raises(
        TelemetryError,
        match=r"broken_incomplete\.SRT: 1 of 20 records unusable, first record 20 at line 115: no GPS position",
    ) as caught:
        load("broken_incomplete.SRT")
    whole = caught.value.records
    assert len(whole) == 19
    assert whole[-1] == TelemetryRecord(
        index=19, start_s=19.0, end_s=20.0, timestamp=datetime(2017, 7, 3, 10, 15, 21),
        lat=-34.7383, lon=-58.4563, rel_alt_m=7.7,
    )


@pytest.mark.footage
def test_camera_only_srt_without_positions_is_refused() -> None:
    message = r"mavic_air\.SRT: 2 of 2 records unusable, first record 1 at line 1: no GPS"
    with pytest.raises(TelemetryError, match=message):
        load("mavic_air.SRT")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "<SRT text>: empty SRT file"),
        ("  \n\n", "empty SRT file"),
        ("WEBVTT\n\nhello\n", "no SRT records"),
        (f"{ONE_SECOND}GPS (200.0, 100.0, 12), H 5.0m\n", "record 1 at line 1: position out of range"),
        (f"{ONE_SECOND}2017.13.40 10:00:00 GPS(1.0,2.0,9)\n", r"bad date '2017\.13\.40 10:00:00'"),
        (
            f"{ONE_SECOND}GPS(1.0,2.0,9)\n\n2\n2017.08.05 14:11:52\nGPS(1.0,2.0,9)\n",
            "record 2 has no timecode while others do",
        ),
        ("1\nGPS(1.0,2.0,9)\n", "records without timecodes need timestamps"),
    ],
)
def test_malformed_text_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(TelemetryError, match=message):
        parse_srt(text)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError, match=r"absent\.SRT: SRT file not found"):
        parse_srt(tmp_path / "absent.SRT")
    with pytest.raises(TelemetryError, match=r": cannot read the SRT file \(Is a directory\)"):
        parse_srt(tmp_path)
    (tmp_path / "utf16.SRT").write_text("1\n00:00:00,000 --> 00:00:01,000\n", encoding="utf-16")
    with pytest.raises(TelemetryError, match=r"utf16\.SRT: not UTF-8 text"):
        parse_srt(tmp_path / "utf16.SRT")


def test_whole_records_of_a_cut_file_without_timecodes_still_get_video_times() -> None:
    text = "1\n2017.08.05 14:11:51,393,525\n[latitude : -20.2533] [longtitude : 149.0251]\n\n"
    text += "2\n2017.08.05 14:11:52,393,525\n[latitude : -20.2533] [longtitude : 149.0251]\n\n"
    text += "3\n2017.08.05 14:11:53,393,525\n[iso : 100]\n"
    with pytest.raises(TelemetryError, match="1 of 3 records unusable, first record 3 at line 9") as caught:
        parse_srt(text)
    assert [(record.start_s, record.end_s) for record in caught.value.records] == [(0.0, 1.0), (1.0, 2.0)]


def test_name_labels_text_input() -> None:
    with pytest.raises(TelemetryError, match="upload.srt: empty SRT file"):
        parse_srt("", name="upload.srt")


@pytest.mark.footage
@pytest.mark.parametrize(
    ("name", "t_s", "expected_index"),
    [
        ("air2s.srt", 0.0, 1),
        ("air2s.srt", 0.0329, 1),
        ("air2s.srt", 0.033, 2),  # ends are exclusive
        ("air2s.srt", 0.55, 17),
        ("air2s.srt", 0.567, None),  # after the last record
        ("air2s.srt", -0.1, None),
        ("mavic_pro.SRT", 0.5, None),  # its first record starts at 1 s
        ("mavic_pro.SRT", 100.2, 100),
        ("mavic_2_style.SRT", 2.5, 3),
        ("mix_p4rtk_mavic2pro.srt", 909.95, 7),
    ],
)
def test_record_at_finds_the_record_for_a_video_time(name: str, t_s: float, expected_index: int | None) -> None:
    record = record_at(load(name), t_s)
    assert (record.index if record else None) == expected_index


def test_record_at_on_no_records() -> None:
    assert record_at([], 1.0) is None


@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    rel_alt=st.floats(-50, 500),
)
def test_written_positions_read_back_in_every_layout(lat: float, lon: float, rel_alt: float) -> None:
    # DJI writes fixed-point decimals, never exponents.
    lat_text, lon_text, alt_text = f"{lat:.6f}", f"{lon:.6f}", f"{rel_alt:.3f}"
    timecode = "00:00:00,000 --> 00:00:00,033"
    layouts = [
        f"[focal_len: 24.00] [latitude: {lat_text}] [longitude: {lon_text}] [rel_alt: {alt_text} abs_alt: 12.5]",
        f"[latitude : {lat_text}] [longtitude : {lon_text}] [altitude: {alt_text}]",
        f"GPS({lat_text},{lon_text},0.0M) BAROMETER:{alt_text}M",
        f"F/5.6, SS 400, GPS ({lon_text}, {lat_text}, 15), D 1.00m, H {alt_text}m, H.S 0.00m/s",
        f"GPS({lon_text},{lat_text},16) Hb:{alt_text} Hs:{alt_text}",
    ]
    expected = (float(lat_text), float(lon_text), float(alt_text))
    for body in layouts:
        [record] = parse_srt(f"1\n{timecode}\n{body}\n")
        assert (record.lat, record.lon, record.rel_alt_m) == expected, body
