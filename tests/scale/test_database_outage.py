"""The database server stops under two web processes and starts again (a private PostgreSQL the test runs itself,
never the machine's own): every request meanwhile is answered 503 with Retry-After, never 500; the processes come
back by themselves; what they said they accepted is stored once, and every incident is one case."""
import time
from collections import Counter

import pytest
import requests

from tests.scale.conftest import Running, start_running
from tests.scale.incidents import Answer, Incidents, cases_by_incident, post_pair_at_once, stored_cases
from tests.scale.servers import PrivatePostgres

PER_PHASE = 8  # incidents reported before, during and after the outage (two callers each)
RECOVERY_S = 60


@pytest.fixture
def on_private_postgres(redis_url: str, tmp_path):
    with PrivatePostgres.running() as server:
        database_url = server.create_database("gridpatrol_outage")
        with start_running(database_url, redis_url, tmp_path, merge_radius_m=50) as running:
            yield server, running


def ready(urls: list[str]) -> bool:
    try:
        return all(requests.get(f"{url}/readyz", timeout=5).status_code == 200 for url in urls)
    except requests.RequestException:
        return False


def report_all(running: Running, pairs) -> list[Answer]:
    token = running.credentials["tokens"]["hotline-gateway"]
    return [answer for pair in pairs for answer in post_pair_at_once(running.urls, token, pair)]


def test_an_outage_answers_503_then_everything_told_accepted_is_stored(on_private_postgres) -> None:
    server, running = on_private_postgres
    incidents = Incidents(3 * PER_PHASE)
    before, during, after = (incidents.pairs(PER_PHASE * phase, PER_PHASE * (phase + 1)) for phase in range(3))
    answered_before = report_all(running, before)

    server.stop()
    answered_during = report_all(running, during)
    console = [requests.get(f"{url}/console", headers={"Cookie": running.cookies["dispatcher"]}, timeout=30)
               for url in running.urls]
    alive = [requests.get(f"{url}/healthz", timeout=30) for url in running.urls]
    readiness = [requests.get(f"{url}/readyz", timeout=30) for url in running.urls]

    server.start()
    started = time.monotonic()
    while not ready(running.urls) and time.monotonic() - started < RECOVERY_S:
        time.sleep(0.2)
    recovered_s = time.monotonic() - started
    # The callers whose reports were refused send them again (same work-order numbers), then the next incidents.
    answered_after = report_all(running, during + after)

    print(f"\nbefore {dict(Counter(a.status for a in answered_before))}, "
          f"during {dict(Counter(a.status for a in answered_during))}, "
          f"after {dict(Counter(a.status for a in answered_after))}; ready again {recovered_s:.1f} s after the start")
    assert [a.status for a in answered_before] == [201] * 2 * PER_PHASE, running.logs()
    assert [(a.status, a.retry_after) for a in answered_during] == [(503, "10")] * 2 * PER_PHASE, running.logs()
    assert [page.status_code for page in console] == [503, 503]
    assert all("数据库暂时无法连接" in page.text and page.headers["Retry-After"] == "10" for page in console)
    assert [(a.status_code, a.json()["database"]) for a in alive] == [(200, "down"), (200, "down")]
    assert [(r.status_code, r.json()["database"], r.json()["redis"]) for r in readiness] == [(503, "down", "up")] * 2
    assert recovered_s < RECOVERY_S, running.logs()
    assert sorted(a.status for a in answered_after) == [201] * 4 * PER_PHASE, running.logs()
    assert Counter(a.outcome for a in answered_before + answered_after) == {"created": 3 * PER_PHASE,
                                                                             "merged": 3 * PER_PHASE}

    accepted = {a.external_id for a in answered_before + answered_after if 200 <= (a.status or 0) < 300}
    reports = [report for pair in before + during + after for report in pair]
    stored = stored_cases(running.database_url, [r.external_id for r in reports])
    assert {external_id: len(case_ids) for external_id, case_ids in stored.items()} == {i: 1 for i in accepted}
    cases = cases_by_incident(stored, reports)
    assert {incident: len(case_ids) for incident, case_ids in cases.items()} == {i: 1 for i in range(3 * PER_PHASE)}
    assert len(set().union(*cases.values())) == 3 * PER_PHASE
