"""The token store: issuing, checking, rotating and revoking tokens.

Two implementations behind one interface, chosen once by `SESSION_TRACKING`:
- `SessionTokenStore` records every login in the sessions table; each protected request checks its
  session with one indexed query that also loads the user, so revocation is seen at once by every
  instance sharing the database.
- `StatelessTokenStore` writes and reads no session: tokens live until they expire, but the user's
  role and status are still read from the database on each request.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import and_, select, update

from courrier.auth.models import AuthSession, User
from courrier.columns import new_uuid, utcnow
from courrier.database import PreparedQuery, run_idempotent
from courrier.errors import ApiError
from courrier.extensions import db

# `last_used_at` is refreshed at most this often per session (less when the idle timeout is short).
MAX_TOUCH_INTERVAL = 60


@dataclass(frozen=True)
class Principal:
    """The caller of one request, built from the row the session check loaded."""

    id: str
    email: str
    nom: str
    prenom: str
    contact: str | None
    role: str
    is_active: bool
    created_at: datetime
    session_id: str | None
    # Of the session: a second factor proven, the last proof of identity, what it is limited to.
    mfa: bool = False
    authenticated_at: datetime | None = None
    restriction: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def is_expired(expires_at, last_used_at, now):
    """A session past its refresh lifetime, or unused for longer than the idle timeout."""
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    return expires_at <= now or last_used_at + idle <= now


def _principal(row, session_id, mfa=False, authenticated_at=None, restriction=None):
    return Principal(row.id, row.email, row.nom, row.prenom, row.contact, row.role, row.is_active,
                     row.created_at, session_id, mfa, authenticated_at, restriction)


def _encode_tokens(user_id, role, session_id=None):
    """A new access and refresh token pair; returns it with the two jtis."""
    access_jti, refresh_jti = new_uuid(), new_uuid()
    extra = {"role": role}
    if session_id:
        extra["sid"] = session_id
    access = create_access_token(identity=user_id, additional_claims={**extra, "jti": access_jti})
    refresh = create_refresh_token(identity=user_id, additional_claims={**extra, "jti": refresh_jti})
    expires_in = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    return IssuedTokens(access, refresh, expires_in), access_jti, refresh_jti


SESSIONS, USERS = AuthSession.__table__, User.__table__
USER_COLUMNS = (User.id, User.email, User.nom, User.prenom, User.contact, User.role, User.is_active,
                User.created_at)


class SessionTokenStore:
    """Tokens backed by the sessions table (the default)."""

    tracks_sessions = True

    # The hot path: one statement, on a unique index, that loads the session and its user. Built on
    # the tables (not the ORM classes), compiled once and run on the driver's cursor: no ORM, no
    # per-request compilation, execution context or result object.
    check_statement = (
        select(SESSIONS.c.id.label("session_id"), SESSIONS.c.user_id, SESSIONS.c.last_used_at,
               SESSIONS.c.expires_at, SESSIONS.c.revoked_at, SESSIONS.c.mfa, SESSIONS.c.authenticated_at,
               SESSIONS.c.restriction, *(USERS.c[c.key] for c in USER_COLUMNS))
        .join(USERS, USERS.c.id == SESSIONS.c.user_id)
        .where(SESSIONS.c.access_jti == db.bindparam("jti"))
    )
    _check = PreparedQuery(check_statement)

    def issue(self, user, ip, user_agent, method="password", mfa=False, restriction=None):
        """Open a session for `user` and return its tokens (the caller commits); its login is its first proof."""
        session_id = new_uuid()
        tokens, access_jti, refresh_jti = _encode_tokens(user.id, user.role, session_id)
        now = utcnow()
        db.session.add(AuthSession(
            id=session_id, user_id=user.id, access_jti=access_jti, refresh_jti=refresh_jti,
            ip=ip, user_agent=(user_agent or "")[:512] or None, created_at=now, last_used_at=now,
            expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"], auth_method=method, mfa=mfa,
            authenticated_at=now, restriction=restriction))
        return tokens, session_id

    def authenticate(self, claims):
        """The Principal of an access token, or ApiError if its session is not live."""
        return run_idempotent(lambda connection: self._check_session(
            connection, claims, self._check.one_or_none(connection, jti=claims["jti"])))

    def authenticate_with(self, claims, query):
        """The Principal and every row of `query`, `check_statement` with more columns over left joins.

        For a route that shows more of the caller than the check needs (/me): one statement, one round
        trip, where the check then a query of the route's own took two.
        """
        def check(connection):
            rows = query.all(connection, jti=claims["jti"])
            return self._check_session(connection, claims, rows[0] if rows else None), rows

        return run_idempotent(check)

    def _check_live(self, row, claims, now):
        """The session row of `claims` (None if absent) is theirs, live, and its user active; ApiError otherwise."""
        if row is None or row.revoked_at is not None or not row.is_active:
            raise ApiError("token_revoked")
        if row.user_id != claims["userId"]:
            raise ApiError("token_invalid")
        self._check_alive(row, now)

    def _check_session(self, connection, claims, row):
        now = utcnow()
        self._check_live(row, claims, now)
        self._touch(connection, row.session_id, row.last_used_at, now)
        return _principal(row, row.session_id, row.mfa, row.authenticated_at, row.restriction)

    def rotate(self, claims):
        """Swap a refresh token for a new pair in the same session; reuse of a rotated one kills it.

        The swap is a conditional UPDATE on the current refresh jti, so of two concurrent refreshes
        with the same token exactly one wins, whatever the number of processes.
        """
        session_id = claims.get("sid")
        if not isinstance(session_id, str):
            raise ApiError("token_invalid")
        row = db.session.execute(
            select(AuthSession.user_id, AuthSession.last_used_at, AuthSession.expires_at,
                   AuthSession.revoked_at, User.role, User.is_active)
            .join(User, User.id == AuthSession.user_id).where(AuthSession.id == session_id)).one_or_none()
        now = utcnow()
        self._check_live(row, claims, now)
        tokens, access_jti, refresh_jti = _encode_tokens(row.user_id, row.role, session_id)
        swapped = db.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.refresh_jti == claims["jti"],
                   AuthSession.revoked_at.is_(None))
            .values(access_jti=access_jti, refresh_jti=refresh_jti, last_used_at=now,
                    expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])
            .execution_options(synchronize_session=False)).rowcount
        if swapped != 1:
            self.revoke(session_id, "refresh_reuse")
            return None, session_id
        return tokens, session_id

    def revoke(self, session_id, reason, user_id=None):
        """Revoke one live session (of `user_id` when given); returns how many were revoked (0 or 1)."""
        conditions = [AuthSession.id == session_id, AuthSession.revoked_at.is_(None)]
        if user_id is not None:
            conditions.append(AuthSession.user_id == user_id)
        return self._revoke_where(and_(*conditions), reason)

    def revoke_all(self, user_id, reason, except_session_id=None):
        """Revoke every unexpired session of a user, but `except_session_id`; returns how many."""
        conditions = [AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None),
                      AuthSession.expires_at > utcnow()]
        if except_session_id:
            conditions.append(AuthSession.id != except_session_id)
        return self._revoke_where(and_(*conditions), reason)

    def update_session(self, session_id, **values):
        """Change what a session records of its proofs (mfa, authenticated_at, restriction); the caller commits."""
        db.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(**values)
                           .execution_options(synchronize_session=False))

    def _revoke_where(self, condition, reason):
        return db.session.execute(
            update(AuthSession).where(condition).values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session=False)).rowcount

    @staticmethod
    def _check_alive(row, now):
        if is_expired(row.expires_at, row.last_used_at, now):
            raise ApiError("token_expired")

    _touch_statement = (
        update(SESSIONS)
        .where(SESSIONS.c.id == db.bindparam("session_id"), SESSIONS.c.last_used_at <= db.bindparam("threshold"))
        .values(last_used_at=db.bindparam("now"))
    )

    def _touch(self, connection, session_id, last_used_at, now):
        """Record use at most once per interval, with a conditional UPDATE that concurrent requests share."""
        interval = min(MAX_TOUCH_INTERVAL, current_app.config["SESSION_IDLE_TIMEOUT"] / 4)
        threshold = now - timedelta(seconds=interval)
        if last_used_at > threshold:
            return
        connection.execute(self._touch_statement, {"session_id": session_id, "threshold": threshold, "now": now})
        connection.commit()


class StatelessTokenStore:
    """SESSION_TRACKING=false: no session rows; logout cannot revoke, refresh cannot detect reuse."""

    tracks_sessions = False

    _user_statement = select(*USER_COLUMNS).where(User.id == db.bindparam("user_id"))

    def issue(self, user, ip, user_agent, method="password", mfa=False, restriction=None):
        if restriction:
            # A restricted session must be remembered to be enforced: without a sessions table, none is opened.
            raise ApiError(restriction)
        tokens, _, _ = _encode_tokens(user.id, user.role)
        return tokens, None

    def authenticate(self, claims):
        row = run_idempotent(
            lambda connection: connection.execute(self._user_statement, {"user_id": claims["userId"]}).one_or_none())
        if row is None or not row.is_active:
            raise ApiError("token_revoked")
        return _principal(row, None)

    def authenticate_with(self, claims, query):
        """No session row to extend: the route reads what it shows itself (rows None)."""
        return self.authenticate(claims), None

    def rotate(self, claims):
        row = db.session.execute(self._user_statement, {"user_id": claims["userId"]}).one_or_none()
        if row is None or not row.is_active:
            raise ApiError("token_revoked")
        tokens, _, _ = _encode_tokens(row.id, row.role)
        return tokens, None

    def revoke(self, session_id, reason, user_id=None):
        return 0

    def update_session(self, session_id, **values):
        pass

    def revoke_all(self, user_id, reason, except_session_id=None):
        return 0


def init_token_store(app):
    app.extensions["courrier_token_store"] = (
        SessionTokenStore() if app.config["SESSION_TRACKING"] else StatelessTokenStore())


def token_store():
    return current_app.extensions["courrier_token_store"]
