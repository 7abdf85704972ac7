"""Auth use cases: registration, login, refresh, logout, sessions and password change.

Each function does its writes in the caller's transaction and commits once at the end, audit row
included (the audit listener adds to the same session).
"""
from types import SimpleNamespace

from flask import current_app, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from courrier import signals
from courrier.auth import mfa as mfa_module
from courrier.auth.models import AuthSession, User
from courrier.auth.passwords import check_password, dummy_hash, hash_password, password_problems, policy_mark
from courrier.auth.reauth import require_recent_authentication
from courrier.auth.tokens import SessionTokenStore, is_expired, token_store
from courrier.columns import utcnow
from courrier.errors import ApiError, validation_error
from courrier.database import PreparedQuery, run_idempotent
from courrier.extensions import db
from courrier.services.models import Service, ServiceMember

EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée."


def client_ip():
    """The client's address; `X-Forwarded-For` counts only through ProxyFix (TRUSTED_PROXIES)."""
    return request.remote_addr


_PROFILE_COLUMNS = (User.notifications_email, User.mfa_enabled_at, ServiceMember.service_id,
                    ServiceMember.is_primary, Service.code.label("service_code"), Service.nom.label("service_nom"))


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
    """The caller as /me shows them: the principal, their services and their preferences.

    `rows` are PROFILE_CHECK's, when the session check read them; else one query reads them here.
    """
    if rows is None:
        rows = run_idempotent(lambda connection: _profile_query.all(connection, user_id=principal.id))
    memberships = [SimpleNamespace(service_id=row.service_id, is_primary=row.is_primary,
                                   service=SimpleNamespace(code=row.service_code, nom=row.service_nom))
                   for row in rows if row.service_id is not None]
    return {**vars(principal), "memberships": memberships,  # vars: asdict's deep copy cost 8 % of a /me
            "notifications_email": rows[0].notifications_email, "mfa_enabled": rows[0].mfa_enabled_at is not None,
            "mfa_required": principal.role in current_app.config["MFA_REQUIRED_ROLES"]}


def update_profile(principal, data):
    """Change the caller's own preferences; a change is audited (`notifications_changed`)."""
    wanted = data["notifications_email"]
    changed = db.session.execute(
        update(User).where(User.id == principal.id, User.notifications_email != wanted)
        .values(notifications_email=wanted, updated_at=utcnow())).rowcount
    if changed:
        signals.notifications_changed.send(current_app._get_current_object(), actor_id=principal.id,
                                           subject_user_id=principal.id, email=principal.email,
                                           details={"notifications_email": wanted})
    db.session.commit()
    return profile(principal)


def find_user_by_email(email):
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(data, role="agent", actor_id=None):
    """Add a user (not committed); a taken email is a 422 on `email`, even under a race."""
    if find_user_by_email(data["email"]) is not None:
        raise validation_error("email", EMAIL_TAKEN)
    user = User(email=data["email"], nom=data["nom"], prenom=data["prenom"], contact=data.get("contact"), role=role,
                is_active=True)
    set_password(user, data["password"])
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise validation_error("email", EMAIL_TAKEN) from None
    signals.user_created.send(current_app._get_current_object(), actor_id=actor_id or user.id,
                              subject_user_id=user.id, email=user.email, details={"role": role})
    return user


def _open_session(user, method="password", mfa=False, restriction=None):
    tokens, _ = token_store().issue(user, client_ip(), request.user_agent.string, method=method, mfa=mfa,
                                    restriction=restriction)
    result = {"user": user, **vars(tokens)}
    if restriction:
        result["restriction"] = restriction
    return result


def complete_login(user, method="password", mfa=False, restriction=None):
    """The answer to a login whose first factor succeeded (`method`: password, oidc); not committed.

    `mfa`: a second factor was already proven (the TOTP step, or a provider's acr/amr for ProConnect).
    An account with TOTP that has not proven one gets the second step's `mfa_token` instead of a session.
    Otherwise the usual tokens, audited `login_succeeded` with the method; the session is restricted to
    changing the password (`restriction`, found by the first factor) or to enrolling, when the role
    requires a second factor the account does not have.
    """
    if user.mfa_enabled_at is not None and not mfa:
        return mfa_module.start_challenge(user, method, restriction)
    if restriction is None and not mfa and mfa_module.requires_mfa(user):
        restriction = "mfa_enrollment_required"
    result = _open_session(user, method, mfa, restriction)
    signals.login_succeeded.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                                 email=user.email, details={"method": method, "mfa": mfa, "restriction": restriction})
    return result


def set_password(user, password):
    """Store a new password (already checked against the policy) and the policy it meets."""
    user.password_hash = hash_password(password)
    user.password_policy = policy_mark(user.role)


def meets_password_policy(user, password):
    """At login: does the password still meet the policy (a stricter one since, or a promotion)?

    Checked with zxcvbn only when the policy it was last found to meet is not today's for the role.
    """
    mark = policy_mark(user.role)
    if user.password_policy == mark:
        return True
    if password_problems(password, [user.email, user.nom, user.prenom], user.role):
        return False
    user.password_policy = mark
    return True


def register(data):
    """Public registration: a new active agent, logged in at once."""
    if not current_app.config["REGISTRATION_OPEN"]:
        raise ApiError("forbidden", "Les inscriptions sont fermées : demandez un compte à un administrateur.")
    user = create_user(data)
    result = _open_session(user)
    db.session.commit()
    return result


def login(email, password):
    """Same answer and same bcrypt work for an unknown email, a wrong password and an inactive account."""
    user = find_user_by_email(email)
    password_ok = check_password(password, user.password_hash if user else dummy_hash())
    app = current_app._get_current_object()
    if user is None or not password_ok or not user.is_active:
        signals.login_failed.send(app, subject_user_id=user.id if user else None, email=email.strip().lower()[:254],
                                  details={"reason": "unknown_email" if user is None else
                                           "wrong_password" if not password_ok else "inactive"})
        db.session.commit()
        raise ApiError("invalid_credentials")
    restriction = None if meets_password_policy(user, password) else "password_change_required"
    result = complete_login(user, restriction=restriction)
    db.session.commit()
    return result


def refresh(claims):
    """Rotate the refresh token; a reused one revokes its whole session (theft)."""
    tokens, session_id = token_store().rotate(claims)
    app = current_app._get_current_object()
    user = db.session.get(User, claims["userId"])
    if tokens is None:
        signals.refresh_reuse_detected.send(app, actor_id=user.id, subject_user_id=user.id, email=user.email,
                                            details={"session_id": session_id})
        db.session.commit()
        raise ApiError("token_revoked", "Jeton de rafraîchissement déjà utilisé : la session a été révoquée.")
    signals.token_refreshed.send(app, actor_id=user.id, subject_user_id=user.id, email=user.email,
                                 details={"session_id": session_id})
    db.session.commit()
    return {"user": user, **vars(tokens)}


def logout(principal):
    token_store().revoke(principal.session_id, "logout")
    signals.logout.send(current_app._get_current_object(), actor_id=principal.id, subject_user_id=principal.id,
                        email=principal.email, details={"session_id": principal.session_id})
    db.session.commit()


def logout_all(principal):
    revoked = token_store().revoke_all(principal.id, "logout_all")
    signals.logout_all.send(current_app._get_current_object(), actor_id=principal.id,
                            subject_user_id=principal.id, email=principal.email, details={"revoked": revoked})
    db.session.commit()
    return revoked


def list_sessions(principal, active=True):
    """The caller's sessions, newest first; `active` keeps only the live ones."""
    query = select(AuthSession).where(AuthSession.user_id == principal.id).order_by(AuthSession.created_at.desc())
    if active:
        query = query.where(AuthSession.revoked_at.is_(None))
    sessions = db.session.scalars(query).all()
    if active:
        sessions = [s for s in sessions if is_session_live(s)]
    for session in sessions:
        session.current = session.id == principal.session_id
    return sessions


def is_session_live(session):
    return session.revoked_at is None and not is_expired(session.expires_at, session.last_used_at, utcnow())


def revoke_own_session(principal, session_id):
    """Revoke one of the caller's sessions; someone else's is 'not found' (no existence leak).

    Another device's session needs a recent proof of identity; one's own current session does not.
    """
    if session_id != principal.session_id:
        require_recent_authentication(principal)
    if not token_store().revoke(session_id, "revoked_by_user", user_id=principal.id):
        raise ApiError("not_found", "Session introuvable.")
    signals.logout.send(current_app._get_current_object(), actor_id=principal.id, subject_user_id=principal.id,
                        email=principal.email, details={"session_id": session_id})
    db.session.commit()


def change_password(principal, data):
    """Check the current password, apply the policy, revoke every other session.

    A session restricted to this change becomes a full one (or one restricted to enrolling, when the
    role requires a second factor the account does not have yet).
    """
    require_recent_authentication(principal)
    user = db.session.get(User, principal.id)
    if not check_password(data["current_password"], user.password_hash):
        raise validation_error("current_password", "Mot de passe actuel incorrect.")
    errors = {}
    problems = password_problems(data["password"], [user.email, user.nom, user.prenom], user.role)
    if problems:
        errors["password"] = problems
    if data["password_confirmation"] != data["password"]:
        errors["password_confirmation"] = ["La confirmation ne correspond pas au mot de passe."]
    if errors:
        raise ApiError("validation_error", errors=errors)
    set_password(user, data["password"])
    store = token_store()
    revoked = store.revoke_all(user.id, "password_changed", except_session_id=principal.session_id)
    if principal.restriction == "password_change_required":
        enrolment = (user.mfa_enabled_at is None and not principal.mfa and mfa_module.requires_mfa(user))
        store.update_session(principal.session_id, restriction="mfa_enrollment_required" if enrolment else None)
    signals.password_changed.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                                  email=user.email, details={"revoked_sessions": revoked})
    db.session.commit()
