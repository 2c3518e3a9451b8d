"""Periodic work of a web process: the overdue check."""
import logging
import time

from flask import Flask

from dispatch.case.events import commit_and_publish
from dispatch.case.service import flag_overdue
from dispatch.db import utcnow
from webapp.platform import Platform

log = logging.getLogger(__name__)


def check_overdue_once(platform: Platform) -> int:
    """Flag cases past their deadline (each once, as a timeline event) and push the events; returns how many."""
    with platform.sessions() as session:
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
