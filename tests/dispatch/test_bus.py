"""The event bus in process and over a real Redis."""
import threading
import time

import redis
from sqlalchemy import func, select

from dispatch.bus import InProcessBus, RedisBus
from dispatch.case.models import CaseEvent
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload


def test_in_process_bus_delivers_to_every_subscriber_despite_a_broken_one() -> None:
    bus = InProcessBus()
    received: list[dict] = []

    def broken(_message: dict) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(received.append)
    bus.publish({"id": 1})
    assert received == [{"id": 1}]



def test_redis_bus_reaches_a_subscriber_in_another_connection(redis_url: str) -> None:
    channel = f"gridpatrol:test:{time.time_ns()}"
    publisher, subscriber = RedisBus(redis_url, channel), RedisBus(redis_url, channel)
    received: list[dict] = []
    subscriber.subscribe(received.append)
    try:
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:  # until the subscription is live
            publisher.publish({"id": 7, "kind": "created", "note": "占道经营"})
            time.sleep(0.05)
        assert received and received[0] == {"id": 7, "kind": "created", "note": "占道经营"}
    finally:
        publisher.stop()
        subscriber.stop()


def test_a_bus_that_fails_after_the_commit_loses_nothing(client, platform, monkeypatch) -> None:
    """Redis away: the ticket is still taken in (201) and its events stay in the timeline for catch-up."""

    def redis_away(_message: dict) -> None:
        raise redis.ConnectionError("Redis is restarting")

    monkeypatch.setattr(platform.bus, "publish", redis_away)
    lon, lat = DEMO_CENTRE_WGS84
    response = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat))
    assert response.status_code == 201
    with platform.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_redis_bus_keeps_messages_while_redis_is_away(redis_url: str, monkeypatch) -> None:
    channel = f"gridpatrol:test:{time.time_ns()}"
    publisher, subscriber = RedisBus(redis_url, channel, retry_s=0.05), RedisBus(redis_url, channel)
    received: list[dict] = []
    subscriber.subscribe(received.append)
    real_publish = publisher.client.publish
    outage = {"left": 3}

    def flaky_publish(*args, **kwargs):
        if outage["left"]:
            outage["left"] -= 1
            raise redis.ConnectionError("Redis is restarting")
        return real_publish(*args, **kwargs)

    try:
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:  # until the subscription is live
            publisher.publish({"id": 0})
            time.sleep(0.05)
        received.clear()
        monkeypatch.setattr(publisher.client, "publish", flaky_publish)
        for number in (1, 2, 3):
            publisher.publish({"id": number})  # the first attempts fail: they wait, in order
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["id"] for m in received] == [1, 2, 3] and not publisher.pending
    finally:
        publisher.stop()
        subscriber.stop()


def test_redis_bus_says_when_its_subscription_is_back(redis_url: str, monkeypatch) -> None:
    bus = RedisBus(redis_url, f"gridpatrol:test:{time.time_ns()}", retry_s=0.01)
    reconnected = threading.Event()
    bus.on_reconnect(reconnected.set)
    real_get = bus.pubsub.get_message
    failures = {"left": 2}

    def flaky_get(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise redis.ConnectionError("Redis is restarting")
        return real_get(*args, **kwargs)

    monkeypatch.setattr(bus.pubsub, "get_message", flaky_get)
    bus.subscribe(lambda _message: None)
    try:
        assert reconnected.wait(5)
    finally:
        bus.stop()
