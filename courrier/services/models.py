"""Services (the organisation tree) and memberships (which users belong to which service)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db


class Service(db.Model):
    """A service of the administration; `is_mail_office` marks the bureau du courrier (at most one)."""

    __tablename__ = "services"
    __table_args__ = (
        # At most one mail office, said by the database itself so that two concurrent PATCHes cannot make two.
        Index("uq_services_mail_office", "is_mail_office", unique=True,
              sqlite_where=text("is_mail_office = 1"), postgresql_where=text("is_mail_office")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # Stored upper-case, so the unique constraint is case-insensitive.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    nom: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[Optional[str]] = mapped_column(ForeignKey("services.id"), index=True)
    email: Mapped[Optional[str]] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    is_mail_office: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self):
        return f"<Service {self.code}>"


class ServiceMember(db.Model):
    """A user's membership of a service; `is_primary` marks their main service (at most one per user)."""

    __tablename__ = "service_members"
    __table_args__ = (
        Index("ix_service_members_service_id", "service_id"),
        Index("uq_service_members_primary", "user_id", unique=True,
              sqlite_where=text("is_primary = 1"), postgresql_where=text("is_primary")),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    service: Mapped[Service] = relationship(lazy="joined")
    user: Mapped["User"] = relationship(back_populates="memberships")  # noqa: F821
