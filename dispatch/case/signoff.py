"""Sign-off (签批): steps a city marks in config/signoff.yaml wait for a named approver's opinion."""
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from dispatch.account.enums import Role
from dispatch.case.enums import CaseAction, EventKind, HandlingResult
from dispatch.case.events import record_event
from dispatch.case.models import Case, CaseEvent
from dispatch.errors import DispatchError, InputError

EVERY_CATEGORY = "*"


class SignoffRequired(DispatchError):
    """The step needs a sign-off the case does not have yet (HTTP 409, key 'signoff_required')."""

    key = "signoff_required"

    def __init__(self, step: str) -> None:
        super().__init__(f"'{step}' needs an approver's sign-off (签批) first")
        self.step = step


def valid_steps() -> frozenset[str]:
    return frozenset(a.value for a in CaseAction) | {f"{CaseAction.HANDLE.value}:{r.value}" for r in HandlingResult}


@dataclass(frozen=True)
class SignoffRules:
    signer_roles: frozenset[Role]
    steps: dict[str, frozenset[str]]  # category code or EVERY_CATEGORY → steps

    @classmethod
    def from_yaml(cls, path: Path) -> "SignoffRules":
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        try:
            roles = frozenset(Role(role) for role in data.get("signer_roles") or [])
        except ValueError as exc:
            raise ValueError(f"{path}: signer_roles: {exc}") from exc
        steps = {str(code): frozenset(names or []) for code, names in (data.get("steps") or {}).items()}
        for code, names in steps.items():
            if unknown := names - valid_steps():
                raise ValueError(f"{path}: steps.{code}: unknown step(s) {sorted(unknown)}")
        return cls(signer_roles=roles, steps=steps)

    def for_category(self, category: str) -> frozenset[str]:
        """Every step of this category that needs a sign-off."""
        return self.steps.get(EVERY_CATEGORY, frozenset()) | self.steps.get(category, frozenset())

    def needed(self, category: str, action: CaseAction, result: str | None = None) -> str | None:
        """The step of this move that needs a sign-off, or None."""
        marked = self.for_category(category)
        if result is not None and f"{action.value}:{result}" in marked:
            return f"{action.value}:{result}"
        return action.value if action.value in marked else None


def current_signoff(case: Case, step: str) -> CaseEvent | None:
    """The sign-off of `step` given since the case last moved, or None."""
    for event in reversed(case.events):
        if event.kind == EventKind.SIGNED_OFF.value and event.data.get("step") == step:
            return event
        if event.to_status is not None:
            return None
    return None


def signoff_state(rules: SignoffRules, case: Case) -> list[dict]:
    """Each step of the case's category that needs a sign-off, and its sign-off in the current stage."""
    state = []
    for step in sorted(rules.for_category(case.category)):
        signed = current_signoff(case, step)
        state.append({"step": step, "signed_by": signed.actor if signed else None,
                      "signed_at": signed.at if signed else None, "opinion": signed.note if signed else None})
    return state


def require_signoff(*, rules: SignoffRules, case: Case, action: CaseAction, result: str | None) -> None:
    step = rules.needed(case.category, action, result)
    if step is not None and current_signoff(case, step) is None:
        raise SignoffRequired(step)


def sign_off(
    *, session: Session, rules: SignoffRules, case: Case, step: str, opinion: str | None, actor: str, role: Role,
    now: dt.datetime,
) -> CaseEvent:
    """The approver's sign-off of `step`, with their opinion, as a timeline entry (the caller checked the role)."""
    if step not in rules.for_category(case.category):
        raise InputError("step", f"'{step}' needs no sign-off for category {case.category}")
    if not (opinion and opinion.strip()):
        raise InputError("opinion", "a sign-off needs the approver's opinion (签批意见)")
    if current_signoff(case, step) is not None:
        raise InputError("step", f"'{step}' is already signed off for this stage")
    return record_event(session=session, case=case, kind=EventKind.SIGNED_OFF, actor=actor, at=now,
                        note=opinion.strip(), data={"step": step, "role": role.value})
