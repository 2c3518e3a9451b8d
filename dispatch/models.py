"""Every table, imported in one place so the metadata (and Alembic) sees them all."""
from dispatch.account.models import ApiToken, User
from dispatch.address.models import AddressCandidate, StandardAddress
from dispatch.audit.models import AuditAnchor
from dispatch.case.models import Case, CaseEvent, Evidence
from dispatch.db import Base
from dispatch.hotline.models import CaseRating, HotlineReply, ImportJob
from dispatch.patrol.models import CheckIn, Patrol, PatrolPosition, RosterShift
from dispatch.squad.models import Cell, Squad
from dispatch.ticket.models import Ticket

__all__ = [
    "AddressCandidate", "ApiToken", "AuditAnchor", "Base", "Case", "CaseEvent", "CaseRating", "Cell", "CheckIn",
    "Evidence", "HotlineReply", "ImportJob", "Patrol", "PatrolPosition", "RosterShift",
    "Squad", "StandardAddress", "Ticket", "User",
]
