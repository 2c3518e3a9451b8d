"""Load on several web processes: tickets at a fixed rate while Socket.IO dashboards listen.

    python -m bench.load                      # 20 tickets/s for 30 s, 2 web processes, 200 clients
    python -m bench.load --rate 50 --duration 60 --clients 400 --web 4

It starts its own deployment (webapp.deploy) on a fresh PostgreSQL database and the local Redis,
posts hotline tickets (the demo hotline token) to the web processes in turn, spread over the
demo city's squads at cell centroids, while the clients (demo dispatcher and squad leaders,
signed in through /api/auth/login) listen to `case_event` on both processes. It prints and
writes (bench/results/load_<time>.json): accepted/s, p50/p99 latency to accept, p99 latency until
the owning squad's clients get the event, errors, and "nothing lost, nothing doubled" checks
against the database. The building blocks (Listener, TicketLoad, check_*) serve tests/scale.
"""
import argparse
import datetime as dt
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import socketio
from sqlalchemy import create_engine, func, select, text

from dispatch.case.models import Case, CaseEvent
from dispatch.ticket.models import Ticket

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get("GRIDPATROL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("GRIDPATROL_BENCH_REDIS", "redis://127.0.0.1:6379/14")
LISTENER_USERS = ("dispatcher", "leader_sq01", "leader_sq02", "leader_sq03", "leader_sq04")
DISPATCH_ROOM = "dispatch"
RESUME_MARGIN = 100  # the pages' RESUME_MARGIN (webapp/static/js/gp.js)


# ---------------------------------------------------------------- where tickets go

def squad_points() -> dict[str, list[tuple[float, float]]]:
    """The demo city's cell centroids (WGS-84) by squad code."""
    from grid.demo import (
        demo_city,  # geopandas is slow to import; only the generator needs it
    )

    cells, _ = demo_city()
    utm = cells.estimate_utm_crs()
    centroids = cells.to_crs(utm).geometry.centroid.to_crs(cells.crs)  # centroids in metres, not degrees
    points: dict[str, list[tuple[float, float]]] = {}
    for squad, point in zip(cells["squad_code"], centroids):
        points.setdefault(squad, []).append((float(point.x), float(point.y)))
    return points


# ---------------------------------------------------------------- dashboards

def sign_in(base_url: str, username: str, password: str) -> str:
    """A Cookie header of a signed-in session (good at every web process: they share the secret key)."""
    with requests.Session() as http:
        answer = http.post(f"{base_url}/api/auth/login", json={"username": username, "password": password}, timeout=30)
        answer.raise_for_status()
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


@dataclass
class Seen:
    """One case event as a client got it."""

    case_id: int
    at: str
    arrived: float  # time.monotonic()
    pushed: bool  # live push (True) or catch-up after a (re)connect (False)


class Listener:
    """A dashboard: one Socket.IO client that catches up on every (re)connect by the pages' rule (gp.js, GP.live)."""

    def __init__(self, *, url: str, cookie: str, room: str, resume_margin: int = RESUME_MARGIN) -> None:
        self.url, self.cookie, self.room = url, cookie, room
        # Catch up from the largest id seen when the link dropped, minus this margin: ids are taken before commit,
        # so commits land out of order, and a push can arrive before the connect event. Duplicates drop by id.
        self.resume_margin = resume_margin
        self.resume_from = 0
        self.seen: dict[int, Seen] = {}
        self.lock = threading.Lock()
        self.connects = 0
        self.catch_ups = 0
        self.client = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=0.5,
                                      reconnection_delay_max=2, randomization_factor=0.3)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on("case_event", self._on_event)

    def connect(self, timeout_s: float = 20) -> None:
        self.client.connect(self.url, headers={"Cookie": self.cookie}, transports=["websocket"],
                            wait_timeout=timeout_s)

    def last_seen(self) -> int:
        with self.lock:
            return max(self.seen, default=0)

    def _on_disconnect(self, *_reason) -> None:
        self.resume_from = self.last_seen()

    def _on_connect(self) -> None:
        self.connects += 1
        self._catch_up(max(0, self.resume_from - self.resume_margin))

    def _catch_up(self, after_id: int) -> None:
        self.client.emit("catch_up", {"after_id": after_id}, callback=self._on_catch_up)

    def _on_catch_up(self, answer: dict) -> None:
        self.catch_ups += 1
        events = answer.get("events", [])
        for message in events:
            self._record(message, pushed=False)
        if events and not answer.get("complete", True):
            self._catch_up(max(m["id"] for m in events))

    def _on_event(self, message: dict) -> None:
        self._record(message, pushed=True)

    def _record(self, message: dict, *, pushed: bool) -> None:
        now = time.monotonic()
        with self.lock:
            if message["id"] not in self.seen:
                self.seen[message["id"]] = Seen(message["case"]["id"], message["at"], now, pushed)

    @property
    def connected(self) -> bool:
        return self.client.connected

    def close(self) -> None:
        self.client.disconnect()
        self.client.shutdown()


def start_listeners(*, urls: list[str], cookies: dict[str, str], rooms: dict[str, str], count: int,
                    parallel: int = 8, resume_margin: int = RESUME_MARGIN) -> list[Listener]:
    """`count` listeners, users in turn over LISTENER_USERS and processes in turn over `urls`."""
    users = list(cookies)
    listeners = [Listener(url=urls[i % len(urls)], cookie=cookies[users[i % len(users)]],
                          room=rooms[users[i % len(users)]], resume_margin=resume_margin) for i in range(count)]
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda listener: listener.connect(), listeners))
    return listeners


def stop_listeners(listeners: list[Listener]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda listener: listener.close(), listeners))


# ---------------------------------------------------------------- tickets

@dataclass
class Posted:
    """One ticket's fate at the generator."""

    external_id: str
    squad: str
    sent: float  # monotonic, first attempt
    accepted: float | None = None  # monotonic, the 2xx answer
    status: int | None = None
    case_id: int | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


class TicketLoad:
    """Posts tickets at a fixed rate for a fixed time, to the web processes in turn (open loop, bounded pool).

    A ticket that meets a dead process or a 5xx is sent again, same external id, to the next process
    (`retries` times): the platform's intake is idempotent by (source, external id).
    """

    def __init__(self, *, urls: list[str], token: str, rate: float, duration_s: float, retries: int = 0,
                 workers: int = 32, timeout_s: float = 10.0, seed: int = 1) -> None:
        self.urls, self.token, self.rate, self.duration_s = urls, token, rate, duration_s
        self.retries, self.workers, self.timeout_s = retries, workers, timeout_s
        self.random = random.Random(seed)
        self.points = squad_points()
        self.squads = sorted(self.points)
        self.run_id = uuid.uuid4().hex[:8]
        self.posted: list[Posted] = []
        self.late = 0  # tickets sent more than 100 ms after their slot (the box could not keep the rate)
        self.local = threading.local()
        self.sessions: list[requests.Session] = []
        self.sessions_lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def _http(self) -> requests.Session:
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
            self.local.http.headers["Authorization"] = f"Bearer {self.token}"
            with self.sessions_lock:
                self.sessions.append(self.local.http)
        return self.local.http

    def _post(self, index: int, posted: Posted, lon: float, lat: float) -> None:
        body = {"source": "hotline_12345", "external_id": posted.external_id, "category": "0501",
                "text": "人行道上有流动摊贩占道经营（压测）", "address": f"浉河区压测路{index}号",
                "location": {"lon": lon, "lat": lat, "crs": "wgs84"}}
        for attempt in range(self.retries + 1):
            url = self.urls[(index + attempt) % len(self.urls)]
            posted.attempts += 1
            try:
                answer = self._http().post(f"{url}/api/tickets", json=body, timeout=self.timeout_s)
            except requests.RequestException as exc:
                posted.errors.append(f"{url}: {exc.__class__.__name__}")
                continue
            if 200 <= answer.status_code < 300:
                posted.accepted, posted.status = time.monotonic(), answer.status_code
                case = answer.json().get("case")
                posted.case_id = case["id"] if case else None
                return
            posted.status = answer.status_code
            posted.errors.append(f"{url}: HTTP {answer.status_code}")
            if answer.status_code < 500:
                return  # refused for a reason another process would give too

    def run(self) -> None:
        """Post every ticket (blocks for about duration_s, then waits for the answers)."""
        total = int(self.rate * self.duration_s)
        with ThreadPoolExecutor(self.workers) as pool:
            start = time.monotonic()
            for index in range(total):
                slot = start + index / self.rate
                delay = slot - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -0.1:
                    self.late += 1
                squad = self.squads[index % len(self.squads)]
                lon, lat = self.random.choice(self.points[squad])
                posted = Posted(external_id=f"LOAD-{self.run_id}-{index:06d}", squad=squad, sent=time.monotonic())
                self.posted.append(posted)
                pool.submit(self._post, index, posted, lon, lat)
        with self.sessions_lock:
            for http in self.sessions:
                http.close()

    def start(self) -> "TicketLoad":
        self.thread = threading.Thread(target=self.run, name="ticket-load")
        self.thread.start()
        return self

    def join(self, timeout_s: float) -> None:
        assert self.thread is not None
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            raise TimeoutError("the ticket load did not finish in time")


# ---------------------------------------------------------------- checks against the database

def stored_tickets(database_url: str, external_ids: list[str]) -> dict[str, int]:
    """How many tickets the database holds per external id (hotline source)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Ticket.external_id, func.count()).where(
                Ticket.source == "hotline_12345", Ticket.external_id.in_(external_ids)).group_by(Ticket.external_id))
            return {external_id: count for external_id, count in rows}
    finally:
        engine.dispose()


def stored_events(database_url: str) -> dict[int, tuple[str, int, dt.datetime]]:
    """Every case event: id -> (squad code, case id, at as the messages give it)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(CaseEvent.id, Case.squad_code, Case.id, CaseEvent.at)
                                      .join(Case, CaseEvent.case_id == Case.id))
            return {event_id: (squad, case_id, instant(at.isoformat())) for event_id, squad, case_id, at in rows}
    finally:
        engine.dispose()


def instant(iso: str) -> dt.datetime:
    """An ISO time as an aware UTC datetime (the database and the messages may spell the zone differently)."""
    at = dt.datetime.fromisoformat(iso)
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def room_events(events: dict[int, tuple[str, int, dt.datetime]], room: str) -> set[int]:
    return {event_id for event_id, (squad, _, _) in events.items() if room == DISPATCH_ROOM or room == f"squad:{squad}"}


def own_seen(listener: Listener, events: dict[int, tuple[str, int, dt.datetime]]) -> dict[int, Seen]:
    """What the listener saw of this deployment's events: another deployment on the same Redis server publishes
    on the same channel (pub/sub ignores the database number), so its events are told apart by case and time."""
    with listener.lock:
        return {event_id: seen for event_id, seen in listener.seen.items()
                if event_id in events and events[event_id][1:] == (seen.case_id, instant(seen.at))}


def missed_events(listeners: list[Listener], events: dict[int, tuple[str, int, dt.datetime]]) -> dict[int, list[int]]:
    """Per listener (index) the events of its room it never got, pushed or caught up."""
    missed = {}
    for index, listener in enumerate(listeners):
        gap = sorted(room_events(events, listener.room) - set(own_seen(listener, events)))
        if gap:
            missed[index] = gap
    return missed


def wait_for_quiet(listeners: list[Listener], events_count: Callable[[], dict], *, timeout_s: float) -> None:
    """Until every listener has as many events as its room holds, or timeout_s (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = events_count()
        if not missed_events(listeners, events):
            return
        time.sleep(0.5)


# ---------------------------------------------------------------- figures

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def delivery_latencies(posted: list[Posted], listeners: list[Listener],
                       events: dict[int, tuple[str, int, dt.datetime]]) -> tuple[list[float], int]:
    """Seconds from sending each accepted ticket to each of its squad's clients' first live push of its case;
    and how many (ticket, client) pairs got the case only by catch-up or not at all."""
    first: list[dict[int, Seen]] = []
    for listener in listeners:
        by_case: dict[int, Seen] = {}
        for event_id, seen in sorted(own_seen(listener, events).items()):
            by_case.setdefault(seen.case_id, seen)
        first.append(by_case)
    latencies, not_pushed = [], 0
    for ticket in posted:
        if ticket.case_id is None:
            continue
        for listener, by_case in zip(listeners, first):
            if listener.room != f"squad:{ticket.squad}":
                continue
            seen = by_case.get(ticket.case_id)
            if seen is None or not seen.pushed:
                not_pushed += 1
            else:
                latencies.append(seen.arrived - ticket.sent)
    return latencies, not_pushed


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process and its children (gunicorn's worker) (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) or 0.0 for child in children)


def summarise(load: TicketLoad, listeners: list[Listener], database_url: str, elapsed_s: float) -> dict[str, Any]:
    posted = load.posted
    accepted = [p for p in posted if p.accepted is not None]
    stored = stored_tickets(database_url, [p.external_id for p in posted])
    events = stored_events(database_url)
    latencies, not_pushed = delivery_latencies(accepted, listeners, events)
    accept_ms = [(p.accepted - p.sent) * 1000 for p in accepted]
    missed = missed_events(listeners, events)
    return {
        "tickets_sent": len(posted),
        "tickets_accepted": len(accepted),
        "accepted_per_s": round(len(accepted) / elapsed_s, 2),
        "accept_latency_ms": {"p50": percentile(accept_ms, 50), "p99": percentile(accept_ms, 99),
                              "max": max(accept_ms, default=None)},
        "delivery_latency_ms": {"p50": percentile([x * 1000 for x in latencies], 50),
                                "p99": percentile([x * 1000 for x in latencies], 99),
                                "max": max(latencies, default=0) * 1000 if latencies else None,
                                "pairs": len(latencies), "not_pushed_pairs": not_pushed},
        "errors": sum(1 for p in posted if p.accepted is None),
        "error_samples": [e for p in posted for e in p.errors][:10],
        "retried": sum(1 for p in posted if p.attempts > 1),
        "late_sends": load.late,
        "accepted_missing_in_db": sorted(p.external_id for p in accepted if stored.get(p.external_id, 0) == 0),
        "doubled_in_db": sorted(k for k, v in stored.items() if v > 1),
        "case_events_in_db": len(events),
        "listeners": len(listeners),
        "listeners_connected": sum(listener.connected for listener in listeners),
        "listeners_missing_events": len(missed),
        "events_missed_total": sum(len(v) for v in missed.values()),
        "missing_detail": [{"listener": i, "url": listeners[i].url, "room": listeners[i].room,
                            "connects": listeners[i].connects, "catch_ups": listeners[i].catch_ups,
                            "missed": len(gap), "missed_ids": [gap[0], gap[-1]],
                            "last_seen": listeners[i].last_seen()} for i, gap in list(missed.items())[:10]],
    }


# ---------------------------------------------------------------- the benchmark run

@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the local server, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gridpatrol_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def write_city_config(instance_dir: Path, merge_radius_m: float = 0) -> Path:
    """Settings for a load run: its own instance folder and channel; no merging (by default), so every ticket opens
    its own case."""
    path = instance_dir / "city.yaml"
    instance_dir.mkdir(parents=True, exist_ok=True)
    # A case-events channel of its own: pub/sub channels are shared by every database number of a Redis server.
    channel = f"gridpatrol:case-events:load-{uuid.uuid4().hex[:8]}"
    path.write_text(f"app:\n  instance_dir: {instance_dir}\ndispatch:\n  merge_radius_m: {merge_radius_m:g}\n"
                    f"redis:\n  events_channel: '{channel}'\n", encoding="utf-8")
    return path


def scrape_metrics(url: str, token: str) -> dict[str, float]:
    """The platform's own Prometheus gauges (comments dropped)."""
    answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    values = {}
    for line in answer.text.splitlines():
        if line.startswith("gridpatrol_"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from webapp.deploy import Deployment, wait_healthy

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    instance = Path(args.workdir) / f"load_{stamp}"
    metrics_token = uuid.uuid4().hex
    with fresh_database() as database_url:
        deployment = Deployment(database_url=database_url, redis_url=args.redis_url,
                                config_file=str(write_city_config(instance)), metrics_token=metrics_token,
                                log_dir=instance / "logs", server=args.server, threads=args.threads)
        listeners: list[Listener] = []
        try:
            # The first process migrates and seeds the demo city; the others start on a built database.
            first = deployment.start(deployment.web(args.base_port))
            wait_healthy(first.url, process=first.process, timeout_s=120)
            webs = [first] + [deployment.start(deployment.web(args.base_port + i)) for i in range(1, args.web)]
            for child in webs:
                wait_healthy(child.url, process=child.process, timeout_s=120)
            urls = [child.url for child in webs]
            print(f"web processes: {', '.join(urls)} (logs in {instance / 'logs'})")
            credentials = json.loads((instance / "demo-credentials.json").read_text(encoding="utf-8"))
            if args.scenario == "positions":
                from bench.positions import run_positions

                figures = run_positions(deployment=deployment, webs=webs, database_url=database_url,
                                        credentials=credentials, args=args)
                return {"benchmark": "load-positions", "at": stamp, "settings": {
                    "officers": args.officers, "interval_s": args.interval, "duration_s": args.duration,
                    "web": args.web, "server": args.server, "generator_workers": args.workers, "redis": args.redis_url},
                        "figures": figures, "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()}}
            cookies = {user: sign_in(urls[0], user, credentials["users"][user]["password"]) for user in LISTENER_USERS}
            rooms = {user: DISPATCH_ROOM if credentials["users"][user]["squad"] is None
                     else f"squad:{credentials['users'][user]['squad']}" for user in LISTENER_USERS}
            started = time.monotonic()
            listeners = start_listeners(urls=urls, cookies=cookies, rooms=rooms, count=args.clients,
                                        resume_margin=args.resume_margin)
            print(f"{len(listeners)} clients connected in {time.monotonic() - started:.1f} s")
            load = TicketLoad(urls=urls, token=credentials["tokens"]["hotline-gateway"], rate=args.rate,
                              duration_s=args.duration, workers=args.workers)
            cpu_before = {c.pid: cpu_seconds(c.pid) for c in webs}
            load_before = os.getloadavg()
            started = time.monotonic()
            load.run()
            elapsed = time.monotonic() - started
            load_after = os.getloadavg()
            cpu_used = {c.name: round((cpu_seconds(c.pid) or 0) - (cpu_before[c.pid] or 0), 2) for c in webs}
            wait_for_quiet(listeners, lambda: stored_events(database_url), timeout_s=args.settle)
            figures = summarise(load, listeners, database_url, elapsed)
            metrics = {child.url: scrape_metrics(child.url, metrics_token) for child in webs}
        finally:
            stop_listeners(listeners)
            deployment.stop()
    return {
        "benchmark": "load", "at": stamp, "server": {"serve": "python -m webapp serve per port (webapp.deploy)",
                                               "gunicorn": f"gunicorn -w 1 --threads {args.threads} 'webapp:create_app()' per port"}[args.server],
        "settings": {"rate_per_s": args.rate, "duration_s": args.duration, "clients": args.clients, "web": args.web,
                     "generator_workers": args.workers, "resume_margin": args.resume_margin, "merge_radius_m": 0, "redis": args.redis_url},
        "figures": figures,
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after,
                    "web_cpu_seconds_during_load": cpu_used},
        "metrics_after": metrics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["tickets", "positions"], default="tickets",
                        help="tickets (hotline tickets to dashboards) or positions (officers on patrol: bench/positions.py)")
    parser.add_argument("--officers", type=int, default=2000, help="positions: officers on patrol (default 2000)")
    parser.add_argument("--interval", type=float, default=15, help="positions: seconds between one phone's fixes (15)")
    parser.add_argument("--probe-fixes", type=int, default=100,
                        help="positions: fixes per officer written straight to the table to measure bytes/position")
    parser.add_argument("--rate", type=float, default=20, help="tickets per second (default 20)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (default 30)")
    parser.add_argument("--clients", type=int, default=200, help="Socket.IO clients listening (default 200)")
    parser.add_argument("--web", type=int, default=2, help="web processes (default 2)")
    parser.add_argument("--base-port", type=int, default=5200, help="first web port (default 5200)")
    parser.add_argument("--server", choices=["serve", "gunicorn"], default="serve",
                        help="web process kind (default serve; gunicorn: -w 1 --threads 100, needs gunicorn installed)")
    parser.add_argument("--threads", type=int, default=100,
                        help="gunicorn threads per process; each websocket holds one (default 100)")
    parser.add_argument("--resume-margin", type=int, default=RESUME_MARGIN,
                        help="clients catch up from the largest id seen when the link dropped minus this margin "
                             f"(default {RESUME_MARGIN}, as the pages do)")
    parser.add_argument("--workers", type=int, default=32, help="generator threads; positions: keep-alive connections (default 32)")
    parser.add_argument("--settle", type=float, default=30, help="seconds to wait for the last events (default 30)")
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis (default {REDIS_URL})")
    parser.add_argument("--workdir", default="/tmp/gridpatrol-bench", help="instance folders and logs")
    parser.add_argument("--output", default=None, help="JSON file (default bench/results/load_<time>.json)")
    args = parser.parse_args()
    result = run_benchmark(args)
    name = "load_positions" if args.scenario == "positions" else "load"
    output = Path(args.output) if args.output else RESULTS / f"{name}_{result['at']}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    f = result["figures"]
    if args.scenario == "positions":
        print(f"positions accepted {f['positions_accepted']}/{f['positions_sent']} ({f['positions_per_s_accepted']}/s), "
              f"push p99 {f['push_latency_ms']['p99']} ms, {f['table_bytes_per_position']} bytes/position, "
              f"{f['db_growth_per_day_mb']['all_day']} MB/day; written: {output}")
        return
    print(f"accepted {f['tickets_accepted']}/{f['tickets_sent']} ({f['accepted_per_s']}/s), errors {f['errors']}, "
          f"accept p50 {f['accept_latency_ms']['p50']:.0f} ms p99 {f['accept_latency_ms']['p99']:.0f} ms, "
          f"delivery p99 {f['delivery_latency_ms']['p99'] or float('nan'):.0f} ms "
          f"({f['delivery_latency_ms']['pairs']} pairs, {f['delivery_latency_ms']['not_pushed_pairs']} not pushed), "
          f"lost in db {len(f['accepted_missing_in_db'])}, doubled {len(f['doubled_in_db'])}, "
          f"clients missing events {f['listeners_missing_events']}, load {result['machine']['loadavg_after']}")
    print(f"written: {output}")


if __name__ == "__main__":
    main()
