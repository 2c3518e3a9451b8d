"""Turns worker reports from the queue into tickets and verifications: acknowledged only after the commit."""
import logging
import threading

from marshmallow import ValidationError
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


class DetectionConsumer:
    """One loop: read a batch, ingest each report in its own transaction, acknowledge after commit."""

    def __init__(
        self, *, sessions: sessionmaker[Session], ctx: DispatchContext, bus: Bus, store: EvidenceStore,
        queue: DetectionQueue, batch: int = 16, block_ms: int = 1000,
    ) -> None:
        self.sessions, self.ctx, self.bus, self.store, self.queue = sessions, ctx, bus, store, queue
        self.batch, self.block_ms = batch, block_ms
        self.refused: list[tuple[str, str]] = []  # (message id, why): reports that can never be taken in

    def handle(self, message_id: str, message: Message) -> None:
        try:
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
        except (ValidationError, InputError) as exc:
            # Retrying cannot help a malformed report: keep the reason, acknowledge, move on.
            reason = exc.messages if isinstance(exc, ValidationError) else str(exc)
            self.refused.append((message_id, str(reason)))
            log.warning("detection report %s refused: %s", message_id, reason)
        self.queue.ack(message_id)

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
