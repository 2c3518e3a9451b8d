"""Liveness, readiness and Prometheus metrics: what an operator's monitoring and load balancer ask."""
import hmac
import os
import time

import redis
from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from dispatch.case.enums import OPEN_STATUSES
from dispatch.case.models import Case
from webapp.auth import resolve_principal
from webapp.platform import Platform, current_platform
from webapp.security import LOGIN_THROTTLED

blp = Blueprint("ops", __name__)


class PlatformCollector:
    """Reads the platform's state at scrape time: open and overdue cases, report backlog, sources' rates."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self):
        open_cases = GaugeMetricFamily("gridpatrol_open_cases", "open cases by squad and overdue flag",
                                       labels=["squad", "overdue"])
        with self.platform.sessions() as session:
            rows = session.execute(
                select(Case.squad_code, Case.overdue, func.count())
                .where(Case.status.in_([s.value for s in OPEN_STATUSES])).group_by(Case.squad_code, Case.overdue)
            )
            for squad, overdue, count in rows:
                open_cases.add_metric([squad, str(bool(overdue)).lower()], count)
        yield open_cases
        backlog = GaugeMetricFamily("gridpatrol_detection_reports", "detection reports not yet taken in",
                                    labels=["state"])
        for state, count in self.platform.detections.backlog().items():
            backlog.add_metric([state], count)
        yield backlog
        yield GaugeMetricFamily("gridpatrol_detection_dead_letters",
                                "detection reports parked as never takeable (GET /api/detections/dead-letters)",
                                value=self.platform.detections.dead_count())
        fps = GaugeMetricFamily("gridpatrol_source_fps", "frames analysed per second", labels=["source", "kind"])
        age = GaugeMetricFamily("gridpatrol_source_report_age_seconds", "seconds since the worker's last report",
                                labels=["source"])
        now = time.time()
        for source_id, health in self.platform.source_health.all().items():
            fps.add_metric([source_id, health.get("kind", "")], health.get("fps", 0.0))
            age.add_metric([source_id], now - health.get("reported_at", now))
        yield fps
        yield age


def database_state(platform: Platform) -> str:
    try:
        with platform.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "down"
    return "up"


def redis_state(platform: Platform) -> str:
    url = platform.settings.redis.url
    if url is None:
        return "not configured"
    timeout = platform.settings.database.connect_timeout_s
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError:
        return "down"
    finally:
        client.close()
    return "up"


@blp.route("/healthz")
def healthz():
    """Liveness: this process answers (200 even while the database is away: restarting it would not help).

    It says whether the database answers; it reveals nothing else.
    """
    return {"status": "ok", "pid": os.getpid(), "database": database_state(current_platform())}


@blp.route("/readyz")
def readyz():
    """Readiness: 200 when the database (and Redis, when configured) answer; else 503 with Retry-After."""
    platform = current_platform()
    state = {"database": database_state(platform), "redis": redis_state(platform)}
    if "down" in state.values():
        retry_after = str(platform.settings.database.retry_after_s)
        return {"status": "unavailable", **state}, 503, {"Retry-After": retry_after}
    return {"status": "ready", **state}


def scraper_allowed() -> bool:
    """The configured metrics token (Prometheus' bearer_token), or a signed-in admin or dispatcher."""
    expected = current_platform().settings.app.metrics_token
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if expected and offered and hmac.compare_digest(offered, expected):
        return True
    principal = resolve_principal()
    return principal is not None and principal.is_centre


@blp.route("/metrics")
def metrics() -> Response:
    if not scraper_allowed():
        return Response("metrics need the metrics token or a dispatcher's sign-in\n", status=401, mimetype="text/plain")
    registry = CollectorRegistry()
    registry.register(PlatformCollector(current_platform()))
    registry.register(LOGIN_THROTTLED)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
