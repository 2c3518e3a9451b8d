"""Servers a test starts, stops and restarts itself: a private redis-server and a private PostgreSQL cluster, each on
a free port and in a folder of its own. Fault tests break these, never a server the suite did not start."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from tests.requirements import missing

START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout_s:.0f} s")


class PrivateRedis:
    """redis-server on a free loopback port, no persistence: a restart loses every key, as `shutdown nosave` does."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            missing("redis-server (to start a private Redis)")
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        log = open(self.folder / "redis.log", "a", encoding="utf-8")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(self.answers, START_TIMEOUT_S, f"the private Redis on port {self.port} did not answer")

    def stop(self) -> None:
        """Gone at once, nothing saved (the process ends; its port is free for a start again)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            redis.Redis(port=self.port, socket_timeout=5).shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # shutting down closes the connection before it answers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    @classmethod
    @contextmanager
    def running(cls) -> Iterator["PrivateRedis"]:
        folder = Path(tempfile.mkdtemp(prefix="gridpatrol-redis-"))
        server = None
        try:
            server = cls(folder)
            server.start()
            yield server
        finally:
            if server is not None:
                server.stop()
            shutil.rmtree(folder, ignore_errors=True)


def postgres_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else the newest Debian cluster's (/usr/lib/postgresql/<v>/bin)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                    key=lambda p: int(p.split("/")[4]), reverse=True)), None)
    if found is None:
        missing(f"PostgreSQL's {name} (to start a private PostgreSQL)")
    return found


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb) on a free loopback port, trust authentication, user postgres.

    PostgreSQL refuses to run as root: under root the programs run as the `postgres` account (runuser).
    """

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.data = folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
                missing("a 'postgres' account and runuser (PostgreSQL does not run as root)")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_user, postgres_bin(program), *args], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "postgres.log"),
                  "-t", str(START_TIMEOUT_S), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: every session is cut off at once, as in a database failover."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-t", str(START_TIMEOUT_S), "-w", "stop")

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    @classmethod
    @contextmanager
    def running(cls) -> Iterator["PrivatePostgres"]:
        # Not under pytest's tmp_path: its parents are private to the test's user, and the server may run as another.
        folder = Path(tempfile.mkdtemp(prefix="gridpatrol-pg-"))
        server = None
        try:
            server = cls(folder)
            server.start()
            yield server
        finally:
            if server is not None and (server.data / "postmaster.pid").exists():
                server.stop()
            shutil.rmtree(folder, ignore_errors=True)
