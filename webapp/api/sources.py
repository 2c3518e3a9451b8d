"""Camera and drone sources as their workers last reported them."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from dispatch.account.enums import Role
from webapp.auth import requires
from webapp.platform import current_platform

blp = Blueprint("sources", __name__, description="Vision sources' health")


class SourceHealthOut(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "camera or drone"})
    connected = fields.Boolean()
    fps = fields.Float(metadata={"description": "frames analysed per second, recent window"})
    last_frame_at = fields.Float(allow_none=True, metadata={"description": "Unix time of the last frame"})
    frames_read = fields.Integer()
    reconnects = fields.Integer()
    last_error = fields.String(allow_none=True)
    ended = fields.Boolean(metadata={"description": "a file source that has played to its end"})
    reported_at = fields.Float(metadata={"description": "Unix time of the worker's report"})


@blp.route("", methods=["GET"])
@requires(Role.ADMIN, Role.DISPATCHER)
@blp.response(200, SourceHealthOut(many=True))
def health():
    board = current_platform().source_health.all()
    return [{"id": source_id, **entry} for source_id, entry in sorted(board.items())]
