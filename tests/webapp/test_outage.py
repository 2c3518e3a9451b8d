"""The database goes away under a running app and comes back: 503 with Retry-After (JSON for the API, a page for
people), /healthz stays alive and says the database is down, /readyz refuses traffic; then all recover by themselves.

The outage is real: the test's own PostgreSQL database stops accepting connections and its sessions are cut off
(what a failover or a restart does to the web processes), then it accepts them again."""
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from dispatch.account.enums import Role
from dispatch.account.service import create_user, issue_token
from dispatch.ticket.enums import TicketSource
from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_payload
from tests.requirements import POSTGRES_ADMIN_URL
from tests.scale.servers import free_port
from webapp import create_app
from webapp.metrics import redis_state

PASSWORD = "pw-for-outage"


class Outage:
    """Switch one database's connections off (cutting off those open) and on again."""

    def __init__(self, database_url: str) -> None:
        self.name = database_url.rsplit("/", 1)[1]
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def begin(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": self.name})

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.fixture
def outage_app(empty_postgres_url: str, tmp_path) -> Iterator[tuple]:
    app = create_app(make_settings(empty_postgres_url, tmp_path, database={"retry_after_s": 7}))
    platform = app.extensions["gridpatrol"]
    with platform.sessions() as session:
        create_user(session=session, username="dispatcher1", password=PASSWORD, role=Role.DISPATCHER)
        token = issue_token(session=session, name="hotline", sources=[TicketSource.HOTLINE_12345])
        session.commit()
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": "dispatcher1", "password": PASSWORD}).status_code == 200
    outage = Outage(empty_postgres_url)
    yield app, client, token, outage
    outage.end()
    outage.admin.dispose()
    platform.engine.dispose()


def post_ticket(client, token: str):
    lon, lat = DEMO_CENTRE_WGS84
    return client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat), headers={"Authorization": f"Bearer {token}"})


def test_an_outage_answers_503_and_recovers_without_a_restart(outage_app) -> None:
    app, client, token, outage = outage_app
    assert client.get("/api/cases").status_code == 200
    assert client.get("/readyz").json == {"status": "ready", "database": "up", "redis": "not configured"}

    outage.begin()
    for answer in (client.get("/api/cases"), post_ticket(client, token), client.get("/api/auth/me")):
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "7"
        assert "database" in answer.json["message"]
    page = client.get("/console", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "7"
    assert "数据库暂时无法连接" in page.get_data(as_text=True)
    english = client.get("/console?lang=en", headers={"Accept": "text/html"})
    assert english.status_code == 503 and "cannot reach its database" in english.get_data(as_text=True)
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json["status"] == "ok" and alive.json["database"] == "down"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "7"
    assert ready.json == {"status": "unavailable", "database": "down", "redis": "not configured"}

    outage.end()
    assert client.get("/api/cases").status_code == 200
    assert post_ticket(client, token).status_code == 201
    assert client.get("/healthz").json["database"] == "up"
    assert client.get("/readyz").status_code == 200


def test_readiness_says_when_the_configured_redis_does_not_answer(tmp_path) -> None:
    nobody = make_settings(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path,
                           redis={"url": f"redis://127.0.0.1:{free_port()}/0"}, database={"connect_timeout_s": 1})
    assert redis_state(SimpleNamespace(settings=nobody)) == "down"
