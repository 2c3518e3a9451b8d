"""Input and output shapes of cases."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dispatch.case.enums import CaseAction, CaseStatus, HandlingResult, ReviewReason, ReviewStatus
from dispatch.ticket.schemas import TicketOut


class CaseQuery(Schema):
    status = fields.List(fields.Enum(CaseStatus, by_value=True), metadata={"description": "one or more states"})
    squad = fields.String()
    cell = fields.String()
    category = fields.String()
    overdue = fields.Boolean()
    review = fields.Enum(ReviewStatus, by_value=True, metadata={"description": "camera and drone cases by review"})
    since = fields.AwareDateTime(metadata={"description": "reported at or after"})
    until = fields.AwareDateTime(metadata={"description": "reported before"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class TransitionIn(Schema):
    action = fields.Enum(CaseAction, by_value=True, required=True)
    note = fields.String(validate=validate.Length(max=2000))
    reason = fields.String(validate=validate.Length(max=2000),
                           metadata={"description": "required to reject or to return for rework"})
    result = fields.Enum(HandlingResult, by_value=True, metadata={"description": "required to handle"})
    squad = fields.String(metadata={"description": "dispatch to this squad instead of the cell's"})
    officer = fields.String(validate=validate.Length(1, 64),
                            metadata={"description": "dispatch to this officer of the squad by username (their task list shows it first)"})
    basis = fields.String(validate=validate.Length(max=40),
                          metadata={"description": "handle: the legal provision a penalty cites (config/review.yaml)"})


class SignoffIn(Schema):
    step = fields.String(required=True, metadata={"description": "the step signed off, e.g. close or handle:simple_penalty"})
    opinion = fields.String(validate=validate.Length(max=2000), metadata={"description": "the approver's opinion (签批意见)"})


class SignoffStepOut(Schema):
    step = fields.String()
    signed_by = fields.String(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    opinion = fields.String(allow_none=True)


class ReviewIn(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(["confirm", "reject"]),
                            metadata={"description": "confirm registers the case; reject closes it as rejected"})
    reason = fields.Enum(ReviewReason, by_value=True, metadata={"description": "required to reject"})
    note = fields.String(validate=validate.Length(max=2000))

    @validates_schema
    def reject_has_reason(self, data: dict, **_kwargs) -> None:
        if data["verdict"] == "reject" and "reason" not in data:
            raise ValidationError(f"a reason is required to reject: one of {', '.join(ReviewReason)}", "reason")


class SplitIn(Schema):
    ticket_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1),
                               metadata={"description": "a ticket of this case (ids are 32-bit)"})


class CaseOut(Schema):
    id = fields.Integer()
    category = fields.String()
    category_name = fields.String()
    status = fields.String()
    priority = fields.Integer()
    lon = fields.Float()
    lat = fields.Float()
    address = fields.String(allow_none=True)
    cell_code = fields.String()
    squad_code = fields.String()
    reported_at = fields.AwareDateTime()
    registered_at = fields.AwareDateTime(allow_none=True)
    deadline_at = fields.AwareDateTime(allow_none=True)
    dispatched_at = fields.AwareDateTime(allow_none=True)
    accepted_at = fields.AwareDateTime(allow_none=True)
    handled_at = fields.AwareDateTime(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    rejected_at = fields.AwareDateTime(allow_none=True)
    handling_result = fields.String(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    review_status = fields.String(allow_none=True, metadata={"description": "camera and drone cases: pending, "
                                                             "confirmed or rejected; null when none is needed"})
    rework_count = fields.Integer()
    overdue = fields.Boolean()
    assigned_to = fields.String(allow_none=True, metadata={"description": "the officer it was dispatched to by name"})
    ticket_count = fields.Integer()
    sources = fields.List(fields.String(), metadata={"description": "the sources of its tickets, first report first"})
    plate = fields.String(allow_none=True, metadata={"description": "the vehicle's plate (masked to machine tokens)"})
    plate_colour = fields.String(allow_none=True, metadata={"description": "blue, green (new energy) or yellow"})
    plate_confidence = fields.Float(allow_none=True, metadata={"description": "the read's confidence; 1 if corrected"})
    plate_source = fields.String(allow_none=True, metadata={"description": "camera, drone, text or dispatcher"})
    plate_note = fields.String(allow_none=True, metadata={"description": "why the camera read no plate"})
    leniency = fields.String(allow_none=True, metadata={
        "description": "the handling the first-offence rule suggests (warned for a first offence, else a penalty)"})


class CaseEventOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    actor = fields.String()
    actor_kind = fields.String(metadata={"description": "user, token (a machine client) or system"})
    actor_name = fields.String(metadata={"description": "the user's display name, the token's name, or the step"})
    at = fields.AwareDateTime()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class EvidenceOut(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer(allow_none=True)
    uri = fields.String()
    caption = fields.String(allow_none=True)
    taken_at = fields.AwareDateTime(allow_none=True)
    uploaded_at = fields.AwareDateTime(allow_none=True)
    exif = fields.Dict(allow_none=True, metadata={"description": "the photo's EXIF time and position, as the phone read it"})


class RatingView(Schema):
    rating = fields.String(metadata={"description": "satisfied, basically_satisfied or dissatisfied"})
    note = fields.String(allow_none=True)
    actor = fields.String()
    at = fields.AwareDateTime()


class ReviewOut(Schema):
    """What the reviewer of a camera or drone case reads (from the report that opened it)."""

    status = fields.String()
    source = fields.String()
    source_id = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    zone_id = fields.String(allow_none=True)
    dwell_s = fields.Float(allow_none=True, metadata={"description": "seconds stationary when the event started"})
    confidence = fields.Float(allow_none=True)
    event_id = fields.String()
    photos = fields.List(fields.Nested(EvidenceOut), metadata={"description": "the two evidence photos"})
    reason = fields.String(allow_none=True)


class CaseDetailOut(CaseOut):
    timeline = fields.List(fields.Nested(CaseEventOut))
    tickets = fields.List(fields.Nested(TicketOut))
    evidence = fields.List(fields.Nested(EvidenceOut))
    rating = fields.Nested(RatingView, allow_none=True,
                           metadata={"description": "the caller's follow-up rating (回访) since the case last closed"})
    review = fields.Nested(ReviewOut, allow_none=True)
    signoffs = fields.List(fields.Nested(SignoffStepOut), metadata={"description": "steps that need a sign-off"})
    can_sign_off = fields.Boolean(metadata={"description": "whether the viewer's role may sign off"})
    review_flags = fields.List(fields.Dict(), metadata={"description": "what a reviewer flags (评查)"})
    plate_crop_id = fields.Integer(allow_none=True, metadata={"description": "evidence id of the plate's crop"})
    plate_history = fields.List(fields.Dict(), metadata={"description": "earlier cases of the same plate, newest first"})
    offsite = fields.Dict(metadata={"description": "whether off-site handling (offsite_notice) may close it, and why not"})


class CaseList(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(CaseOut))
