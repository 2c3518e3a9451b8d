"""Evidence photos a reviewer can read: the caption in a band below the picture, lines of 2 px or more, local time."""
import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from config.vision import ZoneConfig
from tests.requirements import missing, shared_path
from vision.analyze import caption_context
from vision.events import ViolationEvent
from vision.evidence import (BOX_COLOUR, ZONE_COLOUR, CaptionContext, caption_lines, cjk_font_file, draw_evidence,
                             line_thickness)
from vision.sources import ImageFolderSource, VideoFileSource
from vision.zones import Zone

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILE_START = dt.datetime(2024, 2, 28, 13, 1, 53, tzinfo=dt.timezone.utc)
# A small frame: 2 px per 1000 px of its longer side would round to 1 px.
HEIGHT, WIDTH = 180, 320
ZONE = Zone.from_config(ZoneConfig(id="kerb", kind="no_parking", polygon=[(40, 20), (280, 20), (280, 160), (40, 160)]))
EVENT = ViolationEvent(
    event_id="cam-1:illegal_parking:kerb#1:500", source_id="cam-1", rule="illegal_parking", category="0505",
    zone_id="kerb", phase="start", started_at_s=0.5, last_seen_s=12.5, dwell_s=12.0,
    box_xyxy=(100.0, 60.0, 180.0, 120.0), ground_point_px=(140.0, 120.0), track_ids=(3, 8), confidence=0.8,
)  # fmt: skip


def grey_frame() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 90, np.uint8)


def test_the_caption_is_a_band_below_and_the_picture_changes_only_under_the_lines() -> None:
    image = grey_frame()
    photo = draw_evidence(image, EVENT, ZONE, CaptionContext(timezone=SHANGHAI, media_start=FILE_START))
    assert photo.shape[1:] == image.shape[1:] and photo.shape[0] > HEIGHT
    # Where the box and the zone outline run (with a pixel to spare for anti-aliasing), and nowhere else.
    lines = np.zeros((HEIGHT, WIDTH), np.uint8)
    reach = line_thickness(image.shape) + 2
    cv2.rectangle(lines, (100, 60), (180, 120), 255, reach)
    cv2.polylines(lines, [ZONE.outline], True, 255, reach)
    untouched = lines == 0
    np.testing.assert_array_equal(photo[:HEIGHT][untouched], image[untouched])
    assert (photo[:HEIGHT][~untouched] != image[~untouched]).any()
    band = photo[HEIGHT:]
    assert band.max() > 200 and np.median(band) < 20  # white text on black


def run_length(pixels: np.ndarray, colour: tuple[int, int, int]) -> int:
    """Longest run of pixels of `colour` (within JPEG-free tolerance) along a 1-D line of BGR pixels."""
    hits = (np.abs(pixels.astype(int) - colour).max(axis=1) <= 10).astype(int)
    longest = current = 0
    for hit in hits:
        current = current + 1 if hit else 0
        longest = max(longest, current)
    return longest


def test_lines_are_at_least_2_px_even_on_a_small_frame() -> None:
    photo = draw_evidence(grey_frame(), EVENT, ZONE)
    assert run_length(photo[90, 90:110], BOX_COLOUR) >= 2  # across the box's left edge
    assert run_length(photo[50:70, 140], BOX_COLOUR) >= 2  # across its top edge
    assert run_length(photo[10:30, 60], ZONE_COLOUR) >= 2  # across the zone's top edge


def test_the_caption_gives_local_time_in_the_bureau_zone() -> None:
    in_shanghai = caption_lines(EVENT, CaptionContext(timezone=SHANGHAI, media_start=FILE_START))
    # 13:01:53 UTC + 12.5 s of media = 21:02:05.5 in Shanghai (UTC+8).
    assert in_shanghai[0].startswith("2024-02-28 21:02:05 Asia/Shanghai")
    in_new_york = caption_lines(EVENT, CaptionContext(timezone=ZoneInfo("America/New_York"), media_start=FILE_START))
    assert in_new_york[0].startswith("2024-02-28 08:02:05 America/New_York")


@pytest.mark.parametrize(
    "basis, says", [("given", "start given"), ("file_metadata", "file creation time"), ("replay", "replay")]
)
def test_the_caption_says_where_the_start_came_from_and_gives_media_time(basis: str, says: str) -> None:
    lines = caption_lines(EVENT, CaptionContext(timezone=SHANGHAI, media_start=FILE_START, start_basis=basis))
    assert says in lines[1] and "media time 00:12.500" in lines[1]


def test_a_live_caption_gives_no_media_time() -> None:
    lines = caption_lines(EVENT, CaptionContext(timezone=SHANGHAI, media_start=FILE_START, start_basis="live"))
    assert "live" in lines[1] and "media time" not in "".join(lines)


def test_without_a_start_the_caption_gives_media_time_and_says_so() -> None:
    lines = caption_lines(EVENT, CaptionContext(timezone=SHANGHAI))
    assert "media time 00:12.500" in lines[0] and "wall-clock time unknown" in lines[1]
    assert "2024" not in "".join(lines) and "Asia/Shanghai" not in "".join(lines)


def test_the_caption_names_camera_zone_rule_dwell_and_track() -> None:
    text = "\n".join(caption_lines(EVENT, CaptionContext()))
    for part in ("摄像头 camera cam-1", "区域 zone kerb", "illegal parking 0505", "停留 dwell 12.0 s", "#3,8"):
        assert part in text
    assert "cell" not in text and "lon" not in text  # not located


def test_a_located_event_gives_its_cell_and_coordinates() -> None:
    asked: list[tuple[float, float]] = []

    def cell_of(lonlat: tuple[float, float]) -> str | None:
        asked.append(lonlat)
        return "411502000123"

    located = replace(EVENT, location=(114.0625, 32.1218))
    last = caption_lines(located, CaptionContext(cell_of=cell_of))[-1]
    assert last == "网格 cell 411502000123 | lon 114.062500, lat 32.121800 (WGS-84)" and asked == [(114.0625, 32.1218)]
    outside = caption_lines(located, CaptionContext(cell_of=lambda _lonlat: None))[-1]
    assert outside.startswith("网格 cell - |")
    unknown_grid = caption_lines(located, CaptionContext())[-1]
    assert unknown_grid == "lon 114.062500, lat 32.121800 (WGS-84)"


def test_an_ascii_caption_keeps_the_english_and_marks_chinese_values() -> None:
    event = replace(EVENT, zone_id="东门禁停")
    lines = caption_lines(event, CaptionContext(), chinese=False)
    assert all(line.isascii() for line in lines)
    assert "camera cam-1 | zone ???? | illegal parking 0505" in lines


def test_a_cjk_font_is_found_and_draws_distinct_chinese_glyphs() -> None:
    font = cjk_font_file()
    if font is None:
        missing("a CJK font (Debian: fonts-noto-cjk, installed by `make test`)")
    path, index = font
    face = ImageFont.truetype(path, size=32, index=index)

    def glyph(text: str) -> np.ndarray:
        image = Image.new("L", (40, 40))
        ImageDraw.Draw(image).text((2, 0), text, font=face, fill=255)
        return np.asarray(image)

    # A font without the glyphs draws every one as the same empty box.
    shapes = [glyph(text) for text in ("区", "域", "网")]
    assert all(shape.any() for shape in shapes)
    assert not np.array_equal(shapes[0], shapes[1]) and not np.array_equal(shapes[1], shapes[2])


def test_caption_context_of_analyze_prefers_the_given_start_then_the_file_tag(tmp_path) -> None:
    with VideoFileSource(shared_path("data/media/cctv_street_no_parking_zone.mp4"), source_id="x") as video:
        tagged = caption_context(video, timezone=SHANGHAI, start=None)
        assert (tagged.media_start, tagged.start_basis) == (video.creation_time, "file_metadata")
        given = caption_context(video, timezone=SHANGHAI, start=dt.datetime(2026, 12, 2, 8, 30))  # naive: local
        assert given.start_basis == "given" and given.media_start == dt.datetime(2026, 12, 2, 8, 30, tzinfo=SHANGHAI)
    cv2.imwrite(str(tmp_path / "00000.jpg"), grey_frame())
    with ImageFolderSource(tmp_path, source_id="y") as stills:
        assert caption_context(stills, timezone=SHANGHAI, start=None).media_start is None
