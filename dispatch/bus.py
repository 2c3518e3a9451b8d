"""The event bus: publish, subscribe, stop — in process, or over Redis for several processes."""
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], None]
CHANNEL = "gridpatrol:case-events"


class Bus(Protocol):
    def publish(self, message: Message) -> None: ...
    def subscribe(self, handler: Handler) -> None: ...
    def stop(self) -> None: ...


def deliver(handlers: list[Handler], message: Message) -> None:
    for handler in list(handlers):
        try:
            handler(message)
        except Exception:  # one broken subscriber must not starve the others
            log.exception("bus handler %r failed", handler)


class InProcessBus:
    """Calls every subscriber synchronously in the publishing thread."""

    def __init__(self) -> None:
        self.handlers: list[Handler] = []

    def publish(self, message: Message) -> None:
        deliver(self.handlers, message)

    def subscribe(self, handler: Handler) -> None:
        self.handlers.append(handler)

    def stop(self) -> None:
        self.handlers.clear()


class RedisBus:
    """Redis pub/sub: every subscribed process receives every message."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.client = redis.Redis.from_url(url)
        self.channel = channel
        self.handlers: list[Handler] = []
        self.listener: threading.Thread | None = None
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.stopping = threading.Event()

    def publish(self, message: Message) -> None:
        self.client.publish(self.channel, json.dumps(message, ensure_ascii=False))

    def subscribe(self, handler: Handler) -> None:
        self.handlers.append(handler)
        if self.listener is None:
            self.pubsub.subscribe(self.channel)
            self.listener = threading.Thread(target=self._listen, name="redis-bus", daemon=True)
            self.listener.start()

    def _listen(self) -> None:
        while not self.stopping.is_set():
            item = self.pubsub.get_message(timeout=0.5)
            if item is not None:
                deliver(self.handlers, json.loads(item["data"]))

    def stop(self) -> None:
        self.stopping.set()
        if self.listener is not None:
            self.listener.join(timeout=2)
        self.pubsub.close()
        self.client.close()


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else InProcessBus()
