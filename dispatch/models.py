"""Every table, imported in one place so the metadata (and Alembic) sees them all."""
from dispatch.account.models import ApiToken, User
from dispatch.case.models import Case, CaseEvent, Evidence
from dispatch.db import Base
from dispatch.squad.models import Cell, Squad
from dispatch.ticket.models import Ticket

__all__ = ["ApiToken", "Base", "Case", "CaseEvent", "Cell", "Evidence", "Squad", "Ticket", "User"]
