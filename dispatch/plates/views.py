"""What the case detail shows of a plate: the crop, the plate's earlier cases, whether off-site handling may close it."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from config.plates import PlatesConfig
from dispatch.case.models import Case, Evidence
from dispatch.plates.offsite import offsite_refusal
from dispatch.plates.service import PLATE_PREFIX, history_view
from dispatch.privacy import mask_plate


def plate_detail(session: Session, case: Case, evidence: list[Evidence], rules: PlatesConfig) -> dict[str, Any]:
    """plate_crop_id, plate_history and offsite for the case detail (the plate itself is on the case)."""
    crops = [item.id for item in evidence if (item.caption or "").startswith(PLATE_PREFIX)]
    refusal = offsite_refusal(session, case, rules.offsite)
    return {"plate_crop_id": crops[-1] if crops else None, "plate_history": history_view(session, case),
            "offsite": {"allowed": refusal is None, "reason": refusal, "legal_basis": rules.offsite.legal_basis}}


def masked_plate(view: dict[str, Any]) -> dict[str, Any]:
    """A case view with its plate masked (豫S***45): for machine tokens and exports."""
    return {**view, "plate": mask_plate(view.get("plate"))}
