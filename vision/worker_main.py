"""`python -m vision worker`: a worker process beside the cameras, talking to the platform through Redis."""
import signal
import sys
import threading
from zoneinfo import ZoneInfo

import config
from config.base import ConfigFileError
from config.sources import load_sources
from config.vision import load_vision_config
from dispatch.bus import RedisBus
from dispatch.streams import RedisDetectionStream, RedisHealthBoard
from vision.detector import ModelUnavailableError
from vision.sources import SourceError
from vision.worker import VisionWorker

# Bad input a worker cannot run with: each says what and where on one line.
BAD_INPUT = (ConfigFileError, FileNotFoundError, SourceError, ModelUnavailableError)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run_worker() -> int:
    """Run the sources in GRIDPATROL_SOURCES (or worker.sources_file) until they end or SIGTERM/SIGINT.

    Exit 2 on bad input, one line on stderr each: a sources or zone file, media that cannot be read, a file
    that ended early (analysed as far as it went)."""
    settings = config.load()
    if settings.redis.url is None:
        return fail("a separate worker process reaches the platform through Redis: set REDIS_URL "
                    "(or, in single-process mode, set GRIDPATROL_SOURCES and let `make run` run the worker)")
    if settings.worker.sources_file is None:
        return fail("no sources: set GRIDPATROL_SOURCES to a sources file (see config/examples/)")
    reports = RedisDetectionStream(settings.redis.url, stream=settings.redis.detections_stream)
    health, bus = (RedisHealthBoard(settings.redis.url),
                            RedisBus(settings.redis.url, settings.redis.events_channel))
    try:
        worker = VisionWorker(
            sources=load_sources(settings.path(settings.worker.sources_file)).sources, vision=load_vision_config(),
            send=reports.add, evidence_dir=settings.path(settings.worker.evidence_dir),
            timezone=ZoneInfo(settings.calendar.timezone),
        )
    except BAD_INPUT as exc:
        return fail(str(exc))
    bus.subscribe(worker.on_case_event)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"vision worker: {len(worker.runs)} source(s) from {settings.worker.sources_file}")
    try:
        worker.run(stop, post_health=health.put, health_every_s=settings.worker.health_every_s)
    except SourceError as exc:  # a frame that cannot be read (a broken still)
        return fail(str(exc))
    finally:
        bus.stop()
    for problem in worker.ended_early:
        fail(problem)
    return 2 if worker.ended_early else 0
