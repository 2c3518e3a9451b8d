"""Read-ahead: each source decodes in its own thread while the detector works on frames already decoded.

    feed = SourceFeed(source, queue.Queue(maxsize=2), drop_when_full=False)
    feed.start()
    item = feed.out.get()   # Captured(frame, captured_at) ... then SourceEnded(source_id)
    feed.close()

FFmpeg releases the GIL while it decodes, so decoding threads run beside inference on the other cores.
"""
import queue
import threading
import time
from dataclasses import dataclass

from vision.sources import Frame, FrameSource, StreamSource

PUT_RETRY_S = 0.1  # a full queue is retried this often, so that close() is noticed


@dataclass(frozen=True)
class Captured:
    """An analysed frame as it left its decoder."""

    frame: Frame
    captured_at: float  # time.perf_counter() when read() returned it


@dataclass(frozen=True)
class SourceEnded:
    source_id: str


@dataclass(frozen=True)
class SourceFailed:
    """read() raised: the reader of the feed raises it again, where it would have surfaced without read-ahead."""

    source_id: str
    error: Exception


@dataclass
class FeedStats:
    """Seconds inside read() (wall and this thread's CPU: demuxing, decoding, converting), frames read, dropped."""

    frames: int = 0
    read_s: float = 0.0
    read_cpu_s: float = 0.0
    dropped: int = 0


FeedItem = Captured | SourceEnded | SourceFailed


class SourceFeed:
    """Reads one source to its end in its own thread onto `out`: a `Captured` per frame, then `SourceEnded`
    (or `SourceFailed` with the exception read() raised)."""

    def __init__(
        self, source: FrameSource, out: "queue.Queue[FeedItem]", *, drop_when_full: bool,
        arrived: threading.Event | None = None,
    ) -> None:
        self.source, self.out, self.drop_when_full = source, out, drop_when_full
        self.arrived = arrived  # set after each item put: a reader of several feeds waits on one event
        self.stats = FeedStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"feed-{source.source_id}", daemon=True)

    def start(self) -> "SourceFeed":
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop reading and release the source; a live stream's blocked read is interrupted."""
        self._stop.set()
        if isinstance(self.source, StreamSource):  # its close() may come from another thread, ending a blocked read
            self.source.close()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.source.close()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                started, cpu_started = time.perf_counter(), time.thread_time()
                frame = self.source.read()
                now = time.perf_counter()
                self.stats.read_s += now - started
                self.stats.read_cpu_s += time.thread_time() - cpu_started
                if frame is None:
                    self._put(SourceEnded(self.source.source_id), may_drop=False)
                    return
                self.stats.frames += 1
                self._put(Captured(frame=frame, captured_at=now), may_drop=self.drop_when_full)
        except Exception as error:  # an unreadable still, a broken source: its reader decides
            self._put(SourceFailed(self.source.source_id, error), may_drop=False)
        finally:
            self.source.close()

    def _put(self, item: FeedItem, *, may_drop: bool) -> None:
        if may_drop:
            try:
                self.out.put_nowait(item)
            except queue.Full:  # a live camera must not wait for the detector: drop and count
                self.stats.dropped += 1
                return
        else:
            while True:
                if self._stop.is_set():
                    return
                try:
                    self.out.put(item, timeout=PUT_RETRY_S)
                    break
                except queue.Full:
                    continue
        if self.arrived is not None:
            self.arrived.set()
