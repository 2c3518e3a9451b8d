"""Evidence photos: officers' on-site photos uploaded to a case, served back to those who may see the case."""
import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from flask import request, send_file
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from PIL import Image, UnidentifiedImageError

from dispatch.case.models import Evidence
from dispatch.case.schemas import EvidenceOut
from dispatch.db import utcnow
from dispatch.errors import InputError, NotFound
from webapp.api.cases import visible_case
from webapp.auth import requires
from webapp.platform import current_platform, db_session

blp = Blueprint("evidence", __name__, description="Evidence photos")

IMAGE_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
EVIDENCE_DIR = "evidence"


class EvidenceForm(Schema):
    caption = fields.String(validate=validate.Length(max=200))
    # Read from request.files; declared here so the document shows the multipart body.
    photo = fields.Raw(metadata={"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"})


def photo_sized(view: Callable) -> Callable:
    """Photos may be larger than the JSON body limit: raise it for this route only."""

    @wraps(view)
    def sized(*args, **kwargs):
        request.max_content_length = current_platform().settings.app.max_upload_bytes
        return view(*args, **kwargs)

    return sized


def evidence_root() -> Path:
    settings = current_platform().settings
    return settings.path(settings.app.instance_dir) / EVIDENCE_DIR


@blp.route("/cases/<int:case_id>/evidence", methods=["POST"])
@photo_sized
@requires()
@blp.arguments(EvidenceForm, location="form", content_type="multipart/form-data")
@blp.response(201, EvidenceOut)
def upload(form: dict, case_id: int):
    """Attach a photo (JPEG, PNG or WebP) to a case the caller may see."""
    case = visible_case(case_id)
    photo = request.files.get("photo")
    if photo is None:
        raise InputError("photo", "a photo file is required")
    try:
        image = Image.open(photo.stream)
        image.verify()
    except (UnidentifiedImageError, OSError):
        raise InputError("photo", "not a JPEG, PNG or WebP image") from None
    if image.format not in IMAGE_SUFFIX:
        raise InputError("photo", f"{image.format} images are not accepted; send JPEG, PNG or WebP")
    relative = Path(str(case.id)) / f"{uuid.uuid4().hex}{IMAGE_SUFFIX[image.format]}"
    target = evidence_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    photo.stream.seek(0)
    photo.save(target)
    evidence = Evidence(case_id=case.id, uri=f"{EVIDENCE_DIR}/{relative.as_posix()}", caption=form.get("caption"),
                        taken_at=utcnow())
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
    if not evidence.uri.startswith(f"{EVIDENCE_DIR}/"):
        abort(404, message="this evidence is held by its source, not by the platform")
    root = evidence_root().resolve()
    path = (root / evidence.uri.removeprefix(f"{EVIDENCE_DIR}/")).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"evidence {evidence_id} has no file")
    return send_file(path)
