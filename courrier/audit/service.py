"""Audit queries: the connection history (sessions table) and the event log (audit_events).

The one place their filters are written; the routes page through them and `flask audit` streams
them. Every filter is an equality or a range on an indexed column (see the models' indexes), and the
order — newest first, then id so pages are stable — follows the `created_at` indexes.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import selectinload

from courrier.audit import readable
from courrier.audit.models import AuditEvent
from courrier.auth.models import AuthSession, User
from courrier.auth.tokens import is_expired
from courrier.columns import utcnow
from courrier.database import paginate
from courrier.extensions import db
from courrier.signals import AUDIT_EVENT_TYPES, SECURITY_EVENT_TYPES

STREAM_BATCH = 1000


def _user_id_of_email(email):
    """The id of the user with this email, as a scalar subquery on the unique email index."""
    return select(User.id).where(User.email == email).scalar_subquery()


def _period(column, filters):
    """`date_from` is an inclusive bound, `date_to` an exclusive one (see audit.schemas.parse_date_bound)."""
    conditions = []
    if filters.get("date_from") is not None:
        conditions.append(column >= filters["date_from"])
    if filters.get("date_to") is not None:
        conditions.append(column < filters["date_to"])
    return conditions


def live_session_condition(now):
    """SQL for a live session: not revoked, not expired, not idle (courrier.auth.tokens.is_expired)."""
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    return and_(AuthSession.revoked_at.is_(None), AuthSession.expires_at > now,
                AuthSession.last_used_at > now - idle)


def sessions_query(filters):
    """The sessions matching the filters, newest first, with their user loaded."""
    query = select(AuthSession).options(selectinload(AuthSession.user))
    if filters.get("user_id") is not None:
        query = query.where(AuthSession.user_id == str(filters["user_id"]))
    if filters.get("email"):
        query = query.where(AuthSession.user_id == _user_id_of_email(filters["email"]))
    if filters.get("ip"):
        query = query.where(AuthSession.ip == filters["ip"])
    if filters.get("active") is not None:
        live = live_session_condition(utcnow())
        query = query.where(live if filters["active"] else not_(live))
    query = query.where(*_period(AuthSession.created_at, filters))
    return query.order_by(AuthSession.created_at.desc(), AuthSession.id.desc())


def events_query(filters):
    """The audit events matching the filters, newest first, with actor and subject loaded.

    `user_id` matches the actor or the subject; `email` matches the email recorded with the event
    (the one tried on a failed login) or the event's subject having that email.
    """
    query = select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.subject_user))
    if filters.get("type"):
        query = query.where(AuditEvent.type == filters["type"])
    if filters.get("user_id") is not None:
        user_id = str(filters["user_id"])
        query = query.where(or_(AuditEvent.actor_id == user_id, AuditEvent.subject_user_id == user_id))
    if filters.get("email"):
        email = filters["email"]
        query = query.where(or_(AuditEvent.email == email, AuditEvent.subject_user_id == _user_id_of_email(email)))
    if filters.get("ip"):
        query = query.where(AuditEvent.ip == filters["ip"])
    query = query.where(*_period(AuditEvent.created_at, filters))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def mark_activity(sessions, now=None):
    """Set each session's computed `active` flag (the same rule as the per-request check)."""
    now = now or utcnow()
    for session in sessions:
        session.active = session.revoked_at is None and not is_expired(session.expires_at, session.last_used_at, now)
    return sessions


def list_sessions(filters):
    """One page of the connection history: `{data, meta}`."""
    page = paginate(sessions_query(filters), filters["page"], filters["per_page"])
    mark_activity(page["data"])
    return page


def list_events(filters):
    """One page of the event log, each event in words too (`readable.describe`): `{data, meta}`."""
    page = paginate(events_query(filters), filters["page"], filters["per_page"])
    readable.describe(page["data"])
    return page


def event_types():
    """Every type the log holds, with its French label, in the order of courrier.signals."""
    return [{"type": event_type, "label": readable.EVENT_LABELS[event_type]} for event_type in AUDIT_EVENT_TYPES]


def own_history_events(user_id, filters):
    """One page of the security events of the caller's account, newest first: `{data, meta}`.

    The events whose subject they are: every security event names the account it concerns, their own
    actions included. An administrateur's changes to other accounts belong to those accounts' histories,
    not to theirs. The (subject_user_id, created_at) index gives the page in order, without a sort.
    """
    query = select(AuditEvent).where(
        AuditEvent.type.in_(SECURITY_EVENT_TYPES), AuditEvent.subject_user_id == user_id,
        *_period(AuditEvent.created_at, filters))
    if filters.get("type"):
        query = query.where(AuditEvent.type == filters["type"])
    page = paginate(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()),
                    filters["page"], filters["per_page"])
    for audit_event in page["data"]:
        audit_event.by_self = audit_event.actor_id == user_id
    return page


def own_history_sessions(user_id, filters):
    """One page of the caller's connection history (their sessions, live or ended), newest first."""
    return list_sessions({**filters, "user_id": user_id})


def _stream(query):
    """Every row of `query`, fetched in batches so that a large export never sits in memory at once."""
    result = db.session.scalars(query.execution_options(yield_per=STREAM_BATCH))
    for partition in result.partitions():
        yield from partition


def iter_sessions(filters):
    now = utcnow()
    for session in _stream(sessions_query(filters)):
        yield mark_activity([session], now)[0]


def iter_events(filters):
    yield from _stream(events_query(filters))
