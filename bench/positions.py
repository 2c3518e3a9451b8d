"""The positions scenario of bench/load.py: many officers on patrol, each phone sending its position at a fixed interval.

    python -m bench.load --scenario positions                        # 2,000 officers every 15 s for 60 s
    python -m bench.load --scenario positions --officers 500 --duration 30

On its own deployment (two web processes on a fresh PostgreSQL database and the local Redis) it creates the officers
(spread over the demo city's squads), signs each in with a session cookie made with the deployment's secret key (as
the sign-in route makes them: 2,000 password checks and the sign-in throttle would only measure sign-in), starts their
patrols, then posts one position per officer per interval, to the web processes in turn (over `--workers` keep-alive
connections of one asyncio client: the generator shares the cores it measures), while the squads' leaders and the
centre listen to `officer_positions` on both processes. Figures: positions/s accepted, accept latency, push latency
p50/p99 (send → a watching client's push), what other squads' leaders got (must be nothing), the table's bytes per
position (measured on many rows: `storage_probe`) and its growth per day at that rate.
"""
import asyncio
import datetime as dt
import json
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import socketio
from flask import Flask, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, insert, select, text
from werkzeug.security import generate_password_hash

from dispatch.account.models import User
from webapp.auth import SEEN_KEY, SESSION_USER_KEY, SESSION_VERSION_KEY, SIGNED_IN_KEY

SQUADS = ("SQ01", "SQ02", "SQ03", "SQ04")
WATCHERS = ("dispatcher", "leader_sq01", "leader_sq02", "leader_sq03", "leader_sq04")


@dataclass
class Officer:
    user_id: int
    username: str
    squad: str
    cookie: str
    csrf: str
    lon: float
    lat: float


def create_officers(database_url: str, count: int) -> list[tuple[int, str, str]]:
    """`count` officers in the squads in turn, written straight to the database; (id, username, squad)."""
    engine = create_engine(database_url)
    password_hash = generate_password_hash(uuid.uuid4().hex)  # nobody signs in with it
    now = dt.datetime.now(dt.UTC)
    rows = [{"username": f"bench_officer_{i:05d}", "display_name": f"压测队员{i:05d}", "password_hash": password_hash,
             "role": "officer", "squad_code": SQUADS[i % len(SQUADS)], "active": True, "created_at": now,
             "session_version": 0} for i in range(count)]
    try:
        with engine.begin() as connection:
            connection.execute(insert(User), rows)
            found = connection.execute(select(User.id, User.username, User.squad_code)
                                       .where(User.username.like("bench_officer_%")).order_by(User.id)).all()
    finally:
        engine.dispose()
    return [(row.id, row.username, row.squad_code) for row in found]


def session_cookies(secret_key: str, user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """user id -> (Cookie header, CSRF token) of a fresh signed-in session, made as webapp.auth.start_session does."""
    app = Flask("bench-sessions")
    app.config["SECRET_KEY"] = secret_key
    serializer = app.session_interface.get_signing_serializer(app)
    made = {}
    now = time.time()
    for user_id in user_ids:
        with app.test_request_context():
            session.update({SESSION_USER_KEY: user_id, SESSION_VERSION_KEY: 0, SIGNED_IN_KEY: now, SEEN_KEY: now})
            session.permanent = True
            token = generate_csrf()
            made[user_id] = (f"session={serializer.dumps(dict(session))}", token)
    return made


class PositionWatcher:
    """One signed-in page's Socket.IO client, noting when each officer's position arrived."""

    def __init__(self, url: str, cookie: str, username: str) -> None:
        self.url, self.username = url, username
        self.arrived: dict[tuple[str, int], float] = {}
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=True)
        self.client.on("officer_positions", self._on_positions)
        self.client.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=20)

    def _on_positions(self, messages: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        with self.lock:
            for message in messages:
                if message.get("kind") == "position":
                    self.arrived.setdefault((message["username"], to_ms(message["at"])), now)

    def close(self) -> None:
        self.client.disconnect()
        self.client.shutdown()


def to_ms(iso: str) -> int:
    return round(dt.datetime.fromisoformat(iso).timestamp() * 1000)


@dataclass
class Sent:
    officer: Officer
    t_ms: int
    sent: float
    accepted: float | None = None
    status: int | None = None


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """One HTTP/1.1 answer: (status, whether the server keeps the connection, body)."""
    status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
    headers = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return status, headers.get("connection", "").lower() != "close", body


class PositionLoad:
    """Every officer posts its position each `interval_s`, staggered evenly, for `duration_s` (open loop), over
    `workers` keep-alive connections shared by the web processes: an asyncio client that writes the request bytes
    itself, so the generator (on the same cores as the platform) costs little beside what it measures."""

    def __init__(self, *, urls: list[str], officers: list[Officer], interval_s: float, duration_s: float,
                 workers: int, seed: int = 1, timeout_s: float = 15) -> None:
        self.urls, self.officers, self.interval_s, self.duration_s = urls, officers, interval_s, duration_s
        self.workers, self.timeout_s = workers, timeout_s
        self.random = random.Random(seed)
        self.sent: list[Sent] = []
        self.late = 0
        self.sending_s = 0.0  # how long the sending took (the answers may come later)

    @staticmethod
    def request(url: str, item: Sent) -> bytes:
        officer = item.officer
        at = dt.datetime.fromtimestamp(item.t_ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
        body = json.dumps({"positions": [{"at": at, "lon": officer.lon, "lat": officer.lat, "accuracy": 10}]}).encode()
        head = (f"POST /api/patrol/positions HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nCookie: {officer.cookie}\r\n"
                f"X-CSRFToken: {officer.csrf}\r\n\r\n")
        return head.encode() + body

    async def _connection(self, url: str, queue: asyncio.Queue) -> None:
        """One keep-alive connection posting what `queue` hands it; a connection the server closed is opened again
        and the position sent once more (it is stored once by its (officer, time) key)."""
        address = urlsplit(url)
        reader = writer = None
        while (item := await queue.get()) is not None:
            for attempt in range(2):
                reused = writer is not None
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(address.hostname, address.port)
                    writer.write(self.request(url, item))
                    status, keep, body = await asyncio.wait_for(read_answer(reader), self.timeout_s)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    if reused and attempt == 0:
                        continue
                    break
                item.status = status
                if status == 200 and json.loads(body).get("accepted") == 1:
                    item.accepted = time.monotonic()
                if not keep:
                    writer.close()
                    reader = writer = None
                break
        if writer is not None:
            writer.close()

    async def _send(self) -> None:
        slots = int(len(self.officers) * self.duration_s / self.interval_s)
        gap = self.interval_s / len(self.officers)
        queues = [asyncio.Queue() for _ in self.urls]
        connections = [asyncio.create_task(self._connection(self.urls[i % len(self.urls)], queues[i % len(self.urls)]))
                       for i in range(max(self.workers, len(self.urls)))]
        start = time.monotonic()
        for index in range(slots):
            delay = start + index * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                self.late += 1
            officer = self.officers[index % len(self.officers)]
            officer.lon += self.random.uniform(-2e-5, 2e-5)  # a few metres' walk per fix
            officer.lat += self.random.uniform(-2e-5, 2e-5)
            item = Sent(officer=officer, t_ms=round(time.time() * 1000), sent=time.monotonic())
            self.sent.append(item)
            queues[index % len(self.urls)].put_nowait(item)
        self.sending_s = time.monotonic() - start
        for index in range(len(connections)):
            queues[index % len(self.urls)].put_nowait(None)
        await asyncio.gather(*connections)

    def run(self) -> float:
        """Send every position; returns the seconds it took, until the last answer."""
        start = time.monotonic()
        asyncio.run(self._send())
        return time.monotonic() - start


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


SERVERS = {"postgres": "postgres", "redis-server": "redis"}  # process name -> figure


def servers_cpu_seconds() -> dict[str, float]:
    """User + system CPU seconds of this machine's PostgreSQL and Redis processes (Linux /proc; whoever else uses
    them counts too, and a backend that exits between two readings drops out)."""
    found = dict.fromkeys(SERVERS.values(), 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except OSError:
            continue
        if name in SERVERS:
            found[SERVERS[name]] += sum(int(value) for value in fields.split()[11:13]) / os.sysconf("SC_CLK_TCK")
    return found


def table_bytes(database_url: str) -> tuple[int, int]:
    """(rows, bytes with indexes) of patrol_positions, after VACUUM ANALYZE so the size is settled."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE patrol_positions"))
            rows = connection.scalar(text("SELECT count(*) FROM patrol_positions"))
            size = connection.scalar(text("SELECT pg_total_relation_size('patrol_positions')"))
    finally:
        engine.dispose()
    return int(rows), int(size)


def storage_probe(database_url: str, *, fixes_per_officer: int, interval_s: float) -> tuple[int, float]:
    """Bytes per position on disk, measured on many rows: every bench officer's fixes of an earlier day, written as
    phones send them (all officers' fix 1, then all officers' fix 2, ...), then VACUUM ANALYZE. The load's own rows
    are too few: PostgreSQL extends a busy table by many pages at once, so a small delta says little."""
    rows_before, bytes_before = table_bytes(database_url)
    engine = create_engine(database_url)
    day_before = round((time.time() - 2 * 86400) * 1000)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patrol_positions (user_id, t_ms, patrol_id, lon_u, lat_u, accuracy_m) "
                "SELECT p.user_id, :start + fix * :step, p.id, 114050000 + (random() * 20000)::int, "
                "32120000 + (random() * 20000)::int, 10 "
                "FROM generate_series(1, :fixes) AS fix CROSS JOIN patrols p ORDER BY fix, p.user_id"),
                {"start": day_before, "step": round(interval_s * 1000), "fixes": fixes_per_officer})
    finally:
        engine.dispose()
    rows_after, bytes_after = table_bytes(database_url)
    return rows_after - rows_before, (bytes_after - bytes_before) / max(1, rows_after - rows_before)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))], 1)


def push_latencies(load: PositionLoad, watchers: dict[str, list[PositionWatcher]],
                   squad_of: dict[str, str | None]) -> tuple[list[float], int, int]:
    """Send → push milliseconds for each accepted position at each client allowed to see it; how many such pairs got
    nothing; and how many positions reached a client of another squad (must be 0)."""
    latencies, missing, leaked = [], 0, 0
    for item in load.sent:
        if item.accepted is None:
            continue
        key = (item.officer.username, item.t_ms)
        for username, clients in watchers.items():
            allowed = squad_of[username] in (None, item.officer.squad)
            for client in clients:
                arrived = client.arrived.get(key)
                if not allowed:
                    leaked += arrived is not None
                elif arrived is None:
                    missing += 1
                else:
                    latencies.append((arrived - item.sent) * 1000)
    return latencies, missing, leaked


def run_positions(*, deployment, webs: list, database_url: str, credentials: dict, args) -> dict[str, Any]:
    """The scenario on a running deployment (bench.load starts it and its web processes `webs`); the figures."""
    urls = [web.url for web in webs]
    from bench.load import cpu_seconds, sign_in, squad_points  # bench.load runs this module: no import cycle at load

    officers_made = create_officers(database_url, args.officers)
    made = session_cookies(deployment.secret_key, [user_id for user_id, _, _ in officers_made])
    points = squad_points()
    rng = random.Random(7)
    officers = []
    for uid, name, squad in officers_made:
        lon, lat = rng.choice(points[squad])
        officers.append(Officer(user_id=uid, username=name, squad=squad, cookie=made[uid][0], csrf=made[uid][1],
                                lon=lon, lat=lat))
    squad_of = {user: credentials["users"][user]["squad"] for user in WATCHERS}
    watchers = {user: [PositionWatcher(url, sign_in(urls[0], user, credentials["users"][user]["password"]), user)
                       for url in urls] for user in WATCHERS}
    print(f"{len(officers)} officers signed in; {sum(len(c) for c in watchers.values())} watching clients")
    with ThreadPoolExecutor(32) as pool:
        starts = list(pool.map(lambda o: requests.post(f"{urls[o.user_id % len(urls)]}/api/patrol/start", timeout=30,
                                                        headers={"Cookie": o.cookie, "X-CSRFToken": o.csrf}).status_code,
                               officers))
    # One interval of warm-up (each phone's first fix) fills the table's fixed pages; growth is measured after it.
    PositionLoad(urls=urls, officers=officers, interval_s=args.interval, duration_s=args.interval,
                 workers=args.workers, seed=2).run()
    rows_before, _ = table_bytes(database_url)
    load = PositionLoad(urls=urls, officers=officers, interval_s=args.interval, duration_s=args.duration,
                        workers=args.workers)
    cpu_before = {web.pid: cpu_seconds(web.pid) for web in webs}
    own_before, servers_before = own_cpu_seconds(), servers_cpu_seconds()
    elapsed = load.run()
    cpu_used = {web.name: round((cpu_seconds(web.pid) or 0) - (cpu_before[web.pid] or 0), 2) for web in webs}
    own_used = own_cpu_seconds() - own_before
    servers_used = {name: round(used - servers_before[name], 2) for name, used in servers_cpu_seconds().items()}
    time.sleep(args.settle)
    rows_after, _ = table_bytes(database_url)
    latencies, missing, leaked = push_latencies(load, watchers, squad_of)
    probe_rows, per_row = storage_probe(database_url, fixes_per_officer=args.probe_fixes, interval_s=args.interval)
    for clients in watchers.values():
        for client in clients:
            client.close()
    accepted = [s for s in load.sent if s.accepted is not None]
    accept_ms = [(s.accepted - s.sent) * 1000 for s in accepted]
    stored = rows_after - rows_before
    per_day = len(officers) * 86400 / args.interval
    return {
        "officers": len(officers), "patrols_started": sum(1 for s in starts if s == 200),
        "interval_s": args.interval, "positions_sent": len(load.sent), "positions_accepted": len(accepted),
        "positions_per_s_offered": round(len(load.sent) / load.sending_s, 1),
        "seconds_until_last_answer": round(elapsed, 1),
        "positions_per_s_accepted": round(len(accepted) / elapsed, 1),
        "errors": len(load.sent) - len(accepted),
        "status_counts": {str(k): sum(1 for s in load.sent if s.status == k) for k in {s.status for s in load.sent}},
        "late_sends": load.late,
        "accept_latency_ms": {"p50": percentile(accept_ms, 50), "p99": percentile(accept_ms, 99)},
        "push_latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                            "max": percentile(latencies, 100), "pairs": len(latencies), "missing_pairs": missing},
        "pushed_to_other_squads": leaked,
        "rows_stored": stored, "storage_probe_rows": probe_rows, "table_bytes_per_position": round(per_row, 1),
        "db_growth_per_day_mb": {"all_day": round(per_row * per_day / 1e6, 1),
                                 "8h_patrols": round(per_row * per_day / 3 / 1e6, 1)},
        "web_cpu_seconds_during_load": cpu_used,
        "web_cpu_ms_per_position": round(sum(cpu_used.values()) * 1000 / max(1, len(load.sent)), 2),
        "generator_cpu_seconds_during_load": round(own_used, 2),  # this process: the phones and the watching clients
        "server_cpu_seconds_during_load": servers_used,  # this machine's PostgreSQL and Redis processes
    }
