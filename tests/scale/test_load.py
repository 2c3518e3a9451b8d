"""Two web processes under a steady load while 200 dashboards listen: every accepted ticket is stored
once, and every dashboard has every event of its room (CI-sized; `python -m bench.load` measures)."""
from bench.load import TicketLoad, missed_events, stored_events, stored_tickets, wait_for_quiet

DASHBOARDS = 200


def test_two_web_processes_and_200_dashboards_lose_and_double_nothing(running, listeners) -> None:
    listeners += running.listeners(DASHBOARDS)
    load = TicketLoad(urls=running.urls, token=running.credentials["tokens"]["hotline-gateway"], rate=6,
                      duration_s=8, retries=2, timeout_s=10, workers=16).start()
    load.join(90)
    accepted = [p for p in load.posted if p.accepted is not None]
    assert len(accepted) == len(load.posted), [p.errors for p in load.posted if p.accepted is None]
    stored = stored_tickets(running.database_url, [p.external_id for p in load.posted])
    assert {external_id: count for external_id, count in stored.items() if count != 1} == {}
    assert len(stored) == len(accepted)
    wait_for_quiet(listeners, lambda: stored_events(running.database_url), timeout_s=60)
    events = stored_events(running.database_url)
    assert len(listeners) == DASHBOARDS and all(listener.connected for listener in listeners)
    assert missed_events(listeners, events) == {}
