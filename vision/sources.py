"""Frame sources: video files, live RTSP/HTTP streams, drone stills; each with one verb, `read()`.

    with open_source({"id": "cam-7", "kind": "file", "uri": "street.mp4", "analysis_fps": 2}) as source:
        while (frame := source.read()) is not None:
            ...  # frame.image (BGR), frame.timestamp_s, frame.index, frame.source_id
"""
import bisect
import csv
import datetime as dt
import math
import threading
from abc import ABC, abstractmethod
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import av
import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
FPS_WINDOW_S = 5.0
# Media timestamps come from rounded pts: a frame 1 ms early still fills its slot.
SLOT_TOLERANCE_S = 0.001
STREAM_TUNING_KEYS = ("backoff_initial_s", "backoff_max_s", "open_timeout_s", "read_timeout_s")
# A file whose index gives no frame count: its last frame may end this many frame periods before its stated
# duration (rounding of the last frame's length) before it counts as cut short.
EARLY_END_FRAMES = 2
UNSET_YEAR = 1970  # a container's creation_time in this year or before was never set
# One FFmpeg thread per decoder costs a third less CPU per frame than one per core (bench/README.md); many
# sources share the cores anyway. 0: FFmpeg's choice, for a single high-resolution source wanting low latency.
DEFAULT_DECODER_THREADS = 1


def checked_decoder_threads(decoder_threads: int) -> int:
    if decoder_threads < 0:
        raise ValueError(f"decoder_threads must be 0 (FFmpeg's choice) or more, got {decoder_threads}")
    return decoder_threads


def decoder_params(decoder_threads: int) -> list[int]:
    """OpenCV open parameters setting FFmpeg's decoding threads (none for 0: FFmpeg's choice)."""
    return [cv2.CAP_PROP_N_THREADS, decoder_threads] if checked_decoder_threads(decoder_threads) else []


class SourceError(Exception):
    """A source exists but cannot be decoded; the message names it."""


@dataclass(frozen=True)
class Frame:
    """One analysed image: media time for files, wall time since start for live streams."""

    image: np.ndarray
    timestamp_s: float
    index: int
    source_id: str


@dataclass(frozen=True)
class SourceHealth:
    """A snapshot of a source's state; `reconnects` counts streams that came back after a drop."""

    connected: bool = False
    fps: float = 0.0
    last_frame_at: float | None = None
    frames_read: int = 0
    reconnects: int = 0
    last_error: str | None = None


class _FrameSelector:
    """Keeps the first frame at or after each multiple of 1/analysis_fps, counted from the first frame."""

    def __init__(self, analysis_fps: float | None) -> None:
        if analysis_fps is not None and analysis_fps <= 0:
            raise ValueError(f"analysis_fps must be positive or None (every frame), got {analysis_fps}")
        self._period_s = 1.0 / analysis_fps if analysis_fps else 0.0
        self._next_due_s: float | None = None

    def before_next(self, timestamp_s: float) -> bool:
        """A frame this early will not be due, whatever comes before it (the next slot only moves later)."""
        return self._next_due_s is not None and timestamp_s < self._next_due_s - SLOT_TOLERANCE_S

    def due(self, timestamp_s: float) -> bool:
        if self.before_next(timestamp_s):
            return False
        if self._period_s:
            start = timestamp_s if self._next_due_s is None else self._next_due_s
            # A gap in the media may jump over several slots: the next one is after this frame.
            slots = math.floor((timestamp_s - start + SLOT_TOLERANCE_S) / self._period_s) + 1
            self._next_due_s = start + slots * self._period_s
        return True


class FrameSource(ABC):
    """Health bookkeeping and context-manager support shared by every source."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self._health = SourceHealth()
        self._health_lock = threading.Lock()
        self._frame_times: deque[float] = deque()
        self.ended_early: str | None = None  # why the source ended before its media did (a truncated file)

    @property
    def health(self) -> SourceHealth:
        with self._health_lock:
            return self._health

    @abstractmethod
    def read(self) -> Frame | None:
        """The next analysed frame, or None when the source has ended."""

    @abstractmethod
    def close(self) -> None:
        """Release the file or connection; read() returns None from then on."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _set_health(self, **changes: Any) -> None:
        with self._health_lock:
            self._health = replace(self._health, **changes)

    def _count_frame(self) -> None:
        now = time.monotonic()
        self._frame_times.append(now)
        while now - self._frame_times[0] > FPS_WINDOW_S:
            self._frame_times.popleft()
        span = now - self._frame_times[0]
        fps = (len(self._frame_times) - 1) / span if span > 0 else 0.0
        with self._health_lock:
            self._health = replace(
                self._health, fps=fps, last_frame_at=time.time(), frames_read=self._health.frames_read + 1
            )


class _DisplayIndex:
    """A frame's position in display order, from the timestamps of every packet demuxed (decoded or not)."""

    def __init__(self) -> None:
        self._shown = 0  # frames at or before the last one asked about
        self._waiting: list[int] = []  # sorted pts of later frames already demuxed

    def add(self, pts: int) -> None:
        bisect.insort(self._waiting, pts)

    def of(self, pts: int) -> int:
        earlier = bisect.bisect_left(self._waiting, pts)
        index = self._shown + earlier
        done = bisect.bisect_right(self._waiting, pts)
        self._shown += done
        del self._waiting[:done]
        return index


class VideoFileSource(FrameSource):
    """A video file through PyAV (FFmpeg) at `analysis_fps` of media time (None: every frame).

    Frames between the analysed ones are decoded only when later frames refer to them: the decoder
    drops the others unread (FFmpeg's skip_frame=nonref, packet by packet), and only the analysed ones
    are converted to BGR. Frames, indices and timestamps equal a full decode's (tests hold that).
    """

    def __init__(
        self, path: str | Path, *, source_id: str, analysis_fps: float | None = None,
        decoder_threads: int = DEFAULT_DECODER_THREADS,
    ) -> None:
        super().__init__(source_id)
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such video file")
        checked_decoder_threads(decoder_threads)
        self._selector = _FrameSelector(analysis_fps)
        try:
            self._container: av.container.InputContainer | None = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except av.error.FFmpegError as exc:
            self.close()
            raise SourceError(f"{self.path}: not a video file FFmpeg can read ({exc.strerror})") from exc
        except IndexError as exc:
            self.close()
            raise SourceError(f"{self.path}: the file has no video stream") from exc
        context = self._stream.codec_context
        context.thread_count = decoder_threads
        context.thread_type = "AUTO" if decoder_threads != 1 else "NONE"
        self._packets = self._container.demux(self._stream)
        self._decoded: deque[av.VideoFrame] = deque()
        self._display = _DisplayIndex()
        self._start_pts = self._stream.start_time or 0
        self._time_base = float(self._stream.time_base or 0)
        self.creation_time = _creation_time(self._container.metadata)
        self.frames_decoded = 0  # what the decoder gave out; the frames it dropped unread are not among them
        self.frames_read = 0  # frames demuxed from the file, decoded or not
        self._last_pts: int | None = None
        self._set_health(connected=True)

    def read(self) -> Frame | None:
        while (decoded := self._next_decoded()) is not None:
            if decoded.pts is None:
                continue  # nothing to place it in time by
            index, timestamp_s = self._display.of(decoded.pts), self._seconds(decoded.pts)
            if not self._selector.due(timestamp_s):
                continue  # decoded because later frames refer to it, never converted
            self._count_frame()
            return Frame(image=decoded.to_ndarray(format="bgr24"), timestamp_s=timestamp_s, index=index,
                         source_id=self.source_id)
        self.close()
        return None

    def close(self) -> None:
        if getattr(self, "_container", None) is not None:
            self._container.close()
            self._container = None
        self._set_health(connected=False)

    def _next_decoded(self) -> "av.VideoFrame | None":
        """The next frame in display order the decoder gives out; None at the end of the file."""
        while not self._decoded:
            if self._container is None:
                return None
            packet = next(self._packets, None)
            if packet is None:
                self._check_complete()
                return None
            if packet.pts is not None:
                self._display.add(packet.pts)
                self.frames_read += 1
                self._last_pts = packet.pts if self._last_pts is None else max(self._last_pts, packet.pts)
            # Not due yet: the decoder may drop it if no other frame refers to it (it decodes it otherwise).
            unwanted = packet.pts is not None and self._selector.before_next(self._seconds(packet.pts))
            self._stream.codec_context.skip_frame = "NONREF" if unwanted else "DEFAULT"
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as exc:
                self._set_health(last_error=f"cannot decode a frame of {self.path}: {exc}")
                continue
            self.frames_decoded += len(decoded)
            self._decoded.extend(decoded)
        return self._decoded.popleft()

    def _seconds(self, pts: int) -> float:
        return (pts - self._start_pts) * self._time_base

    def _check_complete(self) -> None:
        """At the end of the packets: set `ended_early` when the file's index promised more (a truncated file)."""
        stated_frames = self._stream.frames
        stated_s = float(self._stream.duration * self._time_base) if self._stream.duration else None
        last_s = self._seconds(self._last_pts) if self._last_pts is not None else 0.0
        if stated_frames:
            short = self.frames_read < stated_frames
        else:
            period_s = 1 / float(self._stream.average_rate) if self._stream.average_rate else 0.0
            short = stated_s is not None and last_s + EARLY_END_FRAMES * period_s < stated_s
        if short:
            of_frames = f" of {stated_frames}" if stated_frames else ""
            of_seconds = f" of {stated_s:.1f} s" if stated_s else ""
            self.ended_early = (f"{self.path}: the file ended early: {self.frames_read}{of_frames} frames read "
                                f"(media time {last_s:.1f} s{of_seconds})")
            self._set_health(last_error=self.ended_early)


def _creation_time(metadata: Mapping[str, str]) -> dt.datetime | None:
    """The container's creation_time tag (UTC when it gives no zone); None when absent or unreadable."""
    try:
        stamp = dt.datetime.fromisoformat(metadata["creation_time"])
    except (KeyError, ValueError):
        return None
    if stamp.year <= UNSET_YEAR:  # a zero tag: the MP4 epoch (1904) or the Unix one
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.timezone.utc)


def read_still_times(times_file: str | Path, folder: Path) -> tuple[list[Path], list[float]]:
    """The stills and their seconds since the first, from a CSV of `image,time` rows (`#` lines are comments).

    `image`: a path relative to `folder`; `time`: seconds, or an ISO date-time (e.g. a camera's burned-in clock).
    """
    times_file = Path(times_file)
    lines = [line for line in times_file.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    if not rows or not {"image", "time"} <= set(rows[0]):
        raise ValueError(f"{times_file}: needs a header `image,time` and one row per still")
    paths, seconds = [], []
    for number, row in enumerate(rows, start=2):
        path = folder / row["image"]
        if not path.is_file():
            raise FileNotFoundError(f"{times_file} row {number}: image not found: {path}")
        try:
            value = float(row["time"])
        except ValueError:
            try:
                moment = datetime.fromisoformat(row["time"])
                value = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
            except ValueError:
                raise ValueError(f"{times_file} row {number}: time {row['time']!r} is neither seconds nor ISO") from None
        if seconds and value < seconds[-1]:
            raise ValueError(f"{times_file} row {number}: time goes back ({row['time']})")
        paths.append(path)
        seconds.append(value)
    return paths, [value - seconds[0] for value in seconds]


class ImageFolderSource(FrameSource):
    """Stills in name order; timestamps from `timestamps` or from index / `fps_assumed`.

    With `times_file` (see `read_still_times`) the stills, their order and their times come from that file:
    still sequences taken at irregular intervals, each with its real time.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        source_id: str,
        fps_assumed: float = 1.0,
        timestamps: Sequence[float] | None = None,
        times_file: str | Path | None = None,
    ) -> None:
        super().__init__(source_id)
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such folder")
        if times_file is not None:
            if timestamps is not None:
                raise ValueError("give timestamps or times_file, not both")
            self.paths, timestamps = read_still_times(times_file, self.folder)
        else:
            self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise SourceError(f"{self.folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the folder")
        if timestamps is not None and len(timestamps) != len(self.paths):
            raise ValueError(f"{len(timestamps)} timestamps for {len(self.paths)} images in {self.folder}")
        if fps_assumed <= 0:
            raise ValueError(f"fps_assumed must be positive, got {fps_assumed}")
        self._timestamps = (
            list(timestamps) if timestamps is not None else [i / fps_assumed for i in range(len(self.paths))]
        )
        self._index = 0
        self._set_health(connected=True)

    def read(self) -> Frame | None:
        if self._index >= len(self.paths):
            self.close()
            return None
        index, path = self._index, self.paths[self._index]
        self._index += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"{path}: not an image OpenCV can read")
        self._count_frame()
        return Frame(image=image, timestamp_s=self._timestamps[index], index=index, source_id=self.source_id)

    def close(self) -> None:
        self._index = len(self.paths)
        self._set_health(connected=False)


class SingleImageSource(FrameSource):
    """One image from a path or encoded bytes (an upload), read once at time 0."""

    def __init__(self, path_or_bytes: str | Path | bytes, *, source_id: str) -> None:
        super().__init__(source_id)
        if isinstance(path_or_bytes, bytes):
            image = cv2.imdecode(np.frombuffer(path_or_bytes, dtype=np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"cannot decode image bytes ({len(path_or_bytes)} bytes)")
        else:
            path = Path(path_or_bytes)
            if not path.is_file():
                raise FileNotFoundError(f"image file not found: {path}")
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"cannot decode image {path}")
        self._image: np.ndarray | None = image
        self._set_health(connected=True)

    def read(self) -> Frame | None:
        if self._image is None:
            return None
        frame = Frame(image=self._image, timestamp_s=0.0, index=0, source_id=self.source_id)
        self._count_frame()
        self.close()
        return frame

    def close(self) -> None:
        self._image = None
        self._set_health(connected=False)


def redact_url(url: str) -> str:
    """The URL without its password, for logs and health messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class StreamSource(FrameSource):
    """A live RTSP/HTTP stream that reconnects with exponential back-off and never raises on a drop.

    `read()` blocks until the next analysed frame; it returns None only after `close()`, which
    may be called from another thread.
    """

    def __init__(
        self,
        url: str,
        *,
        source_id: str,
        analysis_fps: float | None = None,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 30.0,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        decoder_threads: int = DEFAULT_DECODER_THREADS,
    ) -> None:
        super().__init__(source_id)
        if not 0 < backoff_initial_s <= backoff_max_s:
            raise ValueError(f"need 0 < backoff_initial_s <= backoff_max_s, got {backoff_initial_s}, {backoff_max_s}")
        self.url = url
        self._selector = _FrameSelector(analysis_fps)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        # FFmpeg waits forever on a silent socket unless told otherwise.
        self._capture_params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(read_timeout_s * 1000),
            *decoder_params(decoder_threads),
        ]  # fmt: skip
        self._capture: cv2.VideoCapture | None = None
        self._capture_lock = threading.Lock()
        self._stopped = threading.Event()
        self._was_connected = False
        self._started = time.monotonic()
        self._index = -1

    def read(self) -> Frame | None:
        while not self._stopped.is_set():
            with self._capture_lock:
                if self._stopped.is_set():
                    break
                if self._capture is None:
                    self._capture = self._open()
                frame = self._grab() if self._capture is not None else None
            if frame is not None:
                self._backoff_s = self._backoff_initial_s
                return frame
            if self._capture is None:  # the open failed or the stream dropped
                self._stopped.wait(self._backoff_s)
                self._backoff_s = min(2 * self._backoff_s, self._backoff_max_s)
        return None

    def close(self) -> None:
        self._stopped.set()
        with self._capture_lock:  # waits for an open or grab in progress, at most its timeout
            if self._capture is not None:
                self._capture.release()
                self._capture = None
        self._set_health(connected=False)

    def _open(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, self._capture_params)
        if not capture.isOpened():
            capture.release()
            self._set_health(connected=False, last_error=f"cannot open stream {redact_url(self.url)}")
            return None
        reconnects = self.health.reconnects + (1 if self._was_connected else 0)
        self._was_connected = True
        self._set_health(connected=True, reconnects=reconnects)
        return capture

    def _grab(self) -> Frame | None:
        """The next frame if it is due; None when skipped, or after a drop (capture released)."""
        assert self._capture is not None
        if not self._capture.grab():
            self._drop("stream stopped delivering frames")
            return None
        self._index += 1
        timestamp_s = time.monotonic() - self._started
        if not self._selector.due(timestamp_s):
            return None
        ok, image = self._capture.retrieve()
        if not ok:
            self._drop(f"cannot decode frame {self._index}")
            return None
        self._count_frame()
        return Frame(image=image, timestamp_s=timestamp_s, index=self._index, source_id=self.source_id)

    def _drop(self, reason: str) -> None:
        assert self._capture is not None
        self._capture.release()
        self._capture = None
        self._frame_times.clear()  # the rate before the drop says nothing about now
        self._set_health(connected=False, fps=0.0, last_error=f"{reason}: {redact_url(self.url)}")


def open_source(spec: Mapping[str, Any]) -> FrameSource:
    """A source from {id, kind: file|stream|folder|image, uri, analysis_fps} plus optional tuning keys
    (a folder: `times`, a CSV of each still's time, see `read_still_times`)."""
    for key in ("id", "kind", "uri"):
        if key not in spec:
            raise ValueError(f"source spec lacks {key!r}: {dict(spec)}")
    source_id, kind, uri = str(spec["id"]), spec["kind"], spec["uri"]
    analysis_fps = spec.get("analysis_fps")
    decoder_threads = spec.get("decoder_threads", DEFAULT_DECODER_THREADS)
    if kind == "file":
        return VideoFileSource(uri, source_id=source_id, analysis_fps=analysis_fps, decoder_threads=decoder_threads)
    if kind == "stream":
        tuning = {key: spec[key] for key in STREAM_TUNING_KEYS if key in spec}
        return StreamSource(uri, source_id=source_id, analysis_fps=analysis_fps, decoder_threads=decoder_threads,
                            **tuning)
    if kind == "folder":
        return ImageFolderSource(uri, source_id=source_id, fps_assumed=spec.get("fps_assumed", 1.0),
                                 times_file=spec.get("times"))
    if kind == "image":
        return SingleImageSource(uri, source_id=source_id)
    raise ValueError(f"source {source_id!r}: unknown kind {kind!r} (file, stream, folder, image)")
