"""Two callers report one incident at the same instant, one to each of two web processes (PostgreSQL + Redis, merge
radius 50 m): one case per incident, the second report merged into the first's, in every pair."""
from collections import Counter

import pytest

from tests.scale.conftest import Running, start_running
from tests.scale.incidents import Incidents, cases_by_incident, post_pair_at_once, stored_cases

PAIRS = 20


@pytest.fixture
def merging(empty_postgres_url: str, redis_url: str, tmp_path):
    with start_running(empty_postgres_url, redis_url, tmp_path, merge_radius_m=50) as started:
        yield started


def test_reports_of_one_incident_sent_at_once_to_two_processes_make_one_case(merging: Running) -> None:
    incidents = Incidents(PAIRS)
    token = merging.credentials["tokens"]["hotline-gateway"]
    pairs = incidents.pairs()
    answers = [answer for pair in pairs for answer in post_pair_at_once(merging.urls, token, pair)]
    print(f"\n{PAIRS} pairs: statuses {dict(Counter(a.status for a in answers))}, "
          f"outcomes {dict(Counter(a.outcome for a in answers))}")
    assert [(a.status, a.error) for a in answers if a.status != 201] == [], merging.logs()
    assert Counter(a.outcome for a in answers) == {"created": PAIRS, "merged": PAIRS}
    reports = [report for pair in pairs for report in pair]
    stored = stored_cases(merging.database_url, [r.external_id for r in reports])
    assert {external_id: len(case_ids) for external_id, case_ids in stored.items()} == {r.external_id: 1 for r in reports}
    cases = cases_by_incident(stored, reports)
    assert {incident: len(case_ids) for incident, case_ids in cases.items()} == {i: 1 for i in range(PAIRS)}
    assert len(set().union(*cases.values())) == PAIRS  # one case per incident, none shared
