"""A case's plate: recorded (camera, hotline text, dispatcher), its earlier cases, the leniency suggestion."""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.plates import PlatesConfig
from dispatch.case.enums import CaseStatus, EventKind, ReviewStatus
from dispatch.case.events import record_event
from dispatch.case.models import Case, Evidence
from dispatch.context import DispatchContext
from dispatch.evidence_store import EvidenceStore
from dispatch.errors import InputError
from dispatch.ticket.models import Ticket
from dispatch.plates.grammar import find_plates, is_plate

MANUAL_SOURCE = "dispatcher"  # a person's correction: camera reads never overwrite it
TEXT_SOURCE = "text"  # written in a report's text (a hotline ticket)
PLATE_PREFIX = "plate "  # caption of the rectified plate crop among a ticket's evidence
REASON_TEXT = {"no_plate_found": "未检测到车牌", "not_a_plate": "不符合车牌格式", "low_confidence": "识别置信度低"}
COUNTED_OUT = (CaseStatus.REJECTED.value,)  # a rejected case (误检, not a violation) is no offence


def normalise_plate(text: str) -> str:
    """豫s·12345 -> 豫S12345, or InputError when it is no mainland plate."""
    plate = "".join(ch for ch in text.strip().upper() if ch.isalnum())
    if not is_plate(plate):
        raise InputError("plate", f"{text!r} is not a plate (province, letter, 5 letters/digits; 6 for new energy)",
                         key="plate_invalid")
    return plate


def set_plate(*, session: Session, case: Case, rules: PlatesConfig, plate: str | None, source: str, actor: str,
              now: dt.datetime, colour: str | None = None, confidence: float | None = None,
              note: str | None = None) -> bool:
    """Record the case's plate (None: a read that gave none, with `note` why) and the leniency it leads to.

    Returns False when nothing changed, or when a machine read would overwrite a dispatcher's correction."""
    if case.plate_source == MANUAL_SOURCE and source != MANUAL_SOURCE:
        return False
    if (plate, colour, source) == (case.plate, case.plate_colour, case.plate_source) and note == case.plate_note:
        return False
    previous = case.plate
    case.plate, case.plate_colour, case.plate_source, case.plate_note = plate, colour, source, note
    case.plate_confidence = 1.0 if source == MANUAL_SOURCE else confidence
    record_event(session=session, case=case, kind=EventKind.PLATE, actor=actor, at=now, note=note,
                 data={"plate": plate, "previous": previous, "source": source, "colour": colour,
                       "confidence": case.plate_confidence})
    if plate is not None and plate != previous:
        suggest_leniency(session=session, case=case, rules=rules, actor=actor, now=now)
    return True


def record_detected_plate(*, session: Session, ctx: DispatchContext, ticket: Ticket, plate: dict[str, Any],
                          store: EvidenceStore, actor: str, now: dt.datetime) -> None:
    """A camera's plate (see dispatch.detections.PlateReportIn): the case's plate set, its crop kept as evidence.

    The better of an event's reads stands: a later refusal never undoes a plate, a weaker read never replaces it."""
    case = ticket.case
    if case.plate is not None and (plate["text"] is None or (case.plate_confidence or 0.0) >= plate["confidence"]):
        return
    note = None
    if plate["text"] is None:
        reason = plate.get("reason")
        note = f"{REASON_TEXT.get(reason, reason)}（{reason}）" + (f"：{plate['detail']}" if plate.get("detail") else "")
    changed = set_plate(session=session, case=case, rules=ctx.plates, plate=plate["text"], source=ticket.source,
                        actor=actor, now=now, colour=plate.get("colour"), confidence=plate["confidence"], note=note)
    caption = f"{PLATE_PREFIX}{plate.get('name')}"
    if changed and "crop_jpeg_base64" in plate and caption not in {e.caption for e in ticket.evidence}:
        uri = store.save(folder=f"ticket-{ticket.id}", data=base64.b64decode(plate["crop_jpeg_base64"]), suffix=".jpg")
        ticket.evidence.append(Evidence(uri=uri, caption=caption, taken_at=now, case=case))


def plate_from_text(*, session: Session, case: Case, rules: PlatesConfig, text: str | None, source: str,
                    actor: str, now: dt.datetime) -> str | None:
    """A hotline ticket that writes a plate ("豫S·12345") gives the case that plate, if it has none yet."""
    found = find_plates(text or "")
    if not found or case.plate is not None:
        return None
    set_plate(session=session, case=case, rules=rules, plate=found[0], source=source, actor=actor, now=now,
              note="从工单文字提取" if len(found) == 1 else f"从工单文字提取（另有 {', '.join(found[1:])}）")
    return found[0]


def earlier_cases(session: Session, case: Case, *, days: int | None = None) -> list[Case]:
    """Cases of the same plate reported before this one (any source, any category), newest first."""
    if case.plate is None:
        return []
    query = select(Case).where(Case.plate == case.plate, Case.id != case.id, Case.reported_at <= case.reported_at)
    if days is not None:
        query = query.where(Case.reported_at >= case.reported_at - dt.timedelta(days=days))
    return list(session.scalars(query.order_by(Case.reported_at.desc(), Case.id.desc())))


def suggest_leniency(*, session: Session, case: Case, rules: PlatesConfig, actor: str, now: dt.datetime) -> None:
    """The category's first-offence rule: no counted earlier case of the plate in the window -> `first`."""
    rule = rules.leniency.get(case.category)
    if rule is None:
        return
    prior = [c for c in earlier_cases(session, case, days=rule.window_days)
             if c.category == case.category and c.status not in COUNTED_OUT
             and c.review_status != ReviewStatus.REJECTED.value]
    case.leniency = rule.first if not prior else rule.later
    record_event(session=session, case=case, kind=EventKind.LENIENCY, actor=actor, at=now,
                 note="首违不罚：建议警告" if not prior else f"{rule.window_days} 天内第 {len(prior) + 1} 次：建议处罚",
                 data={"suggestion": case.leniency, "offence": len(prior) + 1, "plate": case.plate,
                       "window_days": rule.window_days, "earlier_case_ids": [c.id for c in prior]})


def history_view(session: Session, case: Case) -> list[dict[str, Any]]:
    """The plate's earlier cases as the case detail lists them."""
    return [{"id": c.id, "category": c.category, "status": c.status, "reported_at": c.reported_at,
             "handling_result": c.handling_result, "squad_code": c.squad_code, "address": c.address}
            for c in earlier_cases(session, case)]


def cases_by_plate(session: Session, plate: str, squad_code: str | None) -> list[Case]:
    """Every case of a plate, newest first; only one squad's when `squad_code` is given."""
    query = select(Case).where(Case.plate == normalise_plate(plate))
    if squad_code is not None:
        query = query.where(Case.squad_code == squad_code)
    return list(session.scalars(query.order_by(Case.reported_at.desc(), Case.id.desc())))


def plate_stats(session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                squad_code: str | None = None) -> dict[str, Any]:
    """Plates with more than one case, and warnings against penalties among cases with a plate."""
    query = select(Case.plate, func.count(Case.id)).where(Case.plate.is_not(None))
    if since is not None:
        query = query.where(Case.reported_at >= since)
    if until is not None:
        query = query.where(Case.reported_at < until)
    if squad_code is not None:
        query = query.where(Case.squad_code == squad_code)
    counts = dict(session.execute(query.group_by(Case.plate)).all())
    results = dict(session.execute(
        query.with_only_columns(Case.handling_result, func.count(Case.id))
        .where(Case.handling_result.is_not(None)).group_by(Case.handling_result)).all())
    suggestions = dict(session.execute(
        query.with_only_columns(Case.leniency, func.count(Case.id))
        .where(Case.leniency.is_not(None)).group_by(Case.leniency)).all())
    repeat = sorted(((plate, n) for plate, n in counts.items() if n > 1), key=lambda item: (-item[1], item[0]))
    return {"plates": len(counts), "cases_with_plate": sum(counts.values()),
            "repeat_plates": [{"plate": plate, "cases": n} for plate, n in repeat],
            "handling_results": results, "suggestions": suggestions,
            "warned": results.get("warned", 0),
            "penalties": sum(results.get(r, 0) for r in ("simple_penalty", "general_procedure", "offsite_notice"))}
