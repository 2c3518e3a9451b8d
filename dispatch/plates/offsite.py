"""Off-site handling (非现场执法): a camera parking case with its photos and a confident plate, handled by notice."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.plates import OffsiteConfig
from dispatch.case.events import SENSOR_SOURCES
from dispatch.case.models import Case, Evidence


def camera_photos(session: Session, case: Case) -> list[Evidence]:
    """The annotated evidence photos of the case's camera and drone tickets."""
    from dispatch.detections import PHOTO_PREFIX  # dispatch.detections imports the case loop

    tickets = [ticket.id for ticket in case.tickets if ticket.source in SENSOR_SOURCES]
    query = select(Evidence).where(Evidence.ticket_id.in_(tickets), Evidence.caption.startswith(PHOTO_PREFIX))
    return list(session.scalars(query.order_by(Evidence.id)))


def offsite_refusal(session: Session, case: Case, rules: OffsiteConfig | None) -> str | None:
    """Why this case may not be handled off site, or None when it may."""
    if rules is None or not rules.enabled:
        return "off-site handling (非现场执法) is not enabled in this city"
    if case.category not in rules.categories:
        return f"category {case.category} is not handled off site here"
    photos = camera_photos(session, case)
    if len(photos) < rules.min_photos:
        return f"off-site handling needs {rules.min_photos} camera photos; the case has {len(photos)}"
    if case.plate is None:
        return "off-site handling needs the vehicle's plate"
    if (case.plate_confidence or 0.0) < rules.min_confidence:
        return f"the plate's confidence {case.plate_confidence or 0:.2f} is under {rules.min_confidence:.2f}"
    return None


def offsite_notice(session: Session, case: Case, rules: OffsiteConfig) -> dict[str, Any]:
    """The notice's data (违法停车告知单): plate, time, place, photos and legal basis, as the timeline keeps it."""
    photos = camera_photos(session, case)
    first = photos[0].taken_at or case.reported_at
    return {"plate": case.plate, "plate_colour": case.plate_colour, "observed_at": first.isoformat(),
            "address": case.address, "cell_code": case.cell_code, "lon": case.lon, "lat": case.lat,
            "photo_ids": [photo.id for photo in photos], "legal_basis": rules.legal_basis}
