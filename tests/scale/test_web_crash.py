"""kill -9 one of two web processes in the middle of a load: nothing accepted is lost or doubled, every
dashboard reconnects and, catching up from its last seen id, has seen every event of its room."""
import os
import signal
import time

from bench.load import (
    TicketLoad,
    missed_events,
    stored_events,
    stored_tickets,
    wait_for_quiet,
)
from webapp.deploy import wait_healthy


def test_web_process_killed_mid_load_loses_and_doubles_nothing(running, listeners) -> None:
    listeners += running.listeners(20)
    load = TicketLoad(urls=running.urls, token=running.credentials["tokens"]["hotline-gateway"], rate=8,
                      duration_s=10, retries=2, timeout_s=5, workers=16).start()
    time.sleep(3)
    victim = running.webs[1]
    os.kill(victim.pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    assert running.deployment.exited() == [victim]  # the launcher sees it die and does not bring it back
    assert not victim.alive()
    time.sleep(1)
    running.deployment.start(victim)  # the supervisor's restart, on the same port
    wait_healthy(victim.url, process=victim.process)
    load.join(90)

    accepted = [p for p in load.posted if p.accepted is not None]
    stored = stored_tickets(running.database_url, [p.external_id for p in load.posted])
    assert [p.external_id for p in accepted if stored.get(p.external_id) != 1] == [], running.logs()
    assert {k: v for k, v in stored.items() if v != 1} == {}  # a retried ticket is not doubled
    assert len(accepted) == len(load.posted), [p.errors for p in load.posted if p.accepted is None]

    wait_for_quiet(listeners, lambda: stored_events(running.database_url), timeout_s=30)
    events = stored_events(running.database_url)
    assert all(listener.connected for listener in listeners)
    on_victim = [listener for listener in listeners if listener.url == victim.url]
    assert on_victim and all(listener.connects >= 2 for listener in on_victim)  # they reconnected by themselves
    assert missed_events(listeners, events) == {}
    assert len({case_id for _, case_id, _ in events.values()}) == len(accepted)  # no merging: a case a ticket
    print(f"accepted {len(accepted)}, retried {sum(p.attempts > 1 for p in load.posted)}, events {len(events)}, "
          f"reconnected clients {len(on_victim)}")
