"""Users and their server-side sessions (one row per login)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db

ROLES = ("agent", "validateur", "administrateur")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # Always stored trimmed and lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(60))
    nom: Mapped[str] = mapped_column(String(100))
    prenom: Mapped[str] = mapped_column(String(100))
    contact: Mapped[Optional[str]] = mapped_column(String(30))
    role: Mapped[str] = mapped_column(String(20), default="agent", index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # The user's own choice (PATCH /api/auth/me): e-mail notifications (courrier.notifications) or none.
    notifications_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The password policy (courrier.auth.passwords.policy_mark) this password was last found to meet;
    # a login under a stricter policy (or a promotion) checks it again.
    password_policy: Mapped[Optional[str]] = mapped_column(String(20))
    # The password was set by an administrateur (PASSWORD_CHANGE_ON_FIRST_LOGIN): the next password login is
    # restricted to changing it; the user's own change clears it.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # TOTP (courrier.auth.totp): on when `mfa_enabled_at` is set. The pending secret waits for the first code;
    # `mfa_last_step` is the last time step accepted, so that a code is never accepted twice.
    mfa_secret: Mapped[Optional[str]] = mapped_column(String(64))
    mfa_pending_secret: Mapped[Optional[str]] = mapped_column(String(64))
    mfa_enabled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    mfa_last_step: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sessions: Mapped[list["AuthSession"]] = relationship(back_populates="user", passive_deletes=True)
    # Read only where a route shows them (the session check never loads them); the primary one first.
    memberships: Mapped[list["ServiceMember"]] = relationship(  # noqa: F821
        back_populates="user", passive_deletes=True, order_by="desc(ServiceMember.is_primary)")

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class AuthSession(db.Model):
    """One login: the jti of its current access and refresh tokens, never the tokens themselves."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_user_id_created_at", "user_id", "created_at"),
        Index("ix_sessions_ip", "ip"),
        Index("ix_sessions_expires_at", "expires_at"),
        Index("ix_sessions_revoked_at", "revoked_at"),
        Index("ix_sessions_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    access_jti: Mapped[str] = mapped_column(String(36), unique=True)
    refresh_jti: Mapped[str] = mapped_column(String(36), unique=True)
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[Optional[str]] = mapped_column(String(40))
    # How the session was opened (password, oidc), whether a second factor was proven, when its user last
    # proved who they are (login or POST /api/auth/reauthenticate), and what it is restricted to, if anything
    # (courrier.auth.restrictions).
    auth_method: Mapped[str] = mapped_column(String(20), default="password", server_default="password")
    mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    authenticated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    restriction: Mapped[Optional[str]] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="sessions")


class MfaRecoveryCode(db.Model):
    """A single-use recovery code, stored as its SHA-256 (a code carries 50 random bits)."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (Index("ix_mfa_recovery_codes_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class MfaChallenge(db.Model):
    """The second step of a login: an `mfa_token` (stored as its SHA-256), single use, short-lived."""

    __tablename__ = "mfa_challenges"
    __table_args__ = (Index("ix_mfa_challenges_user_id", "user_id"),
                      Index("ix_mfa_challenges_expires_at", "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(20), default="password")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # What the session will be restricted to, found at the first step (a password below the policy).
    restriction: Mapped[Optional[str]] = mapped_column(String(40))
