"""Many sources, one model, as fast as the machine goes: each source decodes in its own thread onto one
shared queue, whatever frames are ready go through one `detect_many` call, and each source's own Pipeline
(tracking, zones, dwell, events) takes it from there. The benchmark's runner; the worker steps its sources in turn.

    runner = MultiStreamRunner(detector=OpenVinoDetector(vision.detector), sources=sources,
                               make_pipeline=lambda source_id: Pipeline(source_id=source_id,
                                   detector=detector, zones=zones[source_id], config=vision),
                               config=StreamsConfig())
    runner.run(publish=lambda event, captured_at: bus.put(event))
"""
import queue
from collections import Counter
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from config.vision import InputShape, StreamsConfig
from vision.detections import Detections
from vision.events import ViolationEvent
from vision.fast.detector import OpenVinoDetector
from vision.feeds import Captured, FeedItem, FeedStats, SourceEnded, SourceFeed
from vision.pipeline import Pipeline
from vision.sources import Frame, FrameSource

# The event and the perf_counter time its frame was captured (None: ended because its source ended).
PublishTimed = Callable[[ViolationEvent, float | None], None]


def rounds(captured: list[Captured]) -> list[list[Captured]]:
    """The frames split so that no round holds two of one source: a source's k-th frame goes to round k, so its
    predecessor is processed (and its detections known) before the frame itself is looked at."""
    split: list[list[Captured]] = []
    earlier: Counter[str] = Counter()
    for item in captured:
        k = earlier[item.frame.source_id]
        earlier[item.frame.source_id] += 1
        if k == len(split):
            split.append([])
        split[k].append(item)
    return split


@dataclass
class RunnerStats:
    frames: int = 0
    batches: int = 0
    seconds: float = 0.0
    decode: list[FeedStats] = field(default_factory=list)


class MultiStreamRunner:
    """`run(publish)` analyses every source to its end (or until `stop()`), one model for all of them."""

    def __init__(
        self,
        *,
        detector: OpenVinoDetector,
        sources: list[FrameSource],
        make_pipeline: Callable[[str], Pipeline],
        config: StreamsConfig,
        input_shapes: Mapping[str, InputShape | None] | None = None,
    ) -> None:
        ids = [source.source_id for source in sources]
        if len(set(ids)) != len(ids):
            raise ValueError(f"source ids must be unique: {ids}")
        self.detector, self.sources, self.config = detector, sources, config
        self.pipelines = {source_id: make_pipeline(source_id) for source_id in ids}
        self.input_shapes = dict(input_shapes or {})  # per source; absent: the detector's runtime setting
        self.stats = RunnerStats()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self, publish: PublishTimed, on_frame: Callable[[Frame], None] | None = None) -> RunnerStats:
        frames: queue.Queue[FeedItem] = queue.Queue(maxsize=self.config.read_ahead * len(self.sources))
        feeds = [SourceFeed(source, frames, drop_when_full=self.config.drop_when_full) for source in self.sources]
        self.stats.decode = [feed.stats for feed in feeds]
        started = time.perf_counter()
        for feed in feeds:
            feed.start()
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
            for round_ in rounds([item for item in batch if isinstance(item, Captured)]):
                self._analyse(round_, publish, on_frame)
            for item in batch:
                if isinstance(item, SourceEnded):
                    live -= 1
                    for event in self.pipelines[item.source_id].finish():
                        publish(event, None)
        self._stop.set()
        for feed in feeds:
            feed.close()
        self.stats.seconds += time.perf_counter() - started
        return self.stats

    def _analyse(
        self, captured: list[Captured], publish: PublishTimed, on_frame: Callable[[Frame], None] | None
    ) -> None:
        """One frame per source: each reuses its source's last detections or goes through the model."""
        if not captured:
            return
        waiting: list[Captured] = []  # frames the model must see
        for item in captured:
            reused = self.pipelines[item.frame.source_id].reused_detections(item.frame)
            if reused is None:
                waiting.append(item)
            else:
                self._process(item, reused, publish, on_frame)
        shapes = [self.input_shapes.get(item.frame.source_id) for item in waiting]
        detected = self.detector.detect_iter([item.frame.image for item in waiting], shapes)
        for item, detections in zip(waiting, detected):  # each processed while the next ones run
            self._process(item, detections, publish, on_frame)
        self.stats.frames += len(captured)
        self.stats.batches += 1

    def _process(self, item: Captured, detections: Detections, publish: PublishTimed,
                 on_frame: Callable[[Frame], None] | None) -> None:
        for event in self.pipelines[item.frame.source_id].process(item.frame, detections):
            publish(event, item.captured_at)
        if on_frame is not None:
            on_frame(item.frame)
