"""Incidents reported twice (two callers, 20 m apart, the same category) to the web processes, and what the database
made of them: the counts the merge-race and database-outage tests check."""
import random
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
import requests
from sqlalchemy import create_engine, select

from bench.load import squad_points
from dispatch.ticket.models import Ticket
from grid.geodesy import haversine_m, offset_m

TWIN_GAP_M = 20  # the second caller stands this far east of the first: well inside a 50 m merge radius
CELL_M = 250  # the demo city's cell edge
EDGE_OFFSET_M = 115  # half the incidents sit 115 m east of a cell's centre: their twins are in the next cell
TIMEOUT_S = 30


@dataclass
class Report:
    external_id: str
    incident: int
    body: dict


@dataclass
class Answer:
    external_id: str
    status: int | None
    retry_after: str | None = None
    case_id: int | None = None
    outcome: str | None = None
    error: str | None = None


@dataclass
class Incidents:
    """Incidents at distinct demo-city cells (hundreds of metres apart: none merges with another)."""

    count: int
    seed: int = 1
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        cells = [point for points in squad_points().values() for point in points]
        self.points = random.Random(self.seed).sample(with_east_neighbour(cells), self.count)

    def pairs(self, first: int = 0, last: int | None = None) -> list[tuple[Report, Report]]:
        """Both callers' reports of incidents first..last."""
        made = []
        for incident in range(first, self.count if last is None else last):
            lon, lat = offset_m(*self.points[incident], EDGE_OFFSET_M if incident % 2 else 0, 0)
            made.append(tuple(self.report(incident, caller, point)
                              for caller, point in (("a", (lon, lat)), ("b", offset_m(lon, lat, TWIN_GAP_M, 0)))))
        return made

    def report(self, incident: int, caller: str, point: tuple[float, float]) -> Report:
        external_id = f"INC-{self.run_id}-{incident:04d}-{caller}"
        body = {"source": "hotline_12345", "external_id": external_id, "category": "0501",
                "text": f"人行道上有流动摊贩占道经营（事件 {incident}，来电 {caller}）", "address": f"浉河区测试路{incident}号",
                "location": {"lon": point[0], "lat": point[1], "crs": "wgs84"}}
        return Report(external_id, incident, body)


def with_east_neighbour(centres: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Cell centres whose cell has a neighbour to the east (so a twin across the edge is still in the city)."""
    lons, lats = np.array([c[0] for c in centres]), np.array([c[1] for c in centres])
    kept = []
    for lon, lat in centres:
        east = offset_m(lon, lat, CELL_M, 0)
        if haversine_m(east[0], east[1], lons, lats).min() < CELL_M / 10:
            kept.append((lon, lat))
    return kept


def post(http: requests.Session, url: str, report: Report) -> Answer:
    try:
        answer = http.post(f"{url}/api/tickets", json=report.body, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        return Answer(report.external_id, None, error=exc.__class__.__name__)
    payload = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
    case = payload.get("case") or {}
    return Answer(report.external_id, answer.status_code, answer.headers.get("Retry-After"), case.get("id"),
                  payload.get("outcome"))


def post_pair_at_once(urls: list[str], token: str, pair: tuple[Report, Report]) -> list[Answer]:
    """The two reports at the same instant, one to each web process."""
    answers: list[Answer | None] = [None, None]
    start = threading.Barrier(2)

    def send(index: int) -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            http.get(f"{urls[index]}/healthz", timeout=TIMEOUT_S)  # the connection is open before the start
            start.wait()
            answers[index] = post(http, urls[index], pair[index])

    threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S * 2)
    return [answer for answer in answers if answer is not None]


def stored_cases(database_url: str, external_ids: list[str]) -> dict[str, list[int | None]]:
    """The case of every stored ticket with one of these external ids (a list: a doubled ticket shows twice)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Ticket.external_id, Ticket.case_id).where(
                Ticket.source == "hotline_12345", Ticket.external_id.in_(external_ids)))
            found: dict[str, list[int | None]] = {}
            for external_id, case_id in rows:
                found.setdefault(external_id, []).append(case_id)
            return found
    finally:
        engine.dispose()


def cases_by_incident(stored: dict[str, list[int | None]], reports: list[Report]) -> dict[int, set[int | None]]:
    incident_of = {report.external_id: report.incident for report in reports}
    cases: dict[int, set[int | None]] = {}
    for external_id, case_ids in stored.items():
        cases.setdefault(incident_of[external_id], set()).update(case_ids)
    return cases
