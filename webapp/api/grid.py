"""The city: squads, the unit grid as GeoJSON, and the category table."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from dispatch.squad.service import list_squads
from webapp.auth import requires
from webapp.platform import current_platform, db_session

blp = Blueprint("city", __name__, description="Squads, grid cells and categories")


class SquadOut(Schema):
    code = fields.String()
    name = fields.String()
    district_code = fields.String(allow_none=True)
    cell_count = fields.Integer()


class GridQuery(Schema):
    squad = fields.String(metadata={"description": "only this squad's cells"})


class FeatureCollectionOut(Schema):
    type = fields.String(metadata={"description": "FeatureCollection"})
    features = fields.List(fields.Dict(), metadata={"description": "cells: properties code, district_code, squad_code"})


class CategoryOut(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    description = fields.String()
    time_limit_h = fields.Float(metadata={"description": "handling limit in working hours"})
    priority = fields.Integer()


@blp.route("/squads", methods=["GET"])
@requires()
@blp.response(200, SquadOut(many=True))
def squads():
    return list_squads(session=db_session())


@blp.route("/grid", methods=["GET"])
@requires()
@blp.arguments(GridQuery, location="query")
@blp.response(200, FeatureCollectionOut, description="GeoJSON FeatureCollection of cells (WGS-84)")
def grid(query: dict):
    """The unit grid cells with their codes and squads."""
    unit_grid = current_platform().ctx.grid
    if unit_grid is None:
        return {"type": "FeatureCollection", "features": []}
    collection = unit_grid.to_geojson()
    if query.get("squad"):
        features = [f for f in collection["features"] if f["properties"]["squad_code"] == query["squad"]]
        collection = {**collection, "features": features}
    return collection


@blp.route("/categories", methods=["GET"])
@requires()
@blp.response(200, CategoryOut(many=True))
def categories():
    return list(current_platform().ctx.categories)
