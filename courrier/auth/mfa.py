"""The second factor (issue 15): TOTP (RFC 6238, with pyotp) and single-use recovery codes.

A code is accepted once: each account remembers the last time step it accepted, and a code is good
only for a later step, within one step of clock drift either way. That step is consumed by a
conditional UPDATE, so two requests racing with the same code cannot both win, on any number of
workers. The secret and the codes are never logged, audited or shown except by `setup` and `confirm`.
"""
import hashlib
import hmac
import io
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from courrier import signals
from courrier.auth.models import MfaChallenge, MfaRecoveryCode, User
from courrier.auth.passwords import check_password
from courrier.auth.reauth import require_recent_authentication
from courrier.auth.tokens import token_store
from courrier.columns import utcnow
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
CHALLENGE_SECONDS = 300
MAX_FAILURES = 5
# Compared against when the mfa_token is unknown, so that both answers cost the same.
DUMMY_SECRET = pyotp.random_base32()
INVALID_CODE = "Code invalide ou expiré."


def clock():
    """Seconds since the epoch; the tests move it to check drift and replay."""
    return time.time()


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def matching_step(secret, code, after_step):
    """The time step, later than `after_step`, whose code is `code` (one step of drift either way), or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock())
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (after_step is None or step > after_step):
            found = step
    return found


def consume_code(user, code):
    """True when `code` is the user's TOTP code for a step not used yet; that step is then used up."""
    step = matching_step(user.mfa_secret or DUMMY_SECRET, code, user.mfa_last_step)
    if step is None or user.mfa_enabled_at is None:
        return False
    return db.session.execute(
        update(User).where(User.id == user.id, or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
        .values(mfa_last_step=step).execution_options(synchronize_session=False)).rowcount == 1


def normalized_recovery_code(code):
    return code.replace("-", "").replace(" ", "").strip().lower()


def consume_recovery_code(user, code):
    """True when `code` is one of the user's unused recovery codes; it is then used up."""
    used = db.session.execute(
        update(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None),
               MfaRecoveryCode.code_hash == sha256(normalized_recovery_code(code)))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1
    if used:
        remaining = db.session.scalar(select(func.count()).select_from(MfaRecoveryCode).where(
            MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)))
        signals.mfa_recovery_used.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                                       email=user.email, details={"remaining": remaining})
    return used


def new_recovery_codes(user):
    """Replace the user's recovery codes by ten new ones (50 random bits each), returned in clear once."""
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(MfaRecoveryCode(user_id=user.id, code_hash=sha256(raw)))
    return codes


def requires_mfa(user):
    """The user's role must log in with a second factor (MFA_REQUIRED_ROLES)."""
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


def _mfa_failed(user, reason):
    signals.mfa_failed.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                            email=user.email, details={"reason": reason})


# ------------------------------------------------------------------------------------------ enrolment

def setup(principal):
    """A new secret, pending until its first code is confirmed; an active second factor is kept meanwhile."""
    require_recent_authentication(principal)
    user = db.session.get(User, principal.id)
    if user.mfa_enabled_at is not None:
        raise ApiError("conflict", "La double authentification est déjà active : désactivez-la d'abord.")
    user.mfa_pending_secret = pyotp.random_base32(32)
    uri = pyotp.TOTP(user.mfa_pending_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["MFA_ISSUER"])
    db.session.commit()
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, nl=False, scale=5, border=2,
                                    title="QR code de la double authentification")
    qr_svg = buffer.getvalue().decode("utf-8")
    return {"secret": user.mfa_pending_secret, "otpauth_uri": uri, "qr_svg": qr_svg}


def confirm(principal, code):
    """Turn MFA on with the pending secret's first code; other sessions, opened on one factor, are closed."""
    require_recent_authentication(principal)
    user = db.session.get(User, principal.id)
    if user.mfa_pending_secret is None:
        raise ApiError("conflict", "Aucune activation en cours : commencez par générer un QR code.")
    step = matching_step(user.mfa_pending_secret, code, None)
    if step is None:
        _mfa_failed(user, "enrolment_code")
        db.session.commit()
        raise validation_error("code", "Code incorrect : vérifiez l'heure de votre téléphone et réessayez.")
    user.mfa_secret, user.mfa_pending_secret = user.mfa_pending_secret, None
    user.mfa_enabled_at, user.mfa_last_step = utcnow(), step
    codes = new_recovery_codes(user)
    store = token_store()
    revoked = store.revoke_all(user.id, "mfa_enabled", except_session_id=principal.session_id)
    restriction = None if principal.restriction == "mfa_enrollment_required" else principal.restriction
    store.update_session(principal.session_id, mfa=True, authenticated_at=utcnow(), restriction=restriction)
    signals.mfa_enabled.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                             email=user.email, details={"revoked_sessions": revoked})
    db.session.commit()
    return {"recovery_codes": codes}


def _clear(user):
    user.mfa_secret = user.mfa_pending_secret = user.mfa_enabled_at = user.mfa_last_step = None
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))


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
        _mfa_failed(user, "disable_code")
        db.session.commit()
        raise validation_error("code", "Code incorrect ou déjà utilisé.")
    _clear(user)
    signals.mfa_disabled.send(current_app._get_current_object(), actor_id=user.id, subject_user_id=user.id,
                              email=user.email)
    db.session.commit()


def reset(actor, user):
    """An administrateur removes a user's second factor (a lost phone); every session of theirs is revoked."""
    require_recent_authentication(actor)
    had_mfa = user.mfa_enabled_at is not None
    _clear(user)
    revoked = token_store().revoke_all(user.id, "mfa_reset")
    signals.mfa_reset.send(current_app._get_current_object(), actor_id=actor.id, subject_user_id=user.id,
                           email=user.email, details={"had_mfa": had_mfa, "revoked_sessions": revoked})
    db.session.commit()
    return revoked


# ------------------------------------------------------------------------------- the login's second step

def start_challenge(user, method, restriction):
    """The answer to a first factor for an account with MFA: an `mfa_token`, no session yet."""
    token = secrets.token_urlsafe(32)
    db.session.add(MfaChallenge(token_hash=sha256(token), user_id=user.id, method=method, restriction=restriction,
                                expires_at=utcnow() + timedelta(seconds=CHALLENGE_SECONDS), failures=0))
    return {"mfa_required": True, "mfa_token": token, "expires_in": CHALLENGE_SECONDS}


def challenge_user_id(mfa_token):
    """Whose login an `mfa_token` continues (the verify route's rate-limit key), or None."""
    return db.session.scalar(select(MfaChallenge.user_id).where(MfaChallenge.token_hash == sha256(mfa_token)))


def verify(mfa_token, code=None, recovery_code=None):
    """The second step: a TOTP code or a recovery code turns an `mfa_token` into a session.

    A wrong code and an unknown, expired, used or exhausted token get the same answer after the same
    work; five wrong codes exhaust a token.
    """
    from courrier.auth.service import complete_login

    now = utcnow()
    challenge = db.session.get(MfaChallenge, sha256(mfa_token))
    live = (challenge is not None and challenge.used_at is None and challenge.expires_at > now
            and challenge.failures < MAX_FAILURES)
    user = db.session.get(User, challenge.user_id) if live else None
    if user is None:
        # The same computation as for a real account, whose result cannot matter.
        sha256(recovery_code) if recovery_code is not None else matching_step(DUMMY_SECRET, code, None)
        ok = False
    elif recovery_code is not None:
        ok = consume_recovery_code(user, recovery_code)
    else:
        ok = consume_code(user, code)
    if not ok:
        if user is not None:
            db.session.execute(update(MfaChallenge).where(MfaChallenge.token_hash == challenge.token_hash)
                               .values(failures=MfaChallenge.failures + 1))
            _mfa_failed(user, "recovery_code" if recovery_code is not None else "login_code")
            db.session.commit()
        raise ApiError("invalid_credentials", INVALID_CODE)
    claimed = db.session.execute(
        update(MfaChallenge).where(MfaChallenge.token_hash == challenge.token_hash, MfaChallenge.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not claimed or not user.is_active:
        db.session.rollback()
        raise ApiError("invalid_credentials", INVALID_CODE)
    result = complete_login(user, method=challenge.method, mfa=True, restriction=challenge.restriction)
    db.session.commit()
    return result
