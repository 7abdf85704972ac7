"""Enrolling in the second factor: setup, confirmation, disabling, an administrateur's reset.

The codes themselves (TOTP steps, recovery codes) are `courrier.auth.totp`'s; the login's second step
is `courrier.auth.login.verify`. The secret and the recovery codes are shown only by `setup` and `confirm`.
"""
import io

import pyotp
from flask import current_app

from courrier import signals
from courrier.database import commit_then_raise, transactional
from courrier.signals import announce
from courrier.auth.models import User
from courrier.auth.passwords import check_password
from courrier.auth.reauth import require_recent_authentication
from courrier.auth.tokens import token_store
from courrier.auth.totp import (
    clear_second_factor, consume_code, matching_step, mfa_failed, new_recovery_codes, requires_mfa,
)
from courrier.columns import utcnow
from courrier.errors import ApiError, validation_error
from courrier.extensions import db


@transactional
def setup(principal):
    """A new secret, pending until its first code is confirmed; an active second factor is kept meanwhile."""
    require_recent_authentication(principal)
    user = db.session.get(User, principal.id)
    if user.mfa_enabled_at is not None:
        raise ApiError("conflict", "La double authentification est déjà active : désactivez-la d'abord.")
    user.mfa_pending_secret = pyotp.random_base32(32)
    uri = pyotp.TOTP(user.mfa_pending_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["MFA_ISSUER"])
    import segno  # imported here for the worker's memory: only enrolment draws a QR code

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, nl=False, scale=5, border=2,
                                    title="QR code de la double authentification")
    qr_svg = buffer.getvalue().decode("utf-8")
    return {"secret": user.mfa_pending_secret, "otpauth_uri": uri, "qr_svg": qr_svg}


@transactional
def confirm(principal, code):
    """Turn MFA on with the pending secret's first code; other sessions, opened on one factor, are closed."""
    require_recent_authentication(principal)
    user = db.session.get(User, principal.id)
    if user.mfa_pending_secret is None:
        raise ApiError("conflict", "Aucune activation en cours : commencez par générer un QR code.")
    step = matching_step(user.mfa_pending_secret, code, None)
    if step is None:
        mfa_failed(user, "enrolment_code")
        commit_then_raise(
            validation_error("code", "Code incorrect : vérifiez l'heure de votre téléphone et réessayez."))
    user.mfa_secret, user.mfa_pending_secret = user.mfa_pending_secret, None
    user.mfa_enabled_at, user.mfa_last_step = utcnow(), step
    codes = new_recovery_codes(user)
    store = token_store()
    revoked = store.revoke_all(user.id, "mfa_enabled", except_session_id=principal.session_id)
    restriction = None if principal.restriction == "mfa_enrollment_required" else principal.restriction
    store.update_session(principal.session_id, mfa=True, authenticated_at=utcnow(), restriction=restriction)
    announce(signals.mfa_enabled, actor_id=user.id, subject_user_id=user.id,
             email=user.email, details={"revoked_sessions": revoked})
    return {"recovery_codes": codes}


@transactional
def disable(principal, password, code):
    """Turn one's own MFA off with the password and a current code; refused where the role requires it."""
    user = db.session.get(User, principal.id)
    if user.mfa_enabled_at is None:
        raise ApiError("conflict", "La double authentification n'est pas active.")
    if requires_mfa(user):
        raise ApiError("forbidden", "La double authentification est obligatoire pour votre rôle.")
    if not check_password(password, user.password_hash):
        raise validation_error("password", "Mot de passe incorrect.")
    if not consume_code(user, code):
        mfa_failed(user, "disable_code")
        commit_then_raise(validation_error("code", "Code incorrect ou déjà utilisé."))
    clear_second_factor(user)
    announce(signals.mfa_disabled, actor_id=user.id, subject_user_id=user.id,
             email=user.email)


@transactional
def reset(actor, user):
    """An administrateur removes a user's second factor (a lost phone); every session of theirs is revoked."""
    require_recent_authentication(actor)
    had_mfa = user.mfa_enabled_at is not None
    clear_second_factor(user)
    revoked = token_store().revoke_all(user.id, "mfa_reset")
    announce(signals.mfa_reset, actor_id=actor.id, subject_user_id=user.id,
             email=user.email, details={"had_mfa": had_mfa, "revoked_sessions": revoked})
    return revoked
