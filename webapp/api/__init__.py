"""The JSON REST API under /api/, documented at /api/openapi.json."""
from flask_smorest import Api

from webapp.api import auth, cases, detections, evidence, grid, hotline, open311, patrol, plates, sources, stats, tickets


def register_api(api: Api) -> None:
    api.register_blueprint(auth.blp, url_prefix="/api/auth")
    api.register_blueprint(tickets.blp, url_prefix="/api/tickets")
    api.register_blueprint(cases.blp, url_prefix="/api/cases")
    api.register_blueprint(detections.blp, url_prefix="/api/detections")
    api.register_blueprint(sources.blp, url_prefix="/api/sources")
    api.register_blueprint(grid.blp, url_prefix="/api")
    api.register_blueprint(evidence.blp, url_prefix="/api")
    api.register_blueprint(stats.blp, url_prefix="/api/stats")
    api.register_blueprint(plates.blp, url_prefix="/api")
    api.register_blueprint(hotline.blp, url_prefix="/api/hotline")
    api.register_blueprint(open311.blp, url_prefix="/open311/v2")
    api.register_blueprint(patrol.blp, url_prefix="/api/patrol")
