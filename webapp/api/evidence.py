"""Evidence photos: officers' on-site photos uploaded to a case, served back to those who may see the case."""
from typing import IO

from flask import request, send_file
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from PIL import Image, UnidentifiedImageError

from dispatch.case.models import Evidence
from dispatch.case.schemas import EvidenceOut
from dispatch.db import utcnow
from dispatch.evidence_store import EvidenceStore
from dispatch.errors import InputError, NotFound
from webapp.api.cases import visible_case
from webapp.auth import principal, requires
from webapp.guards import takes_uploads
from webapp.platform import current_platform, db_session

blp = Blueprint("evidence", __name__, description="Evidence photos")

IMAGE_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


class EvidenceForm(Schema):
    caption = fields.String(validate=validate.Length(max=200))
    # The page shrinks a phone photo before upload, which drops its EXIF: it reads these first and sends them.
    taken_at = fields.AwareDateTime(metadata={"description": "when the photo was taken (EXIF DateTimeOriginal)"})
    lon = fields.Float(validate=validate.Range(-180, 180), metadata={"description": "EXIF GPS longitude, WGS-84"})
    lat = fields.Float(validate=validate.Range(-90, 90), metadata={"description": "EXIF GPS latitude, WGS-84"})
    original_bytes = fields.Integer(validate=validate.Range(0), metadata={"description": "size before shrinking"})
    original_size = fields.String(validate=validate.Regexp(r"^\d{1,6}x\d{1,6}$"),
                                  metadata={"description": "WIDTHxHEIGHT before shrinking"})
    # Read from request.files; declared here so the document shows the multipart body.
    photo = fields.Raw(metadata={"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"})


def checked_image(stream: IO[bytes]) -> Image.Image:
    """The photo's header read and its data verified, refused (422) before decoding when it has too many pixels."""
    most = current_platform().settings.security.max_photo_pixels
    try:
        image = Image.open(stream)  # reads the header only
        width, height = image.size
        if width * height > most:
            raise InputError("photo", f"the photo is {width}x{height} pixels; at most {most} pixels are accepted")
        image.verify()
    except Image.DecompressionBombError:  # so large that Pillow refuses to open it at all
        raise InputError("photo", f"the photo has far more than {most} pixels") from None
    except (UnidentifiedImageError, OSError):
        raise InputError("photo", "not a JPEG, PNG or WebP image", key="photo_not_image") from None
    return image


def evidence_store() -> EvidenceStore:
    return current_platform().evidence


@blp.route("/cases/<int:case_id>/evidence", methods=["POST"])
@takes_uploads
@requires()
@blp.arguments(EvidenceForm, location="form", content_type="multipart/form-data")
@blp.response(201, EvidenceOut)
def upload(form: dict, case_id: int):
    """Attach a photo (JPEG, PNG or WebP) to a case the caller may see."""
    case = visible_case(case_id)
    photo = request.files.get("photo")
    if photo is None:
        raise InputError("photo", "a photo file is required", key="photo_required")
    image = checked_image(photo.stream)
    if image.format not in IMAGE_SUFFIX:
        raise InputError("photo", f"{image.format} images are not accepted; send JPEG, PNG or WebP",
                         key="photo_not_image")
    photo.stream.seek(0)
    uri = evidence_store().save(folder=f"case-{case.id}", data=photo.stream.read(), suffix=IMAGE_SUFFIX[image.format])
    exif = {name: form[name] for name in ("lon", "lat", "original_bytes", "original_size") if name in form}
    if "taken_at" in form:
        exif["taken_at"] = form["taken_at"].isoformat()
    now = utcnow()
    evidence = Evidence(case_id=case.id, uri=uri, caption=form.get("caption"), taken_at=form.get("taken_at") or now,
                        uploaded_at=now, uploaded_by=principal().name, exif=exif or None)
    session = db_session()
    session.add(evidence)
    session.commit()
    return evidence


@blp.route("/evidence/<int:evidence_id>", methods=["GET"])
@requires()
@blp.response(200, description="the image file")
def download(evidence_id: int):
    evidence = db_session().get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"no evidence {evidence_id}")
    case_id = evidence.case_id or (evidence.ticket.case_id if evidence.ticket else None)
    if case_id is None:
        abort(404, message="this evidence is not attached to a case yet")
    visible_case(case_id)
    path = evidence_store().path_of(evidence.uri)
    if path is None:
        raise NotFound(f"evidence {evidence_id} is not a file the platform holds")
    return send_file(path)
