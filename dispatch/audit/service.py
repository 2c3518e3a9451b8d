"""Checking every case's chain and the daily anchors; writing the anchors of finished days."""
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit.chain import GENESIS, canonical_json, entry_hash, event_fields
from dispatch.audit.models import AuditAnchor
from dispatch.case.models import CaseEvent


@dataclass(frozen=True)
class Break:
    """The first row of a case's chain that does not match, and why."""

    case_id: int
    event_id: int
    reason: str


@dataclass
class AuditReport:
    cases: int = 0
    events: int = 0
    anchors: int = 0
    breaks: list[Break] = field(default_factory=list)
    bad_anchors: list[dt.date] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.bad_anchors


def check_row(event: CaseEvent, expected_prev: str) -> str | None:
    """Why this row breaks the chain, or None when it matches."""
    if event.prev_hash != expected_prev:
        return f"prev_hash {event.prev_hash} is not the hash of the row before it ({expected_prev})"
    if event.hash != entry_hash(event_fields(event), event.prev_hash):
        return f"hash {event.hash} does not match the row's content (actor, time, note, data ...)"
    return None


def verify_chains(*, session: Session, report: AuditReport) -> None:
    """Walk every case's timeline in id order and note the first row of each chain that does not match."""
    query = select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.id).execution_options(yield_per=1000)
    case_id, expected_prev, broken = None, GENESIS, False
    for event in session.scalars(query):
        if event.case_id != case_id:
            case_id, expected_prev, broken = event.case_id, GENESIS, False
            report.cases += 1
        report.events += 1
        if not broken:
            reason = check_row(event, expected_prev)
            if reason is not None:
                report.breaks.append(Break(case_id=event.case_id, event_id=event.id, reason=reason))
                broken = True
        expected_prev = event.hash
    report.breaks.sort(key=lambda b: b.event_id)


def heads_at(*, session: Session, end: dt.datetime) -> tuple[str, int, int]:
    """The hash over every case's chain head among rows timed before `end`, and how many cases and rows."""
    last = (select(CaseEvent.case_id, func.max(CaseEvent.id).label("last_id"), func.count().label("rows"))
            .where(CaseEvent.at < end).group_by(CaseEvent.case_id).subquery())
    rows = session.execute(
        select(last.c.case_id, CaseEvent.hash, last.c.rows).join(CaseEvent, CaseEvent.id == last.c.last_id)
        .order_by(last.c.case_id)
    ).all()
    digest = hashlib.sha256(canonical_json([[case_id, head] for case_id, head, _ in rows])).hexdigest()
    return digest, len(rows), sum(count for _, _, count in rows)


def day_end(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The end of a local day, in UTC."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)


def anchor_finished_days(*, session: Session, zone: ZoneInfo, now: dt.datetime) -> list[AuditAnchor]:
    """Anchor every local day from the first timeline row to yesterday that has no anchor yet."""
    first_at = session.scalar(select(func.min(CaseEvent.at)))
    if first_at is None:
        return []
    anchored = set(session.scalars(select(AuditAnchor.day)))
    day, today = first_at.astimezone(zone).date(), now.astimezone(zone).date()
    made = []
    while day < today:
        if day not in anchored:
            digest, cases, events = heads_at(session=session, end=day_end(day, zone))
            made.append(AuditAnchor(day=day, heads_hash=digest, case_count=cases, event_count=events, created_at=now))
        day += dt.timedelta(days=1)
    session.add_all(made)
    return made


def verify_anchors(*, session: Session, zone: ZoneInfo, report: AuditReport) -> None:
    """Recompute each stored anchor from the rows as they are now."""
    for anchor in session.scalars(select(AuditAnchor).order_by(AuditAnchor.day)):
        report.anchors += 1
        if heads_at(session=session, end=day_end(anchor.day, zone))[0] != anchor.heads_hash:
            report.bad_anchors.append(anchor.day)


def audit(*, session: Session, zone: ZoneInfo) -> AuditReport:
    """Every chain and every anchor checked."""
    report = AuditReport()
    verify_chains(session=session, report=report)
    verify_anchors(session=session, zone=zone, report=report)
    return report
