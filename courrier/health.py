"""GET /api/health: is the app up and can it reach its database."""
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import text

from courrier.extensions import db
from courrier.schemas import Schema, envelope

blp = Blueprint("ops", __name__, url_prefix="/api", description="Exploitation")


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()


@blp.route("/health", methods=["GET"])
@blp.response(200, envelope(HealthSchema))
def health():
    """200 when the database answers; 503 `service_unavailable` otherwise (raised by the query)."""
    db.session.execute(text("SELECT 1"))
    return {"data": {"status": "ok", "database": "ok"}}
