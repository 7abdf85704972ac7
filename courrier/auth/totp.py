"""The second factor's codes: TOTP (RFC 6238, with pyotp) and single-use recovery codes.

A code is accepted once: each account remembers the last time step it accepted, and a code is good
only for a later step, within one step of clock drift either way. That step is consumed by a
conditional UPDATE, so two requests racing with the same code cannot both win, on any number of
workers. The secret and the codes are never logged, audited or shown except by enrolment
(`courrier.auth.mfa`). This module uses no other auth use case: the login's step (`auth.login`),
re-authentication (`auth.reauth`) and enrolment (`auth.mfa`) all build on it.
"""
import hashlib
import hmac
import secrets
import time

import pyotp
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from courrier import signals
from courrier.signals import announce
from courrier.auth.models import MfaRecoveryCode, User
from courrier.columns import utcnow
from courrier.extensions import db

DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# Compared against when the mfa_token is unknown, so that both answers cost the same.
DUMMY_SECRET = pyotp.random_base32()


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
        announce(signals.mfa_recovery_used, actor_id=user.id, subject_user_id=user.id,
                 email=user.email, details={"remaining": remaining})
    return used


def new_recovery_codes(user):
    """Replace the user's recovery codes by ten new ones (50 random bits each), returned in clear once."""
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(MfaRecoveryCode(user_id=user.id, code_hash=sha256(raw)))
    return codes


def clear_second_factor(user):
    """Forget the user's secret, pending secret, last step and recovery codes (not committed)."""
    user.mfa_secret = user.mfa_pending_secret = user.mfa_enabled_at = user.mfa_last_step = None
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))


def requires_mfa(user):
    """The user's role must log in with a second factor (MFA_REQUIRED_ROLES)."""
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


def mfa_failed(user, reason):
    """Announce a wrong second factor (audited `mfa_failed`)."""
    announce(signals.mfa_failed, actor_id=user.id, subject_user_id=user.id,
             email=user.email, details={"reason": reason})
