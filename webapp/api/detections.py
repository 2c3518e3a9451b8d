"""Detection reports from camera and drone workers that reach the platform over HTTP."""
from typing import Any

from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from dispatch.account.enums import Role

from dispatch.account.policy import can_submit
from dispatch.case.events import commit_and_publish
from dispatch.case.schemas import CaseOut
from dispatch.detections import DetectionIn, ingest_detection
from dispatch.privacy import mask_plate
from webapp.api.tickets import case_for
from webapp.auth import principal, requires
from webapp.platform import current_platform, db_session

blp = Blueprint("detections", __name__, description="Violation reports from vision workers")


class DetectionOut(Schema):
    outcome = fields.String(metadata={"description": "created, merged, duplicate, unlocated, or updated"})
    ticket_id = fields.Integer(allow_none=True)
    case = fields.Nested(CaseOut, allow_none=True)


@blp.route("", methods=["POST"])
@requires(tokens=True)
@blp.arguments(DetectionIn)
@blp.response(200, DetectionOut)
def report(detection: dict):
    """One phase of a violation event; `start` becomes a ticket, later phases add their photos."""
    if not can_submit(principal(), detection["source"]):
        abort(403, message=f"{principal().name} may not report as {detection['source'].value}")
    platform, session = current_platform(), db_session()
    result = ingest_detection(session=session, ctx=platform.ctx, detection=detection, store=platform.evidence,
                              actor=principal().name)
    commit_and_publish(session, platform.bus)
    if result is None:
        return {"outcome": "updated", "ticket_id": None, "case": None}
    case = case_for(result.case, platform.ctx.categories) if result.case is not None else None
    return {"outcome": result.outcome.value, "ticket_id": result.ticket.id, "case": case}


class DeadLetterQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class DeadLetterOut(Schema):
    id = fields.String(metadata={"description": "the report's id on the stream"})
    reason = fields.String()
    parked_at = fields.String(metadata={"description": "ISO 8601"})
    message = fields.Raw(metadata={"description": "the report as sent, photos left out"})


def without_photos(message: Any) -> Any:
    """The report with each photo's JPEG data replaced by its length."""
    if not isinstance(message, dict) or not isinstance(message.get("photos"), list):
        return message
    photos = [{**photo, "jpeg_base64": f"<{len(str(photo.get('jpeg_base64', '')))} characters>"}
              if isinstance(photo, dict) else photo for photo in message["photos"]]
    plate = message.get("plate")
    if isinstance(plate, dict) and "crop_jpeg_base64" in plate:  # the plate's crop, and its text masked
        message = {**message, "plate": {**plate, "text": mask_plate(plate.get("text")),
                                        "crop_jpeg_base64": f"<{len(str(plate['crop_jpeg_base64']))} characters>"}}
    return {**message, "photos": photos}


@blp.route("/dead-letters", methods=["GET"])
@requires(Role.ADMIN)
@blp.arguments(DeadLetterQuery, location="query")
@blp.response(200, DeadLetterOut(many=True))
def dead_letters(query: dict):
    """Reports parked as never takeable (invalid, crashing the handler, or failing every delivery), newest first."""
    parked = current_platform().detections.dead_letters(limit=query["limit"])
    return [{**item, "message": without_photos(item["message"])} for item in parked]
