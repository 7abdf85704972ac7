"""The caller's own profile (/api/auth/me): who they are, their services and their preferences.

GET /me reads it in the statement of its session check (`PROFILE_CHECK`, passed to
`auth_required(check_with=…)`), so the hot path stays one indexed query.
"""
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select, update

from courrier import signals
from courrier.signals import announce
from courrier.auth.models import User
from courrier.auth.tokens import SessionTokenStore
from courrier.columns import utcnow
from courrier.database import PreparedQuery, run_idempotent, transactional
from courrier.documents.visibility import Viewer
from courrier.extensions import db
from courrier.services.models import Service, ServiceMember
from courrier.statistics import service as statistics

NUMERISER = "numeriser"
_PROFILE_COLUMNS = (User.notifications_email, User.mfa_enabled_at, ServiceMember.service_id,
                    ServiceMember.is_primary, Service.code.label("service_code"), Service.nom.label("service_nom"),
                    Service.is_mail_office)


def _with_profile(statement):
    return (statement.add_columns(*_PROFILE_COLUMNS)
            .outerjoin(ServiceMember.__table__, ServiceMember.user_id == User.id)
            .outerjoin(Service.__table__, Service.id == ServiceMember.service_id)
            .order_by(ServiceMember.is_primary.desc(), Service.code))


# What /me shows beyond the principal (preferences, services), read with the session check in one
# statement (`auth_required(check_with=…)`), or alone (after PATCH /me, or without a sessions table).
# Like the check: no ORM session, compiled once.
PROFILE_CHECK = PreparedQuery(_with_profile(SessionTokenStore.check_statement))
_profile_query = PreparedQuery(_with_profile(select().select_from(User.__table__))
                               .where(User.id == db.bindparam("user_id")))


def profile(principal, rows=None):
    """The caller as /me shows them: the principal, their services, their preferences and what they may open
    beyond the letters (`actions`: the dashboard).

    `rows` are PROFILE_CHECK's, when the session check read them; else one query reads them here.
    """
    if rows is None:
        rows = run_idempotent(lambda connection: _profile_query.all(connection, user_id=principal.id))
    memberships = [SimpleNamespace(service_id=row.service_id, is_primary=row.is_primary,
                                   service=SimpleNamespace(code=row.service_code, nom=row.service_nom))
                   for row in rows if row.service_id is not None]
    in_mail_office = any(row.is_mail_office for row in rows)
    # Scans in bulk are the mail office's (those who see every letter): the same rule as the route's.
    scans = [NUMERISER] if Viewer(principal.id, principal.role, in_mail_office=in_mail_office).sees_all else []
    return {**vars(principal), "memberships": memberships,  # vars: asdict's deep copy cost 8 % of a /me
            "notifications_email": rows[0].notifications_email, "mfa_enabled": rows[0].mfa_enabled_at is not None,
            "mfa_required": principal.role in current_app.config["MFA_REQUIRED_ROLES"],
            "actions": statistics.actions_of(principal.role, in_mail_office, bool(memberships)) + scans}


def update_profile(principal, data):
    """Change the caller's own preferences, then show the profile as the database now holds it."""
    change_preferences(principal, data)
    return profile(principal)


@transactional
def change_preferences(principal, data):
    """Change the caller's own preferences; a change is audited (`notifications_changed`)."""
    wanted = data["notifications_email"]
    changed = db.session.execute(
        update(User).where(User.id == principal.id, User.notifications_email != wanted)
        .values(notifications_email=wanted, updated_at=utcnow())).rowcount
    if changed:
        announce(signals.notifications_changed, actor_id=principal.id,
                 subject_user_id=principal.id, email=principal.email,
                 details={"notifications_email": wanted})
