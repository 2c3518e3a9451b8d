"""Many sources, one model: decoding threads feed a bounded queue, frames of several sources go through
one `detect_many` call, and each source's own Pipeline (tracking, zones, dwell, events) takes it from there.

    runner = MultiStreamRunner(detector=OpenVinoDetector(vision.detector), sources=sources,
                               make_pipeline=lambda source_id, detector: Pipeline(source_id=source_id,
                                   detector=detector, zones=zones[source_id], config=vision),
                               config=StreamsConfig())
    runner.run(publish=lambda event, captured_at: bus.put(event))
"""
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vision.detections import Detections
from vision.events import ViolationEvent
from config.vision import StreamsConfig
from vision.fast.detector import OpenVinoDetector
from vision.pipeline import Pipeline
from vision.sources import Frame, FrameSource

# The event and the perf_counter time its frame was captured (None: ended because its source ended).
PublishTimed = Callable[[ViolationEvent, float | None], None]


@dataclass(frozen=True)
class Captured:
    """An analysed frame as it left its decoder."""

    frame: Frame
    captured_at: float  # time.perf_counter() when read() returned it


@dataclass(frozen=True)
class SourceEnded:
    source_id: str


@dataclass
class DecodeStats:
    """Per decoding thread: seconds inside read() (skipped frames grabbed, analysed ones decoded) and drops."""

    frames: int = 0
    read_s: float = 0.0
    dropped: int = 0


class PrefetchedDetector:
    """Stands in for a detector inside one source's Pipeline: hands back what the runner computed for this image."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self._image: np.ndarray | None = None
        self._detections = Detections.empty()

    def hold(self, image: np.ndarray, detections: Detections) -> None:
        self._image, self._detections = image, detections

    def detect(self, image: np.ndarray) -> Detections:
        if image is not self._image:  # identity, not equality: no pixel comparison on the hot path
            raise RuntimeError(f"source {self.source_id}: detections were computed for another frame")
        self._image = None  # the frame's array is not kept alive longer than its processing
        return self._detections


class DecodeWorker:
    """Reads its share of the sources in turn, in its own thread, onto the shared queue; `SourceEnded` after each."""

    def __init__(self, sources: list[FrameSource], out: "queue.Queue[Captured | SourceEnded]", *,
                 drop_when_full: bool, stop: threading.Event) -> None:
        self.sources, self.out, self.drop_when_full, self.stop = list(sources), out, drop_when_full, stop
        self.stats = DecodeStats()
        self.thread = threading.Thread(target=self._loop, name="decode", daemon=True)

    def _loop(self) -> None:
        live = list(self.sources)
        while live and not self.stop.is_set():
            for source in list(live):
                started = time.perf_counter()
                frame = source.read()
                now = time.perf_counter()
                self.stats.read_s += now - started
                if frame is None:
                    live.remove(source)
                    self._put(SourceEnded(source.source_id), always=True)
                    continue
                self.stats.frames += 1
                self._put(Captured(frame=frame, captured_at=now), always=False)
        for source in self.sources:
            source.close()

    def _put(self, item: "Captured | SourceEnded", *, always: bool) -> None:
        if self.drop_when_full and not always:
            try:
                self.out.put_nowait(item)
            except queue.Full:  # a live camera must not wait for the detector: drop and count
                self.stats.dropped += 1
            return
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


@dataclass
class RunnerStats:
    frames: int = 0
    batches: int = 0
    seconds: float = 0.0
    decode: list[DecodeStats] = field(default_factory=list)


class MultiStreamRunner:
    """`run(publish)` analyses every source to its end (or until `stop()`), one model for all of them."""

    def __init__(
        self,
        *,
        detector: OpenVinoDetector,
        sources: list[FrameSource],
        make_pipeline: Callable[[str, PrefetchedDetector], Pipeline],
        config: StreamsConfig,
    ) -> None:
        ids = [source.source_id for source in sources]
        if len(set(ids)) != len(ids):
            raise ValueError(f"source ids must be unique: {ids}")
        self.detector, self.sources, self.config = detector, sources, config
        self.prefetched = {source_id: PrefetchedDetector(source_id) for source_id in ids}
        self.pipelines = {source_id: make_pipeline(source_id, self.prefetched[source_id]) for source_id in ids}
        self.stats = RunnerStats()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self, publish: PublishTimed, on_frame: Callable[[Frame], None] | None = None) -> RunnerStats:
        frames: queue.Queue[Captured | SourceEnded] = queue.Queue(maxsize=self.config.queue_frames)
        shares = [self.sources[i :: self.config.decode_threads] for i in range(self.config.decode_threads)]
        workers = [DecodeWorker(share, frames, drop_when_full=self.config.drop_when_full, stop=self._stop)
                   for share in shares if share]
        self.stats.decode = [worker.stats for worker in workers]
        started = time.perf_counter()
        for worker in workers:
            worker.thread.start()
        live = len(self.sources)
        while live and not self._stop.is_set():
            try:
                batch = [frames.get(timeout=0.1)]
            except queue.Empty:
                continue
            # Whatever else is already decoded joins this call, up to `batch`; an ended source closes the batch.
            while isinstance(batch[-1], Captured) and len(batch) < self.config.batch:
                try:
                    batch.append(frames.get_nowait())
                except queue.Empty:
                    break
            captured = [item for item in batch if isinstance(item, Captured)]
            self._analyse(captured, publish, on_frame)
            for item in batch:
                if isinstance(item, SourceEnded):
                    live -= 1
                    for event in self.pipelines[item.source_id].finish():
                        publish(event, None)
        self._stop.set()
        for worker in workers:
            worker.thread.join()
        self.stats.seconds += time.perf_counter() - started
        return self.stats

    def _analyse(
        self, captured: list[Captured], publish: PublishTimed, on_frame: Callable[[Frame], None] | None
    ) -> None:
        if not captured:
            return
        detections = self.detector.detect_many([item.frame.image for item in captured])
        for item, found in zip(captured, detections):
            source_id = item.frame.source_id
            self.prefetched[source_id].hold(item.frame.image, found)
            for event in self.pipelines[source_id].process(item.frame):
                publish(event, item.captured_at)
            if on_frame is not None:
                on_frame(item.frame)
        self.stats.frames += len(captured)
        self.stats.batches += 1
