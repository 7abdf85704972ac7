"""Re-authentication before sensitive actions (OWASP ASVS 7.5).

A session remembers when its user last proved who they are (`sessions.authenticated_at`: the login,
then each POST /api/auth/reauthenticate). Changing one's own password or second factor, revoking
another device's session and an administrateur's changes to a user (role, activation, MFA reset,
forced logout) need a proof younger than REAUTH_MAX_AGE.
"""
from datetime import timedelta

from flask import current_app

from courrier import signals
from courrier.database import commit_then_raise, transactional
from courrier.signals import announce
from courrier.auth.models import User
from courrier.auth.passwords import check_password
from courrier.auth.tokens import token_store
from courrier.auth.totp import consume_code
from courrier.columns import utcnow
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

WRONG_PROOF = "Mot de passe ou code incorrect."


def clock():
    """The current time; the tests move it to see a proof expire."""
    return utcnow()


def require_recent_authentication(principal):
    """401 `reauthentication_required` unless the session's last proof is recent enough.

    Without a sessions table (SESSION_TRACKING=false) nothing remembers a proof: the check does not apply,
    as revocation does not (README, "Double authentification").
    """
    if not token_store().tracks_sessions:
        return
    max_age = timedelta(seconds=current_app.config["REAUTH_MAX_AGE"])
    if principal.authenticated_at is None or clock() - principal.authenticated_at > max_age:
        raise ApiError("reauthentication_required")


@transactional
def reauthenticate(principal, password, code=None):
    """Prove one's identity again: the password, and a current code when MFA is on; refreshes the proof."""
    user = db.session.get(User, principal.id)
    if user.mfa_enabled_at is not None and not code:
        raise validation_error("code", "Saisissez le code de votre application d'authentification.")
    failure = None
    if not check_password(password, user.password_hash):
        failure = signals.login_failed
    elif user.mfa_enabled_at is not None and not consume_code(user, code):
        failure = signals.mfa_failed
    if failure is not None:
        announce(failure, actor_id=user.id, subject_user_id=user.id, email=user.email,
                 details={"reason": "reauthentication"})
        commit_then_raise(validation_error("password", WRONG_PROOF))
    token_store().update_session(principal.session_id, authenticated_at=utcnow(),
                                 mfa=principal.mfa or user.mfa_enabled_at is not None)
    announce(signals.reauthenticated, actor_id=user.id, subject_user_id=user.id, email=user.email,
             details={"session_id": principal.session_id})
