"""Review checks (案卷评查): what a reviewer would flag in a case file, per case and ranked per squad."""
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch.case.enums import EventKind
from dispatch.case.models import Case, Evidence
from dispatch.case.signoff import SignoffRules
from dispatch.case.transitions import EVENT_OF_ACTION

ACTION_OF_EVENT = {kind.value: action for action, kind in EVENT_OF_ACTION.items()}


class Flag(StrEnum):
    SIGNOFF_MISSING = "signoff_missing"            # a marked step taken without its sign-off
    OPINION_EMPTY = "opinion_empty"                # a sign-off with no opinion text
    NO_PHOTO = "no_photo"                          # a handling result without an on-site photo
    NO_LEGAL_BASIS = "no_legal_basis"              # a penalty result citing no provision of the table
    DEADLINE_EXCEEDED = "deadline_exceeded"        # handled (or still open) past the deadline


@dataclass(frozen=True)
class ReviewRules:
    penalty_results: frozenset[str]
    provisions: dict[str, dict]

    @classmethod
    def from_yaml(cls, path: Path) -> "ReviewRules":
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(penalty_results=frozenset(data.get("penalty_results") or []),
                   provisions={str(code): row for code, row in (data.get("provisions") or {}).items()})


def signoff_flags(case: Case, signoffs: SignoffRules) -> list[dict]:
    """Each marked step taken without a sign-off given since the move before it; each empty opinion."""
    flags, signed = [], set()
    for event in case.events:
        if event.kind == EventKind.SIGNED_OFF.value:
            signed.add(event.data.get("step"))
            if not (event.note or "").strip():
                flags.append({"flag": Flag.OPINION_EMPTY.value, "event_id": event.id, "step": event.data.get("step")})
            continue
        if event.to_status is None:
            continue
        action = ACTION_OF_EVENT.get(event.kind)
        step = signoffs.needed(case.category, action, event.data.get("result")) if action else None
        if step is not None and step not in signed:
            flags.append({"flag": Flag.SIGNOFF_MISSING.value, "event_id": event.id, "step": step})
        signed = set()
    return flags


def case_flags(*, case: Case, photos: int, signoffs: SignoffRules, rules: ReviewRules) -> list[dict]:
    """What a reviewer flags in this case (`photos`: on-site photos uploaded to it)."""
    flags = signoff_flags(case, signoffs)
    if case.handling_result is not None and photos == 0:
        flags.append({"flag": Flag.NO_PHOTO.value})
    if case.handling_result in rules.penalty_results:
        handled = next(e for e in reversed(case.events) if e.kind == EventKind.HANDLED.value)
        if handled.data.get("basis") not in rules.provisions:
            flags.append({"flag": Flag.NO_LEGAL_BASIS.value, "event_id": handled.id, "basis": handled.data.get("basis")})
    if case.deadline_at is not None:
        finished = case.handled_at
        if case.overdue or (finished is not None and finished > case.deadline_at):
            flags.append({"flag": Flag.DEADLINE_EXCEEDED.value, "deadline_at": case.deadline_at.isoformat()})
    return flags


def on_site_photos(session: Session, case_ids: list[int]) -> Counter:
    rows = session.scalars(select(Evidence.case_id).where(Evidence.case_id.in_(case_ids), Evidence.ticket_id.is_(None)))
    return Counter(rows)


def review(*, session: Session, case_ids: list[int] | None, signoffs: SignoffRules, rules: ReviewRules) -> dict:
    """Flags per case and the squads ranked by flags per case (fewest first), over `case_ids` or every case."""
    query = select(Case).options(selectinload(Case.events)).order_by(Case.id)
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    cases = list(session.scalars(query))
    photos = on_site_photos(session, [case.id for case in cases])
    per_case, squads = [], defaultdict(lambda: {"cases": 0, "flagged_cases": 0, "flags": Counter()})
    for case in cases:
        flags = case_flags(case=case, photos=photos[case.id], signoffs=signoffs, rules=rules)
        squad = squads[case.squad_code]
        squad["cases"] += 1
        squad["flagged_cases"] += bool(flags)
        squad["flags"].update(flag["flag"] for flag in flags)
        if flags:
            per_case.append({"case_id": case.id, "squad_code": case.squad_code, "flags": flags})
    ranking = sorted(
        ({"squad_code": code, "cases": s["cases"], "flagged_cases": s["flagged_cases"],
          "flags": sum(s["flags"].values()), "by_flag": dict(s["flags"])} for code, s in squads.items()),
        key=lambda row: (row["flags"] / row["cases"], row["squad_code"]))
    for rank, row in enumerate(ranking, start=1):
        row["rank"] = rank
    return {"squads": ranking, "cases": per_case}
