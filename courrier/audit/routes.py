"""/api/audit: the connection history and the event log, read-only, for administrateurs (API.md section 6);
/api/auth/history: every user's own connection history and security events (RGPD right of access).

Only GET is routed: the log is append-only through the API, so DELETE, PUT or PATCH answer 405.
"""
from flask_smorest import Blueprint

from courrier.audit import service
from courrier.audit.schemas import (
    AuditEventArgsSchema, AuditEventSchema, AuditSessionArgsSchema, AuditSessionSchema, EventTypeSchema,
    HistoryEventArgsSchema, HistoryEventSchema, PeriodArgsSchema, HistorySessionSchema,
)
from courrier.auth.guard import auth_required, current_principal
from courrier.schemas import envelope

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit (administrateurs)")

history_blp = Blueprint("history", __name__, url_prefix="/api/auth", description="Mon historique (tout utilisateur)")

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


@blp.route("/types", methods=["GET"])
@admin_only
@blp.response(200, envelope(EventTypeSchema, many=True))
def event_types():
    """Every event type the log can hold, with its French label (the Journal's filter)."""
    return {"data": service.event_types()}


@history_blp.route("/history", methods=["GET"])
@auth_required()
@history_blp.arguments(HistoryEventArgsSchema, location="query")
@history_blp.response(200, envelope(HistoryEventSchema, paginated=True))
def own_history(filters):
    """The caller's security events (logins, failures, password and MFA changes…), newest first."""
    return service.own_history_events(current_principal().id, filters)


@history_blp.route("/history/sessions", methods=["GET"])
@auth_required()
@history_blp.arguments(PeriodArgsSchema, location="query")
@history_blp.response(200, envelope(HistorySessionSchema, paginated=True))
def own_connections(filters):
    """The caller's connection history: each session, live or ended, with its IP and browser, newest first."""
    return service.own_history_sessions(current_principal().id, filters)
