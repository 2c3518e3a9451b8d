"""A real multi-process deployment (webapp.deploy) on its own PostgreSQL database and the local Redis."""
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.load import (
    DISPATCH_ROOM,
    LISTENER_USERS,
    Listener,
    sign_in,
    start_listeners,
    stop_listeners,
    write_city_config,
)
from tests.scale.servers import free_port
from webapp.deploy import Child, Deployment, wait_healthy


@dataclass
class Running:
    """Two web processes started by the launcher's Deployment, with the demo city's accounts."""

    deployment: Deployment
    webs: list[Child]
    database_url: str
    credentials: dict
    cookies: dict[str, str]
    rooms: dict[str, str]

    @property
    def urls(self) -> list[str]:
        return [child.url for child in self.webs]

    def listeners(self, count: int) -> list[Listener]:
        return start_listeners(urls=self.urls, cookies=self.cookies, rooms=self.rooms, count=count)

    def logs(self) -> str:
        """The processes' output, for failure messages."""
        assert self.deployment.log_dir is not None
        return "\n".join(f"--- {path.name}\n{path.read_text(encoding='utf-8', errors='replace')[-3000:]}"
                         for path in sorted(self.deployment.log_dir.glob("*.log")))


@contextmanager
def start_running(database_url: str, redis_url: str, instance_dir: Path, merge_radius_m: float = 0) -> Iterator[Running]:
    """Two web processes on `database_url`; stopped (SIGTERM, then SIGKILL) however the test ends."""
    deployment = Deployment(database_url=database_url, redis_url=redis_url,
                            config_file=str(write_city_config(instance_dir, merge_radius_m)), metrics_token="scale-test",
                            log_dir=instance_dir / "logs")
    try:
        # The first process migrates and seeds the demo city; the second starts on a built database.
        first = deployment.start(deployment.web(free_port()))
        wait_healthy(first.url, process=first.process)
        second = deployment.start(deployment.web(free_port()))
        wait_healthy(second.url, process=second.process)
        credentials = json.loads((instance_dir / "demo-credentials.json").read_text(encoding="utf-8"))
        cookies = {user: sign_in(first.url, user, credentials["users"][user]["password"]) for user in LISTENER_USERS}
        rooms = {user: DISPATCH_ROOM if credentials["users"][user]["squad"] is None
                 else f"squad:{credentials['users'][user]['squad']}" for user in LISTENER_USERS}
        yield Running(deployment=deployment, webs=[first, second], database_url=database_url,
                      credentials=credentials, cookies=cookies, rooms=rooms)
    finally:
        deployment.stop()


@pytest.fixture
def running(empty_postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[Running]:
    with start_running(empty_postgres_url, redis_url, tmp_path) as started:
        yield started


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    """A list the test fills; every client in it is disconnected at the end."""
    made: list[Listener] = []
    yield made
    stop_listeners(made)
