"""Review of camera and drone cases (人工复核): a dispatcher confirms or rejects what a sensor reported.

Confirming registers the case (立案); rejecting closes it as rejected (不予立案) with one of the
ReviewReason codes, so it never reaches a squad. People's reports merged into a rejected case go
through intake again, so a hotline caller's ticket is never lost with the camera's false alarm.
The verdicts measure the cameras' precision in production and become a training set (export).
"""
import datetime as dt
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch.case.enums import CaseAction, EventKind, ReviewReason, ReviewStatus
from dispatch.case.events import SENSOR_SOURCES, record_event
from dispatch.case.models import Case, Evidence
from dispatch.case.transitions import transition
from dispatch.context import DispatchContext
from dispatch.detections import FRAME_PREFIX, PHOTO_PREFIX
from dispatch.errors import TransitionRefused
from dispatch.evidence_store import EvidenceStore
from dispatch.intake import IntakeResult, place_ticket
from dispatch.stats import ratio
from dispatch.ticket.models import Ticket

EXPORT_FILE = "reviews.jsonl"


def review_case(
    *, session: Session, ctx: DispatchContext, case: Case, confirm: bool, reason: ReviewReason | None,
    note: str | None, actor: str, now: dt.datetime,
) -> list[IntakeResult]:
    """Confirm (register, then dispatch if the city auto-dispatches) or reject a case awaiting review.

    Returns where the people's reports merged into a rejected case went (another open case or a new one).
    """
    if case.review_status != ReviewStatus.PENDING.value:
        # already reviewed, or not a sensor's case: state 'confirmed', 'rejected' or 'no review'
        raise TransitionRefused("review", case.review_status or "no review", None)
    loop = {"session": session, "case": case, "now": now, "calendar": ctx.calendar, "categories": ctx.categories}
    if confirm:
        transition(action=CaseAction.REGISTER, actor=actor, note=note, **loop)
        if ctx.config.auto_dispatch:  # as intake does for a person's report
            transition(action=CaseAction.DISPATCH, actor="system", note="auto-dispatched", **loop)
        return []
    transition(action=CaseAction.REJECT, actor=actor, reason=reason.value if reason else None, note=note, **loop)
    people = [ticket for ticket in case.tickets if ticket.source not in SENSOR_SOURCES]
    return [take_in_again(session=session, ctx=ctx, case=case, ticket=ticket, actor=actor, now=now) for ticket in people]


def take_in_again(
    *, session: Session, ctx: DispatchContext, case: Case, ticket: Ticket, actor: str, now: dt.datetime
) -> IntakeResult:
    """A person's report leaves a rejected case through intake: it joins another open case nearby or opens one."""
    ticket.case = None
    location = {"lon": ticket.input_lon, "lat": ticket.input_lat, "crs": ticket.input_crs}
    result = place_ticket(session=session, ctx=ctx, ticket=ticket, location=location, actor=actor, now=now)
    session.flush()
    new_case_id = result.case.id if result.case is not None else None
    record_event(session=session, case=case, kind=EventKind.SPLIT, actor=actor, at=now,
                 note=f"ticket {ticket.id} → case {new_case_id}" if new_case_id else f"ticket {ticket.id} → unlocated",
                 data={"ticket_id": ticket.id, "new_case_id": new_case_id})
    session.expire(case, ["tickets"])
    return result


def sensor_ticket(case: Case) -> Ticket | None:
    """The camera or drone report that opened the case, if one did."""
    first = case.tickets[0] if case.tickets else None
    return first if first is not None and first.source in SENSOR_SOURCES else None


def review_view(case: Case) -> dict[str, Any] | None:
    """What a reviewer reads: the sensor, rule, zone and dwell of the opening report, and its two photos."""
    ticket = sensor_ticket(case)
    if ticket is None or case.review_status is None:
        return None
    event = ticket.raw or {}
    photos = [e for e in ticket.evidence if (e.caption or "").startswith(PHOTO_PREFIX)]
    return {
        "status": case.review_status, "source": ticket.source, "source_id": event.get("source_id"),
        "rule": event.get("rule"), "zone_id": event.get("zone_id"), "dwell_s": event.get("dwell_s"),
        "confidence": event.get("confidence"), "event_id": ticket.external_id,
        "photos": photos[:2],
        "reason": case.reject_reason if case.review_status == ReviewStatus.REJECTED.value else None,
    }


def review_stats(
    *, session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None,
    squad_code: str | None = None,
) -> list[dict[str, Any]]:
    """Per source and rule, over reviewed cases reported in [since, until): confirmed, rejected and precision."""
    query = select(Case).where(Case.review_status.is_not(None)).options(selectinload(Case.tickets))
    if since:
        query = query.where(Case.reported_at >= since)
    if until:
        query = query.where(Case.reported_at < until)
    if squad_code:
        query = query.where(Case.squad_code == squad_code)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in session.scalars(query):
        ticket = sensor_ticket(case)
        if ticket is None:
            continue
        row = counts[(ticket.source, (ticket.raw or {}).get("rule") or "")]
        row[case.review_status] += 1
        if case.review_status == ReviewStatus.REJECTED.value and case.reject_reason in set(ReviewReason):
            row[case.reject_reason] += 1
    rows = []
    for (source, rule), row in sorted(counts.items()):
        confirmed, rejected = row[ReviewStatus.CONFIRMED.value], row[ReviewStatus.REJECTED.value]
        rows.append({
            "source": source, "rule": rule or None, "confirmed": confirmed, "rejected": rejected,
            "pending": row[ReviewStatus.PENDING.value], **{reason.value: row[reason.value] for reason in ReviewReason},
            "precision": ratio(confirmed, confirmed + rejected),
        })
    return rows


@dataclass
class ExportSummary:
    frames: int
    confirmed: int
    rejected: int
    skipped: int  # reviewed detections without an unannotated frame (older workers)


def export_reviewed(*, session: Session, store: EvidenceStore, out_dir: Path) -> ExportSummary:
    """Write the reviewed detections' unannotated frames and a `reviews.jsonl` line each (see vision.harvest)."""
    frames_dir = out_dir / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    reviewed = (ReviewStatus.CONFIRMED.value, ReviewStatus.REJECTED.value)
    cases = session.scalars(select(Case).where(Case.review_status.in_(reviewed)).order_by(Case.id)
                            .options(selectinload(Case.tickets)))
    summary = ExportSummary(0, 0, 0, 0)
    with (out_dir / EXPORT_FILE).open("w", encoding="utf-8") as lines:
        for case in cases:
            for ticket in (t for t in case.tickets if t.source in SENSOR_SOURCES):
                frame = first_frame(ticket)
                path = store.path_of(frame.uri) if frame is not None else None
                if path is None:
                    summary.skipped += 1
                    continue
                image = f"frames/{frame.id}{path.suffix}"
                shutil.copyfile(path, out_dir / image)
                lines.write(json.dumps(export_line(case, ticket, frame, image), ensure_ascii=False) + "\n")
                summary.frames += 1
                if case.review_status == ReviewStatus.CONFIRMED.value:
                    summary.confirmed += 1
                else:
                    summary.rejected += 1
    return summary


def first_frame(ticket: Ticket) -> Evidence | None:
    return next((e for e in ticket.evidence if e.box_xyxy and (e.caption or "").startswith(FRAME_PREFIX)), None)


def export_line(case: Case, ticket: Ticket, frame: Evidence, image: str) -> dict[str, Any]:
    event = ticket.raw or {}
    return {
        "image": image, "box_xyxy": frame.box_xyxy, "verdict": case.review_status,
        "reason": case.reject_reason if case.review_status == ReviewStatus.REJECTED.value else None,
        "source": ticket.source, "source_id": event.get("source_id"), "rule": event.get("rule"),
        "zone_id": event.get("zone_id"), "event_id": ticket.external_id, "case_id": case.id,
        "taken_at": frame.taken_at.isoformat() if frame.taken_at else None,
    }
