"""/api/audit: the connection history and the event log, read-only, for administrateurs (API.md section 6).

Only GET is routed: the log is append-only through the API, so DELETE, PUT or PATCH answer 405.
"""
from flask_smorest import Blueprint

from courrier.audit import service
from courrier.audit.schemas import AuditEventArgsSchema, AuditEventSchema, AuditSessionArgsSchema, AuditSessionSchema
from courrier.auth.guard import auth_required
from courrier.schemas import envelope

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit (administrateurs)")

admin_only = auth_required("administrateur")


@blp.route("/sessions", methods=["GET"])
@admin_only
@blp.arguments(AuditSessionArgsSchema, location="query")
@blp.response(200, envelope(AuditSessionSchema, paginated=True))
def list_sessions(filters):
    """Connection history: every session, newest first; filters user_id, email, ip, active, date_from, date_to."""
    return service.list_sessions(filters)


@blp.route("/events", methods=["GET"])
@admin_only
@blp.arguments(AuditEventArgsSchema, location="query")
@blp.response(200, envelope(AuditEventSchema, paginated=True))
def list_events(filters):
    """The audit log, newest first; filters type, user_id (actor or subject), email, ip, date_from, date_to."""
    return service.list_events(filters)
