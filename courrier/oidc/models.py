"""ProConnect identities, the logins under way, the one-time tickets and the logout hints."""
from datetime import datetime
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db


class OidcIdentity(db.Model):
    """A provider's account (`issuer`, `sub`) linked to a local user, found again at each sign-in."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "sub"), Index("ix_oidc_identities_user_id", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    issuer: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OidcPendingLogin(db.Model):
    """An authorisation request sent to the provider; deleted by the callback that reads it (single use).

    `id` is the SHA-256 of the random handle held by the browser's cookie: the table alone cannot be
    replayed from a browser.
    """

    __tablename__ = "oidc_pending_logins"
    __table_args__ = (Index("ix_oidc_pending_logins_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OidcTicket(db.Model):
    """A one-time ticket (30 s) the SPA exchanges for its tokens; `id` is the SHA-256 of the ticket."""

    __tablename__ = "oidc_tickets"
    __table_args__ = (Index("ix_oidc_tickets_user_id", "user_id"), Index("ix_oidc_tickets_expires_at", "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The provider's acr/amr showed a second factor.
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    id_token_hint: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OidcSessionHint(db.Model):
    """The ID token of the sign-in that opened a session: the `id_token_hint` of its provider logout."""

    __tablename__ = "oidc_session_hints"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    id_token_hint: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
