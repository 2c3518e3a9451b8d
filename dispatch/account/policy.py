"""Who may see and do what: pure rules on a principal, checked by every route and socket room."""
from dataclasses import dataclass, field

from dispatch.account.enums import CENTRE_ROLES, SQUAD_ROLES, Role
from dispatch.case.enums import CaseAction
from dispatch.ticket.enums import TicketSource

SQUAD_ACTIONS = frozenset({CaseAction.ACCEPT, CaseAction.HANDLE})


@dataclass(frozen=True)
class Principal:
    """A signed-in person (role set) or a machine token (sources set)."""

    name: str
    role: Role | None
    squad_code: str | None
    user_id: int | None = None
    sources: frozenset[TicketSource] = field(default_factory=frozenset)

    @property
    def is_centre(self) -> bool:
        return self.role in CENTRE_ROLES

    @property
    def is_squad_member(self) -> bool:
        return self.role in SQUAD_ROLES


def visible_squad(principal: Principal) -> str | None:
    """The one squad whose cases this person may see, or None for all (dispatch centre)."""
    return principal.squad_code if principal.is_squad_member else None


def can_view_squad(principal: Principal, squad_code: str) -> bool:
    return principal.is_centre or (principal.is_squad_member and principal.squad_code == squad_code)


def can_act(principal: Principal, action: CaseAction, squad_code: str) -> bool:
    """The centre registers, dispatches, verifies and closes; the case's own squad accepts and handles."""
    if action in SQUAD_ACTIONS:
        return principal.role is Role.ADMIN or (principal.is_squad_member and principal.squad_code == squad_code)
    return principal.is_centre


def can_submit(principal: Principal, source: TicketSource) -> bool:
    """Tokens submit as their own sources; the centre as any; officers report from patrol."""
    if principal.role is None:
        return source in principal.sources
    return principal.is_centre or (principal.is_squad_member and source is TicketSource.PATROL)


def can_view_positions(principal: Principal, squad_code: str) -> bool:
    """Where officers are: their own squad's leader and the centre, never other squads, officers or machine tokens."""
    return principal.is_centre or (principal.role is Role.SQUAD_LEADER and principal.squad_code == squad_code)


def reveals_contact(principal: Principal) -> bool:
    """Callers' names and phone numbers are shown to dispatchers and admins only."""
    return principal.is_centre


def reveals_plate(principal: Principal, squad_code: str) -> bool:
    """Plates are shown to dispatchers and to the case's own squad; masked to machine tokens and in exports."""
    return can_view_squad(principal, squad_code)


def can_search_plates(principal: Principal, roles: list[str]) -> bool:
    """Looking cases up by plate: only the roles the city allows (config `plates.search_roles`)."""
    return principal.role is not None and principal.role.value in roles
