"""Each timeline row's hash: SHA-256 over a canonical JSON of its fields and the previous row's hash."""
import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.case.models import Case, CaseEvent

GENESIS = "0" * 64  # the previous hash of a case's first row
HASHED_FIELDS = ("case_id", "kind", "actor", "at", "from_status", "to_status", "note", "data")


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The hash of one timeline row given its fields (HASHED_FIELDS) and the hash of the row before it."""
    content = {name: fields[name] for name in HASHED_FIELDS}
    at: dt.datetime = content["at"]
    content["at"] = at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    content["data"] = content["data"] or {}
    return hashlib.sha256(canonical_json({"entry": content, "prev": prev_hash})).hexdigest()


def chain_head(*, session: Session, case_id: int) -> str:
    """The hash of the case's newest timeline row, after locking the case so appenders take turns.

    The lock (FOR UPDATE on PostgreSQL; SQLite lets one writer in at a time) makes a second
    transaction appending to the same case wait, then read the row the first one committed:
    the chain never forks.
    """
    session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
    query = select(CaseEvent.hash).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc()).limit(1)
    return session.scalar(query) or GENESIS


def seal(*, session: Session, event: CaseEvent) -> None:
    """Give a new timeline row its place in the case's chain: the previous hash and its own."""
    event.prev_hash = chain_head(session=session, case_id=event.case_id)
    event.hash = entry_hash(event_fields(event), event.prev_hash)


def event_fields(event: CaseEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}
