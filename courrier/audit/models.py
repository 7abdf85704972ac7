"""The append-only audit log: written by the signal listener, never updated or deleted by the API."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courrier.auth.models import User
from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_type_created_at", "type", "created_at"),
        Index("ix_audit_events_actor_id", "actor_id"),
        Index("ix_audit_events_subject_user_id", "subject_user_id"),
        Index("ix_audit_events_email", "email"),
        Index("ix_audit_events_ip", "ip"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject_user_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The email concerned: the one tried on a failed login, else the subject's.
    email: Mapped[Optional[str]] = mapped_column(String(254))
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[Optional[dict]] = mapped_column(JSON)

    actor: Mapped[Optional[User]] = relationship(foreign_keys=[actor_id])
    subject_user: Mapped[Optional[User]] = relationship(foreign_keys=[subject_user_id])
