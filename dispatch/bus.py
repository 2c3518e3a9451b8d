"""The event bus: publish, subscribe, stop — in process, or over Redis for several processes."""
import json
import logging
import threading
from collections import deque
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
    def on_reconnect(self, handler: Callable[[], None]) -> None: ...
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

    def on_reconnect(self, handler: Callable[[], None]) -> None:
        """In one process nothing is ever cut off: there is nothing to reconnect."""

    def stop(self) -> None:
        self.handlers.clear()


class RedisBus:
    """Redis pub/sub: every subscribed process receives every message.

    While Redis is away, published messages wait in memory (oldest dropped past `max_pending`;
    dashboards catch up from the database) and go out in order once it answers again.
    """

    def __init__(self, url: str, channel: str = CHANNEL, *, retry_s: float = 0.5, max_pending: int = 10_000) -> None:
        self.client = redis.Redis.from_url(url)
        self.channel = channel
        self.handlers: list[Handler] = []
        self.listener: threading.Thread | None = None
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.stopping = threading.Event()
        self.retry_s = retry_s
        self.pending: deque[Message] = deque(maxlen=max_pending)
        self.sending = threading.Lock()
        self.retrier: threading.Thread | None = None
        self.reconnect_handlers: list[Callable[[], None]] = []

    def publish(self, message: Message) -> None:
        with self.sending:
            self.pending.append(message)
        if not self.flush():
            self._retry_later()

    def flush(self) -> bool:
        """Send what waits, in order; False if Redis is still away."""
        with self.sending:
            while self.pending:
                try:
                    self.client.publish(self.channel, json.dumps(self.pending[0], ensure_ascii=False))
                except redis.RedisError:
                    return False
                self.pending.popleft()
        return True

    def _retry_later(self) -> None:
        if self.retrier is not None and self.retrier.is_alive():
            return
        self.retrier = threading.Thread(target=self._retry, name="redis-bus-retry", daemon=True)
        self.retrier.start()

    def _retry(self) -> None:
        while not self.stopping.wait(self.retry_s):
            if self.flush():
                return

    def subscribe(self, handler: Handler) -> None:
        self.handlers.append(handler)
        if self.listener is None:
            self.pubsub.subscribe(self.channel)
            self.listener = threading.Thread(target=self._listen, name="redis-bus", daemon=True)
            self.listener.start()

    def on_reconnect(self, handler: Callable[[], None]) -> None:
        """`handler()` runs when the subscription is back after Redis was away (what was published meanwhile is lost)."""
        self.reconnect_handlers.append(handler)

    def _listen(self) -> None:
        cut_off = False
        while not self.stopping.is_set():
            try:
                item = self.pubsub.get_message(timeout=0.5)
            except redis.RedisError:  # Redis restarting: the next call reconnects and subscribes again
                cut_off = True
                self.stopping.wait(self.retry_s)
                continue
            if cut_off:
                cut_off = False
                for handler in self.reconnect_handlers:
                    try:
                        handler()
                    except Exception:
                        log.exception("bus reconnect handler %r failed", handler)
            if item is not None:
                deliver(self.handlers, json.loads(item["data"]))

    def stop(self) -> None:
        self.stopping.set()
        for thread in (self.listener, self.retrier):
            if thread is not None:
                thread.join(timeout=2)
        self.pubsub.close()
        self.client.close()


def make_bus(redis_url: str | None, channel: str = CHANNEL) -> Bus:
    return RedisBus(redis_url, channel) if redis_url else InProcessBus()
