"""A private Redis server (the test's own, never the machine's) restarts in the middle of a load (once for the
module; the tests read what happened): no accepted ticket is lost or doubled, live push resumes, and dashboards end
up with every event, pushed."""
import time
from dataclasses import dataclass

import pytest

from bench.load import (
    Listener,
    Posted,
    TicketLoad,
    missed_events,
    own_seen,
    stop_listeners,
    stored_events,
    stored_tickets,
    wait_for_quiet,
)
from tests.conftest import new_postgres_database
from tests.scale.conftest import Running, start_running
from tests.scale.servers import PrivateRedis

DOWN_S = 2  # tickets keep coming while Redis is away


@dataclass
class Outcome:
    running: Running
    listeners: list[Listener]
    during: list[Posted]  # tickets posted across the restart
    after: list[Posted]  # tickets posted once Redis was back
    events: dict


def pushed_cases(listener: Listener, events: dict) -> set[int]:
    return {seen.case_id for seen in own_seen(listener, events).values() if seen.pushed}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    listeners: list[Listener] = []
    with PrivateRedis.running() as server, new_postgres_database() as database_url, \
            start_running(database_url, server.url, tmp_path_factory.mktemp("redis-restart")) as running:
        try:
            listeners += running.listeners(20)
            token = running.credentials["tokens"]["hotline-gateway"]
            load = TicketLoad(urls=running.urls, token=token, rate=8, duration_s=10, retries=2, timeout_s=5,
                              workers=16).start()
            try:
                time.sleep(3)
                server.restart(down_s=DOWN_S)
            finally:
                load.join(90)
            time.sleep(2)  # the buses' listeners are subscribed again
            after = TicketLoad(urls=running.urls, token=token, rate=4, duration_s=1, seed=7)
            after.run()
            # Until every dashboard has its room's events or the bound passes (the assertions judge it).
            wait_for_quiet(listeners, lambda: stored_events(running.database_url), timeout_s=15)
            yield Outcome(running=running, listeners=listeners, during=load.posted, after=after.posted,
                          events=stored_events(running.database_url))
        finally:
            stop_listeners(listeners)


def test_every_accepted_ticket_is_stored_once(outcome: Outcome) -> None:
    posted = outcome.during + outcome.after
    accepted = [p for p in posted if p.accepted is not None]
    assert len(accepted) == len(posted), [p.errors for p in posted if p.accepted is None]
    stored = stored_tickets(outcome.running.database_url, [p.external_id for p in posted])
    assert stored == {p.external_id: 1 for p in accepted}, outcome.running.logs()
    assert len({case_id for _, case_id, _ in outcome.events.values()}) == len(accepted)  # no merging configured


def test_live_push_resumes_after_the_restart(outcome: Outcome) -> None:
    """Tickets posted once Redis is back reach every client of their squad, on both processes, by push."""
    assert all(listener.connected for listener in outcome.listeners)
    for ticket in outcome.after:
        squad = [listener for listener in outcome.listeners if listener.room == f"squad:{ticket.squad}"]
        assert squad and all(ticket.case_id in pushed_cases(listener, outcome.events) for listener in squad)


def test_dashboards_have_every_event_of_their_room(outcome: Outcome) -> None:
    """Their links never dropped, so they never caught up themselves: the web processes replay the outage's
    events from the timeline when their bus subscription is back (LivePush.replay)."""
    assert missed_events(outcome.listeners, outcome.events) == {}
