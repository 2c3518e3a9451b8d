"""Background work of a web process: the overdue check, hotline replies, the vision worker (single process)."""
import logging
import threading
import time
from zoneinfo import ZoneInfo

from flask import Flask

from config.base import ConfigFileError
from config.sources import load_sources
from config.vision import load_vision_config
from dispatch.case.events import commit_and_publish
from dispatch.case.service import flag_overdue
from config.hotline import ProfileConfig
from dispatch.db import WRITER, utcnow
from dispatch.hotline.jobs import run_job
from dispatch.hotline.replies import send_due_replies
from dispatch.patrol.service import purge_positions
from webapp.platform import Platform

log = logging.getLogger(__name__)


def check_overdue_once(platform: Platform) -> int:
    """Flag cases past their deadline (each once, as a timeline event) and push the events; returns how many."""
    with platform.sessions(execution_options=WRITER) as session:
        late = flag_overdue(session=session, now=utcnow())
        commit_and_publish(session, platform.bus)
    return len(late)


def run_overdue_checks(app: Flask) -> None:
    """Forever: check, then sleep dispatch.overdue_check_s; a failed check is logged and retried next round."""
    platform: Platform = app.extensions["gridpatrol"]
    while True:
        try:
            flagged = check_overdue_once(platform)
            if flagged:
                log.info("flagged %d overdue case(s)", flagged)
        except Exception:  # the database may be briefly away; the next round tries again
            log.exception("overdue check failed")
        time.sleep(platform.settings.dispatch.overdue_check_s)


def run_position_retention(platform: Platform) -> None:
    """Forever: delete positions older than patrol.retention_days, every patrol.retention_check_h hours."""
    config = platform.settings.patrol
    while True:
        try:
            with platform.sessions(execution_options=WRITER) as session:
                deleted = purge_positions(session=session, now=utcnow(), retention_days=config.retention_days)
                session.commit()
            if deleted:
                log.info("deleted %d patrol positions older than %d days", deleted, config.retention_days)
        except Exception:  # the database may be briefly away; the next round deletes them
            log.exception("position retention round failed")
        time.sleep(config.retention_check_h * 3600)


def start_vision_worker(platform: Platform) -> threading.Event | None:
    """With a sources file configured, run the vision worker in this process (single-process mode)."""
    sources_file = platform.settings.worker.sources_file
    if sources_file is None:
        return None
    from vision.detector import ModelUnavailableError
    from vision.sources import SourceError
    from vision.worker import VisionWorker  # only a process that watches cameras loads the model stack

    def cell_of(lonlat: tuple[float, float]) -> str | None:
        """The evidence caption's cell, from the grid as it is now (a rebuilt grid replaces ctx.grid)."""
        grid = platform.ctx.grid
        return grid.locate_one(*lonlat) if grid is not None else None

    stop = threading.Event()
    try:
        worker = VisionWorker(
            sources=load_sources(platform.settings.path(sources_file)).sources, vision=load_vision_config(),
            send=platform.detections.add, evidence_dir=platform.settings.path(platform.settings.worker.evidence_dir),
            timezone=ZoneInfo(platform.settings.calendar.timezone), cell_of=cell_of,
        )
    except (ModelUnavailableError, ConfigFileError, FileNotFoundError, SourceError) as exc:
        log.error("vision worker not started: %s", exc)  # the platform runs on without video analysis
        return None
    platform.bus.subscribe(worker.on_case_event)  # handled camera cases get a second look
    thread = threading.Thread(target=worker.run, args=(stop,), name="vision-worker", daemon=True,
                              kwargs={"post_health": platform.source_health.put,
                                      "health_every_s": platform.settings.worker.health_every_s})
    thread.start()
    return stop


def run_reply_sender(platform: Platform) -> None:
    """Forever: send the due closure replies to the hotline's webhook, every hotline.replies.every_s."""
    config = platform.settings.hotline
    while True:
        try:
            with platform.sessions() as session:
                sent = send_due_replies(session=session, config=config, now=utcnow())
            if any(sent.values()):
                log.info("hotline replies: %s", sent)
        except Exception:  # the hotline or the database away: the outbox keeps the replies for the next round
            log.exception("hotline reply round failed")
        time.sleep(config.replies.every_s)


class ImportRunner:
    """Runs uploaded work-order files' import jobs in threads of this process (app.extensions[IMPORTS_KEY])."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def start(self, platform: Platform, *, job_id: int, profile: ProfileConfig, rows: list[dict]) -> None:
        thread = threading.Thread(
            target=run_job, name=f"import-job-{job_id}", daemon=True,
            kwargs={"sessions": platform.sessions, "bus": platform.bus, "ctx": platform.ctx,
                    "config": platform.settings.hotline, "profile": profile, "job_id": job_id, "rows": rows})
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout_s: float) -> None:
        """Until this process's jobs have finished (or `timeout_s` passed for each)."""
        for thread in list(self.threads):
            thread.join(timeout_s)


IMPORTS_KEY = "gridpatrol_imports"


def import_runner(app: Flask) -> ImportRunner:
    return app.extensions.setdefault(IMPORTS_KEY, ImportRunner())
