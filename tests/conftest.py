"""Shared fixtures: settings, a platform on SQLite or real PostgreSQL, the app and its client."""
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from dispatch.account.enums import Role
from dispatch.account.service import create_user, issue_token
from dispatch.bus import InProcessBus
from dispatch.ticket.enums import TicketSource
from tests.factories import make_settings
from tests.requirements import POSTGRES_ADMIN_URL, missing, redis_available
from webapp import create_app
from webapp.platform import Platform, build_platform

os.environ.setdefault("YOLO_OFFLINE", "1")



@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gridpatrol_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "not available"
        admin.dispose()
        missing(f"PostgreSQL ({POSTGRES_ADMIN_URL}): {exc.__class__.__name__}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The run's PostgreSQL database (migrated and seeded by postgres_platform)."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, not even migrated."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_platform(postgres_url: str, tmp_path_factory) -> Iterator[Platform]:
    """Migrated and seeded once per run; tests run inside a transaction that is rolled back."""
    platform = build_platform(make_settings(postgres_url, tmp_path_factory.mktemp("postgres")))
    yield platform
    platform.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request, tmp_path: Path) -> Iterator[Platform]:
    """A migrated platform with the demo city, on each storage backend."""
    if request.param == "sqlite":
        built = build_platform(make_settings(f"sqlite:///{tmp_path / 'gridpatrol.sqlite3'}", tmp_path))
        yield built
        built.engine.dispose()
        return
    shared: Platform = request.getfixturevalue("postgres_platform")
    connection = shared.engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    yield replace(shared, sessions=sessions, bus=InProcessBus(), ctx=replace(shared.ctx))
    outer.rollback()
    connection.close()


@pytest.fixture
def redis_url() -> str:
    """The test Redis database (15), reachable."""
    return redis_available()


@pytest.fixture
def stream_name(redis_url: str) -> Iterator[str]:
    """A Redis Stream name of this test's own, deleted afterwards: nothing else reads it."""
    name = f"gridpatrol:test-stream:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name)
    client.close()


@pytest.fixture
def app(platform: Platform):
    app = create_app(platform=platform)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def login(app, platform: Platform) -> Callable[..., FlaskClient]:
    """login(role, squad=None): a test client signed in as a new user of that role."""
    made = iter(range(1, 1000))

    def sign_in(role: str, squad: str | None = None) -> FlaskClient:
        username, password = f"{role}{next(made)}", "pw-for-tests"
        with platform.sessions() as session:
            create_user(session=session, username=username, password=password, role=Role(role), squad_code=squad)
            session.commit()
        client = app.test_client()
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        client.environ_base["HTTP_X_CSRFTOKEN"] = response.json["csrf_token"]  # as the pages' scripts send it
        return client

    return sign_in


@pytest.fixture
def client(login) -> FlaskClient:
    """A dispatcher's client: sees every case and callers' contacts."""
    return login("dispatcher")


@pytest.fixture
def token(platform: Platform) -> Callable[..., str]:
    """token(*sources): a new machine token allowed those sources."""
    made = iter(range(1, 1000))

    def issue(*sources: str) -> str:
        with platform.sessions() as session:
            plain = issue_token(session=session, name=f"client{next(made)}", sources=[TicketSource(s) for s in sources])
            session.commit()
        return plain

    return issue


@pytest.fixture
def published(platform: Platform) -> list[dict]:
    """Every message the platform's bus publishes during the test."""
    messages: list[dict] = []
    platform.bus.subscribe(messages.append)
    return messages
