"""Evidence photos: the zone and the object's box drawn on the frame, the caption in a band added below it."""
import datetime as dt
import functools
import logging
import subprocess
from collections.abc import Callable
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from config.vision import EvidenceConfig
from vision.events import ViolationEvent
from vision.plates.evidence import PlateEvidence
from vision.zones import Zone

log = logging.getLogger(__name__)

BOX_COLOUR = (0, 0, 255)  # BGR red
ZONE_COLOUR = (255, 160, 0)  # BGR light blue
TEXT_COLOUR = (255, 255, 255)  # RGB: the band is drawn by Pillow
BAND_COLOUR = (0, 0, 0)
PHOTOS_PER_EVENT = 2  # enforcement needs two photos some time apart
MIN_LINE_PX = 2  # a 1 px line vanishes in JPEG and on a phone screen
MIN_FONT_PX = 10
FONT_PX_PER_WIDTH = 1 / 40  # a 640 px wide frame: 16 px text
LINE_SPACING = 1.35
SEPARATOR = " | "
# Where fontconfig is missing: Debian's fonts-noto-cjk and fonts-wqy-microhei.
KNOWN_CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # face 2: Simplified Chinese
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
RULE_LABELS = {"illegal_parking": ("机动车违停", "illegal parking"), "street_vending": ("占道经营", "street vending")}
# Where the wall-clock time of media time zero came from.
StartBasis = Literal["given", "file_metadata", "replay", "live"]
START_BASIS_LABELS: dict[StartBasis, tuple[str, str]] = {
    "given": ("起点给定", "start given"),
    "file_metadata": ("起点取自文件创建时间", "start = file creation time"),
    "replay": ("文件回放，起点为开始回放时刻", "file replay, start = when the replay began"),
    "live": ("实时", "live"),
}
CellOf = Callable[[tuple[float, float]], str | None]  # (lon, lat) -> the unit grid cell's code, None outside


@dataclass(frozen=True)
class CaptionContext:
    """What a caption needs besides the event: the bureau's time zone, the wall-clock time of media time zero and
    where it came from (None: unknown, the caption gives media time), and the cell of a located event."""

    timezone: ZoneInfo = ZoneInfo("UTC")
    media_start: dt.datetime | None = None  # timezone-aware
    start_basis: StartBasis = "given"
    cell_of: CellOf | None = None


class EvidenceWriter:
    """`attach(event, image, zone)` writes the event's next photo when one is due and returns the event with its paths.

    A photo is due at the start and at the first update (second_photo_after_s later, see DwellRules,
    which sends that update only when the object looks like the one of the first photo);
    the end event carries every path written.
    """

    def __init__(self, out_dir: Path, config: EvidenceConfig, caption: CaptionContext = CaptionContext(),
                 plates: PlateEvidence | None = None) -> None:
        self.out_dir = out_dir
        self.config = config
        self.caption = caption
        self.plates = plates  # reads the plate on each photo's frame of a parking event (vision/plates)
        self._paths: dict[str, tuple[str, ...]] = {}

    def attach(self, event: ViolationEvent, image: np.ndarray, zone: Zone) -> ViolationEvent:
        paths = self._paths.get(event.event_id, ())
        if event.phase != "end" and len(paths) < PHOTOS_PER_EVENT:
            paths = (*paths, str(self._write(event, image, zone, number=len(paths) + 1)))
            if self.plates is not None:
                self.plates.observe(event.event_id, event.rule, image, event.box_xyxy, Path(paths[-1]).stem)
        if event.phase == "end":
            self._paths.pop(event.event_id, None)
        else:
            self._paths[event.event_id] = paths
        plate = self.plates.current(event.event_id, forget=event.phase == "end") if self.plates else None
        return replace(event, evidence_paths=paths, plate=plate)

    def _write(self, event: ViolationEvent, image: np.ndarray, zone: Zone, *, number: int) -> Path:
        annotated = draw_evidence(image, event, zone, self.caption)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        safe_id = event.event_id.replace(":", "_").replace("#", "-")
        path = self.out_dir / f"{safe_id}_{number}.jpg"
        self._write_jpeg(path, annotated)
        if number == 1:  # the first photo's frame unannotated, with the object's box: a training sample once reviewed
            self._write_jpeg(frame_path(path), image)
            box_path(path).write_text(json.dumps({"box_xyxy": [round(float(v), 1) for v in event.box_xyxy]}))
        return path

    def _write_jpeg(self, path: Path, image: np.ndarray) -> None:
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]):
            raise OSError(f"cannot write evidence photo {path}")


def frame_path(photo: Path) -> Path:
    """Where the unannotated frame of an evidence photo is kept (the first photo of an event has one)."""
    return photo.with_name(f"{photo.stem}.frame.jpg")


def box_path(photo: Path) -> Path:
    """The object's pixel box on that frame, as JSON {"box_xyxy": [x1, y1, x2, y2]}."""
    return photo.with_name(f"{photo.stem}.frame.json")


def clean_frame(photo: Path) -> tuple[bytes, list[float]] | None:
    """The unannotated frame (JPEG bytes) and the object's box for an evidence photo, if it has them."""
    frame, box = frame_path(photo), box_path(photo)
    if not (frame.is_file() and box.is_file()):
        return None
    return frame.read_bytes(), json.loads(box.read_text())["box_xyxy"]


def line_thickness(image_shape: tuple[int, ...]) -> int:
    """Box and zone lines: 2 px per 1000 px of the frame's longer side, never under MIN_LINE_PX."""
    return max(MIN_LINE_PX, round(2 * max(image_shape[:2]) / 1000))


def draw_evidence(
    image: np.ndarray, event: ViolationEvent, zone: Zone, context: CaptionContext = CaptionContext()
) -> np.ndarray:
    """The frame with the zone and the object's box drawn on it, taller by a caption band below it."""
    annotated = image.copy()
    thickness = line_thickness(image.shape)
    if len(zone.outline):  # a zone drawn on the map has no outline in the image
        cv2.polylines(annotated, [zone.outline], isClosed=True, color=ZONE_COLOUR, thickness=thickness)
    x1, y1, x2, y2 = (round(v) for v in event.box_xyxy)
    cv2.rectangle(annotated, (x1, y1), (x2, y2), BOX_COLOUR, thickness)
    font = cjk_font_file()
    band = caption_band(caption_lines(event, context, chinese=font is not None), width=image.shape[1], font=font)
    return np.vstack([annotated, band])


def caption_lines(event: ViolationEvent, context: CaptionContext, *, chinese: bool = True) -> list[str]:
    """The caption: when (local time in the bureau's zone, else media time), what, where (camera, zone, cell)."""

    def label(zh: str, en: str) -> str:
        return f"{zh} {en}" if chinese else en

    media = label("视频时间", "media time") + f" {_media_time(event.last_seen_s)}"
    stay = [label("停留", "dwell") + f" {event.dwell_s:.1f} s",
            label("目标", "track") + f" #{','.join(str(t) for t in event.track_ids) or '-'}"]
    if context.media_start is None:
        lines = [[media, *stay], [label("实际时间未知", "wall-clock time unknown")]]
    else:
        local = (context.media_start + dt.timedelta(seconds=event.last_seen_s)).astimezone(context.timezone)
        basis = label(*START_BASIS_LABELS[context.start_basis])
        lines = [[f"{local:%Y-%m-%d %H:%M:%S} {context.timezone.key}", *stay],
                 # a live stream's media time is only the time since it connected
                 [basis] if context.start_basis == "live" else [media, basis]]
    lines.append([label("摄像头", "camera") + f" {event.source_id}", label("区域", "zone") + f" {event.zone_id}",
                  label(*RULE_LABELS[event.rule]) + f" {event.category}"])
    if event.location is not None:
        lon, lat = event.location
        place = [f"lon {lon:.6f}, lat {lat:.6f} (WGS-84)"]
        if context.cell_of is not None:
            place.insert(0, label("网格", "cell") + f" {context.cell_of(event.location) or '-'}")
        lines.append(place)
    text = [SEPARATOR.join(parts) for parts in lines]
    # Without a CJK font, ids and values in Chinese show as "?" rather than as empty boxes.
    return text if chinese else [line.encode("ascii", "replace").decode() for line in text]


def caption_band(lines: list[str], *, width: int, font: tuple[str, int] | None) -> np.ndarray:
    """A BGR band `width` wide with `lines` in white on black, the text shrunk until the widest line fits."""
    size = max(MIN_FONT_PX, round(width * FONT_PX_PER_WIDTH))
    margin = max(2, size // 2)
    widest = max(_font(font, size).getlength(line) for line in lines)
    if widest > width - 2 * margin:
        size = max(MIN_FONT_PX, int(size * (width - 2 * margin) / widest))
    face = _font(font, size)
    step = round(size * LINE_SPACING)
    band = Image.new("RGB", (width, 2 * margin + step * len(lines)), BAND_COLOUR)
    draw = ImageDraw.Draw(band)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * step), line, font=face, fill=TEXT_COLOUR)
    return cv2.cvtColor(np.asarray(band), cv2.COLOR_RGB2BGR)


@functools.cache
def _font(font: tuple[str, int] | None, size: int) -> ImageFont.FreeTypeFont:
    if font is None:
        return ImageFont.load_default(size=size)  # Latin only
    path, index = font
    return ImageFont.truetype(path, size=size, index=index)


@functools.cache
def cjk_font_file() -> tuple[str, int] | None:
    """(file, face index) of a font that draws Simplified Chinese: fontconfig's choice, else a known Debian path."""
    known = ((path, index) for path, index in KNOWN_CJK_FONTS if Path(path).is_file())
    found = _fontconfig_cjk_font() or next(known, None)
    if found is None:
        log.warning("no CJK font found (Debian: apt-get install fonts-noto-cjk): evidence captions in ASCII only")
    return found


def _fontconfig_cjk_font() -> tuple[str, int] | None:
    """fontconfig's sans-serif for zh-cn if it covers Chinese (fc-match falls back to any font), else any that does."""

    def run(*args: str) -> list[tuple[str, int]]:
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        faces = (line.rsplit("|", 1) for line in out.splitlines() if "|" in line)
        return [(path, int(index)) for path, index in faces if index.isdigit()]

    covering = run("fc-list", ":lang=zh-cn", "--format=%{file}|%{index}\n")
    preferred = run("fc-match", "--format=%{file}|%{index}\n", "sans-serif:lang=zh-cn")
    if preferred and preferred[0] in covering:
        return preferred[0]
    return min(covering) if covering else None


def _media_time(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"
