"""`python -m webapp deploy`: several web processes and vision workers on one Redis and one PostgreSQL.

The launcher starts them, prints their URLs, restarts none (a dead process is reported and stays
dead: restarting is the supervisor's decision, systemd or Kubernetes) and stops all on Ctrl-C or
SIGTERM. The building blocks (`Deployment`, `wait_healthy`) are what the scale tests and
`bench/load.py` use, so the tests exercise the launcher's own process handling.
"""
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import click
import requests
from flask.cli import with_appcontext

from webapp.platform import current_platform

ROOT = Path(__file__).resolve().parents[1]
STOP_GRACE_S = 10.0


@dataclass
class Child:
    """One process of the deployment: a web process on a port, or a vision worker on a sources file."""

    name: str
    args: list[str]
    env: dict[str, str]
    url: str | None = None
    process: subprocess.Popen | None = None
    log: IO | None = None
    reported: bool = False  # its exit has been reported once

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Deployment:
    """The processes of one multi-process deployment. `log_dir=None` lets them write to our stdout."""

    database_url: str
    redis_url: str
    host: str = "127.0.0.1"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    metrics_token: str | None = None
    config_file: str | None = None
    log_dir: Path | None = None
    server: str = "serve"  # "serve" (built-in, runs the report consumer) or "gunicorn" (-w 1 --threads N)
    threads: int = 100  # gunicorn: each open websocket holds a thread, so this must exceed the clients per process
    children: list[Child] = field(default_factory=list)

    def base_env(self) -> dict[str, str]:
        # Every web process signs sessions with the same key: a cookie from one is good at the others.
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "GRIDPATROL_SECRET_KEY": self.secret_key}
        env.pop("GRIDPATROL_SOURCES", None)  # web processes run no vision worker inside: workers are their own processes
        env.pop("FLASK_RUN_FROM_CLI", None)
        if self.metrics_token:
            env["GRIDPATROL_METRICS_TOKEN"] = self.metrics_token
        if self.config_file:
            env["GRIDPATROL_CONFIG"] = self.config_file
        return env

    def web(self, port: int) -> Child:
        """Add (not start) a web process on `port`."""
        if self.server == "gunicorn":
            # Flask-SocketIO's threading mode under gunicorn: one worker process, many threads, websocket via
            # simple-websocket. Runs only the app: no report consumer and no overdue checks (`serve` starts those).
            args = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", str(self.threads), "-b", f"{self.host}:{port}",
                    "webapp:create_app()"]
        else:
            args = [sys.executable, "-m", "webapp", "serve", "--host", self.host, "--port", str(port)]
        child = Child(name=f"web:{port}", args=args, env=self.base_env(), url=f"http://{self.host}:{port}")
        self.children.append(child)
        return child

    def worker(self, sources_file: str, *, name: str | None = None, env: dict[str, str] | None = None) -> Child:
        """Add (not start) a vision worker process on a sources file."""
        child = Child(name=name or f"worker:{Path(sources_file).name}", args=[sys.executable, "-m", "vision", "worker"],
                      env={**self.base_env(), "GRIDPATROL_SOURCES": str(sources_file), **(env or {})})
        self.children.append(child)
        return child

    def start(self, child: Child) -> Child:
        """Start (or start again, when the caller decides so) one child."""
        if child.log is None and self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            child.log = open(self.log_dir / f"{child.name.replace(':', '-')}.log", "a", encoding="utf-8")  # noqa: SIM115 - open while the child runs; stop() closes it
        child.process = subprocess.Popen(child.args, cwd=ROOT, env=child.env, stdin=subprocess.DEVNULL,
                                         stdout=child.log, stderr=subprocess.STDOUT if child.log else None)
        child.reported = False
        return child

    def exited(self) -> list[Child]:
        """Children that have exited since the last call (each is reported once)."""
        gone = [c for c in self.children if c.process is not None and not c.alive() and not c.reported]
        for child in gone:
            child.reported = True
        return gone

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM every live child, SIGKILL those still there after `grace_s`, close the logs."""
        for child in self.children:
            if child.alive():
                child.process.terminate()
        deadline = time.monotonic() + grace_s
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(timeout=5)
        for child in self.children:
            if child.log is not None:
                child.log.close()
                child.log = None


def wait_healthy(url: str, *, timeout_s: float = 90.0, process: subprocess.Popen | None = None) -> dict:
    """Poll `url`/readyz until it answers 200 (bounded); fails early when `process` has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode} before it was healthy")
        try:
            answer = requests.get(f"{url}/readyz", timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} was not healthy within {timeout_s:.0f} s")


@click.command("deploy")
@with_appcontext
@click.option("--web", "web_count", type=click.IntRange(1, 64), default=2, show_default=True,
              help="how many web processes (one per port)")
@click.option("--base-port", type=int, default=5100, show_default=True, help="the first web process's port")
@click.option("--host", default="127.0.0.1", show_default=True, help="listen address of the web processes")
@click.option("--worker", "sources", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="a sources YAML to run in a vision worker process of its own (repeatable)")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None,
              help="write each process's output to <name>.log here (default: this terminal)")
def deploy(web_count: int, base_port: int, host: str, sources: tuple[str, ...], log_dir: str | None) -> None:
    """Run WEB web processes and one vision worker per --worker, all on DATABASE_URL and REDIS_URL."""
    platform = current_platform()  # building it migrated the database and seeded the demo city, once, here
    settings = platform.settings
    if settings.redis.url is None or not settings.database.url.startswith("postgresql"):
        raise click.UsageError("several processes share PostgreSQL and Redis: set DATABASE_URL=postgresql+psycopg://… "
                               "and REDIS_URL=redis://…")
    secret = settings.app.secret_key
    if secret is None:
        secret = secrets.token_hex(32)
        click.echo("GRIDPATROL_SECRET_KEY is not set: the processes share a random key for this run "
                   "(sessions end when the deployment stops)")
    deployment = Deployment(database_url=settings.database.url, redis_url=settings.redis.url, host=host,
                            secret_key=secret, metrics_token=settings.app.metrics_token,
                            config_file=os.environ.get("GRIDPATROL_CONFIG"), log_dir=Path(log_dir) if log_dir else None)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    status = 0
    try:
        webs = [deployment.start(deployment.web(base_port + i)) for i in range(web_count)]
        for child in webs:
            wait_healthy(child.url, process=child.process)
            click.echo(f"{child.name} pid {child.pid} {child.url}/", err=False)
        for path in sources:
            child = deployment.start(deployment.worker(path))
            click.echo(f"{child.name} pid {child.pid}")
        click.echo(f"ready: {web_count} web process(es) on {settings.redis.url} and "
                   f"{platform.engine.url.render_as_string(hide_password=True)}; Ctrl-C stops all", err=False)
        while not stopping.wait(0.5):
            for child in deployment.exited():
                code = child.process.returncode
                if code != 0 or child.url is not None:
                    status = 1
                click.echo(f"{child.name} pid {child.pid} exited with {code}; not restarted", err=True)
            if not any(c.alive() for c in deployment.children if c.url is not None):
                click.echo("no web process left; stopping", err=True)
                break
    except (RuntimeError, TimeoutError) as exc:
        click.echo(f"error: {exc}", err=True)
        status = 1
    finally:
        click.echo("stopping all processes")
        deployment.stop()
    platform.bus.stop()
    sys.exit(status)
