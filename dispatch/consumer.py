"""Turns worker reports from the queue into tickets and verifications: acknowledged only after the commit."""
import logging
import threading

import redis
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.bus import Bus
from dispatch.case.events import commit_and_publish
from dispatch.context import DispatchContext
from dispatch.db import WRITER
from dispatch.detections import DetectionIn, RecheckIn, ingest_detection, ingest_recheck
from dispatch.errors import InputError
from dispatch.evidence_store import EvidenceStore
from dispatch.streams import DetectionQueue, Message

log = logging.getLogger(__name__)
# Failures that may pass (the database or Redis away, a lost race): the report is tried again.
TRANSIENT = (DBAPIError, redis.RedisError, OSError)


class DetectionConsumer:
    """One loop: read a batch, ingest each report in its own transaction, acknowledge after commit.

    A report that cannot be taken in is parked in the queue's dead letters with the reason:
    at once when it is invalid or crashes the handler, after `max_deliveries` when the database
    or Redis failed each time (a short outage only delays reports; a long one parks few).
    """

    def __init__(
        self, *, sessions: sessionmaker[Session], ctx: DispatchContext, bus: Bus, store: EvidenceStore,
        queue: DetectionQueue, batch: int = 16, block_ms: int = 1000, max_deliveries: int = 10,
    ) -> None:
        self.sessions, self.ctx, self.bus, self.store, self.queue = sessions, ctx, bus, store, queue
        self.batch, self.block_ms, self.max_deliveries = batch, block_ms, max_deliveries
        self.refused: list[tuple[str, str]] = []  # (message id, why): reports parked as never takeable

    def ingest(self, message: Message) -> None:
        if not isinstance(message, dict):
            raise InputError("message", f"a report is a JSON object, not a {type(message).__name__}")
        with self.sessions(execution_options=WRITER) as session:
            if message.get("type") == "recheck":
                recheck = RecheckIn().load(message)
                ingest_recheck(session=session, ctx=self.ctx, recheck=recheck,
                               actor=f"{recheck['source'].value}:{recheck['source_id']}")
            else:
                detection = DetectionIn().load(message)
                ingest_detection(session=session, ctx=self.ctx, detection=detection, store=self.store,
                                 actor=f"{detection['source'].value}:{detection['source_id']}")
            commit_and_publish(session, self.bus)

    def handle(self, message_id: str, message: Message) -> None:
        try:
            self.ingest(message)
        except (ValidationError, InputError) as exc:
            reason = exc.messages if isinstance(exc, ValidationError) else str(exc)
            self.refuse(message_id, message, str(reason))
            return
        except TRANSIENT as exc:
            delivered = self.queue.deliveries(message_id)
            if delivered < self.max_deliveries:
                raise  # stays pending and comes back: the database or Redis may be back by then
            self.refuse(message_id, message, f"failed {delivered} deliveries, the last with {exc!r}"[:2000])
            return
        except Exception as exc:  # noqa: BLE001 - a report that crashes the handler would crash it again
            log.exception("detection report %s crashed its handler", message_id)
            self.refuse(message_id, message, f"crashed the handler: {exc!r}"[:2000])
            return
        self.queue.ack(message_id)

    def refuse(self, message_id: str, message: Message, reason: str) -> None:
        """Park a report that retrying cannot help, with the reason; it is not delivered again."""
        self.refused.append((message_id, reason))
        log.warning("detection report %s parked: %s", message_id, reason)
        self.queue.park(message_id, message, reason)

    def poll(self) -> int:
        """Handle one batch; returns how many reports it held."""
        messages = self.queue.read(count=self.batch, block_ms=self.block_ms)
        for message_id, message in messages:
            self.handle(message_id, message)
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except Exception:  # a database or Redis hiccup: the reports stay pending and come back
                log.exception("detection consumer failed; retrying")
                stop.wait(1.0)
