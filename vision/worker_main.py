"""`python -m vision worker`: a worker process beside the cameras, talking to the platform through Redis."""
import signal
import threading

import config
from config.sources import load_sources
from config.vision import load_vision_config
from dispatch.bus import RedisBus
from dispatch.streams import RedisDetectionStream, RedisHealthBoard
from vision.detector import ModelUnavailableError
from vision.worker import VisionWorker


def run_worker() -> int:
    """Run the sources in GRIDPATROL_SOURCES (or worker.sources_file) until they end or SIGTERM/SIGINT."""
    settings = config.load()
    if settings.redis.url is None:
        print("error: a separate worker process reaches the platform through Redis: set REDIS_URL "
              "(or, in single-process mode, set GRIDPATROL_SOURCES and let `make run` run the worker)")
        return 2
    if settings.worker.sources_file is None:
        print("error: no sources: set GRIDPATROL_SOURCES to a sources file (see config/examples/)")
        return 2
    reports = RedisDetectionStream(settings.redis.url, stream=settings.redis.detections_stream)
    health, bus = (RedisHealthBoard(settings.redis.url),
                            RedisBus(settings.redis.url, settings.redis.events_channel))
    try:
        worker = VisionWorker(
            sources=load_sources(settings.path(settings.worker.sources_file)).sources, vision=load_vision_config(),
            send=reports.add, evidence_dir=settings.path(settings.worker.evidence_dir),
        )
    except ModelUnavailableError as exc:
        print(f"error: {exc}")
        return 2
    bus.subscribe(worker.on_case_event)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"vision worker: {len(worker.runs)} source(s) from {settings.worker.sources_file}")
    worker.run(stop, post_health=health.put, health_every_s=settings.worker.health_every_s)
    bus.stop()
    return 0
