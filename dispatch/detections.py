"""Detection reports from camera and drone workers: the hand-over from vision to intake.

A worker sends one report per violation event phase. `start` becomes a ticket through the same
intake rules as a hotline call (idempotent by event id, merged with nearby reports); `update`
and `end` add the photos taken since (the second photo that proves a car stayed; the first may bring
its frame unannotated with the object's box, kept for training once the case is reviewed). When such a
case is handled, the worker looks again and sends a recheck: gone verifies the case, still there
returns it for rework.
"""
import base64
import binascii
import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema
from sqlalchemy.orm import Session

from dispatch.case.enums import CaseAction, CaseStatus
from dispatch.case.models import Case, Evidence
from dispatch.case.transitions import transition
from dispatch.context import DispatchContext
from dispatch.evidence_store import EvidenceStore
from dispatch.intake import IntakeResult, find_ticket, submit_ticket
from dispatch.plates.grammar import is_plate
from dispatch.plates.service import record_detected_plate
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.schemas import LocationIn

PHOTO_PREFIX = "photo "  # evidence captions: the annotated photos, and
FRAME_PREFIX = "frame "  # the unannotated frame with the object's box (a training sample, see dispatch.review)
RULE_TEXT = {"illegal_parking": "视频识别：机动车违停", "street_vending": "视频识别：占道经营"}
RECHECK_PRESENT = "视频复核：违法行为仍在"
RECHECK_GONE = "视频复核：已消除"


def check_jpeg(value: str) -> None:
    try:
        head = base64.b64decode(value[:16], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("not base64") from None
    if not head.startswith(b"\xff\xd8"):
        raise ValidationError("not a JPEG")


class PhotoIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100),
                         metadata={"description": "unique within the event, e.g. the worker's file name"})
    jpeg_base64 = fields.String(required=True, validate=check_jpeg)
    taken_at = fields.AwareDateTime(metadata={"description": "default: observed_at of the report that brings it"})
    frame_jpeg_base64 = fields.String(validate=check_jpeg, metadata={
        "description": "optional: the same frame unannotated (no boxes, no caption), a training sample"})
    box_xyxy = fields.List(fields.Float(validate=validate.Range(0)), validate=validate.Length(equal=4), metadata={
        "description": "with frame_jpeg_base64: the object's box on it, pixels [x1, y1, x2, y2]"})

    @validates_schema
    def frame_has_its_box(self, data: dict, **_kwargs) -> None:
        if ("frame_jpeg_base64" in data) != ("box_xyxy" in data):
            raise ValidationError("frame_jpeg_base64 and box_xyxy come together", "box_xyxy")
        box = data.get("box_xyxy")
        if box is not None and not (box[0] < box[2] and box[1] < box[3]):
            raise ValidationError("x1 < x2 and y1 < y2", "box_xyxy")


class PlateReportIn(Schema):
    """The plate a worker read on the event's evidence (vision/plates), or why it read none."""

    text = fields.String(required=True, allow_none=True, metadata={"description": "null: no plate (see reason)"})
    colour = fields.String(allow_none=True, validate=validate.OneOf(["blue", "green", "yellow"]))
    confidence = fields.Float(load_default=0.0, validate=validate.Range(0, 1))
    raw = fields.String(load_default="", validate=validate.Length(max=40),
                        metadata={"description": "the recogniser's unconstrained read"})
    reason = fields.String(allow_none=True, validate=validate.OneOf(["no_plate_found", "not_a_plate",
                                                                     "low_confidence"]))
    detail = fields.String(allow_none=True, validate=validate.Length(max=200))
    name = fields.String(validate=validate.Length(1, 100), metadata={"description": "the crop's file name"})
    crop_jpeg_base64 = fields.String(validate=check_jpeg, metadata={"description": "the rectified plate"})

    @validates("text")
    def is_a_plate(self, value: str | None, **_kwargs) -> None:
        if value is not None and not is_plate(value):
            raise ValidationError(f"{value!r} is not a plate")

    @validates_schema
    def crop_has_its_name(self, data: dict, **_kwargs) -> None:
        if ("crop_jpeg_base64" in data) != ("name" in data):
            raise ValidationError("crop_jpeg_base64 and name come together", "name")
        if data.get("text") is None and not data.get("reason"):
            raise ValidationError("a report without a plate says why", "reason")


class DetectionIn(Schema):
    event_id = fields.String(required=True, validate=validate.Length(1, 64))
    source = fields.Enum(TicketSource, by_value=True, required=True)
    source_id = fields.String(required=True, validate=validate.Length(1, 64))
    phase = fields.String(required=True, validate=validate.OneOf(["start", "update", "end"]))
    rule = fields.String(required=True, validate=validate.OneOf(sorted(RULE_TEXT)))
    category = fields.String(required=True, validate=validate.Length(1, 8))
    observed_at = fields.AwareDateTime(required=True, metadata={"description": "wall-clock time of the phase"})
    dwell_s = fields.Float(required=True, validate=validate.Range(0))
    location = fields.Nested(LocationIn, required=True, allow_none=True,
                             metadata={"description": "null: the camera's position is unknown, place it by hand"})
    photos = fields.List(fields.Nested(PhotoIn), load_default=list, validate=validate.Length(max=5))
    plate = fields.Nested(PlateReportIn, load_default=None, allow_none=True,
                          metadata={"description": "parking events: the plate read on the evidence, or why none"})
    event = fields.Dict(load_default=dict, metadata={"description": "the worker's own event record, kept raw"})

    @validates("source")
    def is_a_sensor(self, value: TicketSource, **_kwargs) -> None:
        if value not in (TicketSource.CAMERA, TicketSource.DRONE):
            raise ValidationError("detections come from camera or drone sources")


def save_photos(
    *, ticket_id: int, photos: list[dict], known: set[str], store: EvidenceStore, observed_at: dt.datetime
) -> list[Evidence]:
    """Evidence rows for the photos not yet kept (by name) and their unannotated frames, files written to the store."""
    rows = []
    for photo in photos:
        caption = f"{PHOTO_PREFIX}{photo['name']}"
        if caption in known:
            continue
        taken_at = photo.get("taken_at") or observed_at  # the first report to bring a photo is the one it was taken for
        uri = store.save(folder=f"ticket-{ticket_id}", data=base64.b64decode(photo["jpeg_base64"]), suffix=".jpg")
        rows.append(Evidence(uri=uri, caption=caption, taken_at=taken_at))
        if "frame_jpeg_base64" in photo:
            uri = store.save(folder=f"ticket-{ticket_id}", data=base64.b64decode(photo["frame_jpeg_base64"]),
                             suffix=".jpg")
            rows.append(Evidence(uri=uri, caption=f"{FRAME_PREFIX}{photo['name']}", taken_at=taken_at,
                                 box_xyxy=photo["box_xyxy"]))
    return rows


def ingest_detection(
    *, session: Session, ctx: DispatchContext, detection: dict[str, Any], store: EvidenceStore, actor: str
) -> IntakeResult | None:
    """Apply one validated report (see DetectionIn); returns the intake result of a `start`, else None."""
    source = detection["source"]
    ticket = find_ticket(session=session, source=source.value, external_id=detection["event_id"])
    if detection["phase"] == "start" and ticket is None:
        ticket_in = {
            "source": source, "external_id": detection["event_id"], "category": detection["category"],
            "text": f"{RULE_TEXT[detection['rule']]}（{detection['source_id']}，停留 {detection['dwell_s']:.0f} 秒）",
            "address": None, "location": detection["location"], "received_at": detection["observed_at"],
            "evidence": [],
        }
        result = submit_ticket(session=session, ctx=ctx, ticket_in=ticket_in, raw=detection["event"], actor=actor)
        session.flush()
        ticket = result.ticket
    else:
        result = None
        if ticket is None:
            return None  # an update or end whose start never arrived: nothing to attach it to
    known = {evidence.caption for evidence in ticket.evidence}
    for evidence in save_photos(ticket_id=ticket.id, photos=detection["photos"], known=known, store=store,
                                observed_at=detection["observed_at"]):
        evidence.case = ticket.case
        ticket.evidence.append(evidence)
    if detection["plate"] is not None and ticket.case is not None:
        record_detected_plate(session=session, ctx=ctx, ticket=ticket, plate=detection["plate"], store=store,
                              actor=actor, now=detection["observed_at"])
    return result


class RecheckIn(Schema):
    """A worker's second look at a handled case's violation: is it still there?"""

    type = fields.String(required=True, validate=validate.Equal("recheck"))
    event_id = fields.String(required=True, validate=validate.Length(1, 64))
    source = fields.Enum(TicketSource, by_value=True, required=True)
    source_id = fields.String(required=True, validate=validate.Length(1, 64))
    present = fields.Boolean(required=True, metadata={"description": "the violation is still there"})
    observed_at = fields.AwareDateTime(required=True)


def ingest_recheck(
    *, session: Session, ctx: DispatchContext, recheck: dict[str, Any], actor: str
) -> Case | None:
    """A handled case is verified when its camera sees the violation gone, returned for rework when not."""
    ticket = find_ticket(session=session, source=recheck["source"].value, external_id=recheck["event_id"])
    case = ticket.case if ticket is not None else None
    if case is None or case.status != CaseStatus.HANDLED.value:
        return None  # nothing to verify any more (already verified by a person, or never a case)
    if recheck["present"]:
        transition(session=session, case=case, action=CaseAction.RETURN, actor=actor, now=recheck["observed_at"],
                   calendar=ctx.calendar, categories=ctx.categories, reason=RECHECK_PRESENT,
                   note=recheck["event_id"])
    else:
        transition(session=session, case=case, action=CaseAction.VERIFY, actor=actor, now=recheck["observed_at"],
                   calendar=ctx.calendar, categories=ctx.categories, note=f"{RECHECK_GONE}（{recheck['event_id']}）")
    return case
