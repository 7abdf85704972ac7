"""Logging in: every login method ends in `complete_login`, which opens the session (`open_session`).

The methods: the password (`login`, and `register`, which logs the new account in), the TOTP step
(`verify`, after a first factor for an account with a second one) and ProConnect (`courrier.oidc`).
Each does its writes in the caller's transaction and commits once at the end, audit row included.
"""
import secrets
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import select, update

from courrier import signals
from courrier.database import commit_then_raise, transactional
from courrier.signals import announce
from courrier.auth.models import MfaChallenge, User
from courrier.auth.passwords import check_password, dummy_hash, password_problems, policy_mark
from courrier.auth.service import create_user, find_user_by_email
from courrier.auth.tokens import token_store
from courrier.auth.totp import (
    DUMMY_SECRET, consume_code, consume_recovery_code, matching_step, mfa_failed, requires_mfa, sha256,
)
from courrier.columns import utcnow
from courrier.errors import ApiError
from courrier.extensions import db

CHALLENGE_SECONDS = 300
MAX_FAILURES = 5
INVALID_CODE = "Code invalide ou expiré."


def client_ip():
    """The client's address; `X-Forwarded-For` counts only through ProxyFix (TRUSTED_PROXIES)."""
    return request.remote_addr


def open_session(user, method="password", mfa=False, restriction=None):
    """A new session for `user` and its tokens (not committed, not audited: `complete_login` audits)."""
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
        return start_challenge(user, method, restriction)
    if restriction is None and not mfa and requires_mfa(user):
        restriction = "mfa_enrollment_required"
    result = open_session(user, method, mfa, restriction)
    announce(signals.login_succeeded, actor_id=user.id, subject_user_id=user.id,
             email=user.email, details={"method": method, "mfa": mfa, "restriction": restriction})
    return result


# ------------------------------------------------------------------------------------------ the password

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


@transactional
def login(email, password):
    """Same answer and same bcrypt work for an unknown email, a wrong password and an inactive account."""
    user = find_user_by_email(email)
    password_ok = check_password(password, user.password_hash if user else dummy_hash())
    if user is None or not password_ok or not user.is_active:
        announce(signals.login_failed, subject_user_id=user.id if user else None, email=email.strip().lower()[:254],
                 details={"reason": "unknown_email" if user is None else
                          "wrong_password" if not password_ok else "inactive"})
        commit_then_raise(ApiError("invalid_credentials"))
    restriction = None if meets_password_policy(user, password) and not must_replace_password(user) \
        else "password_change_required"
    result = complete_login(user, restriction=restriction)
    return result


def must_replace_password(user):
    """An administrateur set this password (courrier.auth.service.set_password) and the user has not changed it:
    someone else knows it. Turning PASSWORD_CHANGE_ON_FIRST_LOGIN off lifts the pending requirements too."""
    return user.password_change_required and current_app.config["PASSWORD_CHANGE_ON_FIRST_LOGIN"]


@transactional
def register(data):
    """Public registration: a new active agent, logged in at once."""
    if not current_app.config["REGISTRATION_OPEN"]:
        raise ApiError("forbidden", "Les inscriptions sont fermées : demandez un compte à un administrateur.")
    user = create_user(data)
    result = open_session(user)
    return result


# ------------------------------------------------------------------------------- the TOTP step

def start_challenge(user, method, restriction):
    """The answer to a first factor for an account with MFA: an `mfa_token`, no session yet."""
    token = secrets.token_urlsafe(32)
    db.session.add(MfaChallenge(token_hash=sha256(token), user_id=user.id, method=method, restriction=restriction,
                                expires_at=utcnow() + timedelta(seconds=CHALLENGE_SECONDS), failures=0))
    return {"mfa_required": True, "mfa_token": token, "expires_in": CHALLENGE_SECONDS}


def challenge_user_id(mfa_token):
    """Whose login an `mfa_token` continues (the verify route's rate-limit key), or None."""
    return db.session.scalar(select(MfaChallenge.user_id).where(MfaChallenge.token_hash == sha256(mfa_token)))


@transactional
def verify(mfa_token, code=None, recovery_code=None):
    """The second step: a TOTP code or a recovery code turns an `mfa_token` into a session.

    A wrong code and an unknown, expired, used or exhausted token get the same answer after the same
    work; five wrong codes exhaust a token.
    """
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
            mfa_failed(user, "recovery_code" if recovery_code is not None else "login_code")
            commit_then_raise(ApiError("invalid_credentials", INVALID_CODE))
        raise ApiError("invalid_credentials", INVALID_CODE)
    claimed = db.session.execute(
        update(MfaChallenge).where(MfaChallenge.token_hash == challenge.token_hash, MfaChallenge.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not claimed or not user.is_active:
        db.session.rollback()
        raise ApiError("invalid_credentials", INVALID_CODE)
    result = complete_login(user, method=challenge.method, mfa=True, restriction=challenge.restriction)
    return result
