"""Accounts and sessions: creating a user, refreshing, logging out, the caller's sessions, the password.

Logging in is `courrier.auth.login`'s; the caller's profile (/me) is `courrier.users.profile`'s.

Each function does its writes in the caller's transaction and commits once at the end, audit row
included (the audit listener adds to the same session).
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.exc import IntegrityError

from courrier import signals
from courrier.database import commit_then_raise, transactional
from courrier.signals import announce
from courrier.auth.models import AuthSession, User
from courrier.auth.passwords import check_password, hash_password, password_problems, policy_mark
from courrier.auth.reauth import require_recent_authentication
from courrier.auth.tokens import is_expired, token_store
from courrier.auth.totp import requires_mfa
from courrier.columns import utcnow
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée."


def find_user_by_email(email):
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(data, role="agent", actor_id=None):
    """Add a user (not committed); a taken email is a 422 on `email`, even under a race.

    `actor_id`: the administrateur creating the account, who therefore knows its password (see `set_password`).
    """
    if find_user_by_email(data["email"]) is not None:
        raise validation_error("email", EMAIL_TAKEN)
    user = User(email=data["email"], nom=data["nom"], prenom=data["prenom"], contact=data.get("contact"), role=role,
                is_active=True)
    set_password(user, data["password"], by_admin=actor_id is not None)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise validation_error("email", EMAIL_TAKEN) from None
    details = {"role": role}
    if user.password_change_required:
        details["password_change_required"] = True
    announce(signals.user_created, actor_id=actor_id or user.id,
             subject_user_id=user.id, email=user.email, details=details)
    return user


def set_password(user, password, by_admin=False):
    """Store a new password (already checked against the policy) and the policy it meets.

    One set `by_admin` is known to someone else: with PASSWORD_CHANGE_ON_FIRST_LOGIN its user must replace it
    at their next login (`courrier.auth.login.login`); the user's own choice clears that.
    """
    user.password_hash = hash_password(password)
    user.password_policy = policy_mark(user.role)
    user.password_change_required = by_admin and current_app.config["PASSWORD_CHANGE_ON_FIRST_LOGIN"]


@transactional
def refresh(claims):
    """Rotate the refresh token; a reused one revokes its whole session (theft)."""
    tokens, session_id = token_store().rotate(claims)
    user = db.session.get(User, claims["userId"])
    if tokens is None:
        announce(signals.refresh_reuse_detected, actor_id=user.id, subject_user_id=user.id, email=user.email,
                 details={"session_id": session_id})
        commit_then_raise(
            ApiError("token_revoked", "Jeton de rafraîchissement déjà utilisé : la session a été révoquée."))
    announce(signals.token_refreshed, actor_id=user.id, subject_user_id=user.id, email=user.email,
             details={"session_id": session_id})
    return {"user": user, **vars(tokens)}


@transactional
def logout(principal):
    token_store().revoke(principal.session_id, "logout")
    announce(signals.logout, actor_id=principal.id, subject_user_id=principal.id,
             email=principal.email, details={"session_id": principal.session_id})


@transactional
def logout_all(principal):
    revoked = token_store().revoke_all(principal.id, "logout_all")
    announce(signals.logout_all, actor_id=principal.id,
             subject_user_id=principal.id, email=principal.email, details={"revoked": revoked})
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


@transactional
def revoke_own_session(principal, session_id):
    """Revoke one of the caller's sessions; someone else's is 'not found' (no existence leak).

    Another device's session needs a recent proof of identity; one's own current session does not.
    """
    if session_id != principal.session_id:
        require_recent_authentication(principal)
    if not token_store().revoke(session_id, "revoked_by_user", user_id=principal.id):
        raise ApiError("not_found", "Session introuvable.")
    announce(signals.logout, actor_id=principal.id, subject_user_id=principal.id,
             email=principal.email, details={"session_id": session_id})


@transactional
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
    required = user.password_change_required
    set_password(user, data["password"])
    store = token_store()
    revoked = store.revoke_all(user.id, "password_changed", except_session_id=principal.session_id)
    if principal.restriction == "password_change_required":
        enrolment = (user.mfa_enabled_at is None and not principal.mfa and requires_mfa(user))
        store.update_session(principal.session_id, restriction="mfa_enrollment_required" if enrolment else None)
    details = {"revoked_sessions": revoked}
    if required:
        details["required_change"] = True
    announce(signals.password_changed, actor_id=user.id, subject_user_id=user.id,
             email=user.email, details=details)


def _dead_sessions(older_than_days):
    cutoff = utcnow() - timedelta(days=older_than_days)
    return or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff)


def count_dead_sessions(older_than_days):
    return db.session.scalar(select(func.count()).select_from(AuthSession).where(_dead_sessions(older_than_days)))


def prune_dead_sessions(older_than_days, batch_size=5000, on_batch=None):
    """Delete the sessions expired or revoked more than `older_than_days` ago, oldest first, one short
    transaction per batch (the server's writers wait at most one batch); how many. `on_batch(count)` after each."""
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        # This connection rewrites the pages of eight indexes: 128 MB of page cache for it alone (given back
        # at the end: a worker's pooled connection would keep it).
        db.session.execute(text("PRAGMA cache_size = -131072"))
    try:
        return _delete_in_batches(older_than_days, batch_size, on_batch)
    finally:
        if sqlite:
            db.session.execute(text("PRAGMA cache_size = -2000"))
            db.session.commit()


def _delete_in_batches(older_than_days, batch_size, on_batch):
    # Oldest first: with time-ordered keys they sit together at the start of every index.
    oldest_dead = (select(AuthSession.id).where(_dead_sessions(older_than_days)).order_by(AuthSession.created_at)
                   .limit(batch_size))
    batch = delete(AuthSession).where(AuthSession.id.in_(oldest_dead)).execution_options(synchronize_session=False)
    deleted = 0
    while True:
        count = db.session.execute(batch).rowcount
        db.session.commit()
        if not count:
            return deleted
        deleted += count
        if on_batch is not None:
            on_batch(count)
