"""The append-only audit log: written by the signal listener, never updated or deleted by the API.

Each event is chained to the one before it by a SHA-256 hash (courrier.audit.chain); triggers in the
database refuse UPDATE and DELETE (courrier.audit.append_only), except the retention purge's removal
of the oldest events, whose last hash it first records as an anchor.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from courrier.audit.append_only import install_after_create_all
from courrier.auth.models import User
from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_seq", "seq", unique=True),
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_type_created_at", "type", "created_at"),
        Index("ix_audit_events_actor_id", "actor_id"),
        # Also "my history" (GET /api/auth/history): one user's events, newest first, read in index order.
        Index("ix_audit_events_subject_user_id_created_at", "subject_user_id", "created_at"),
        Index("ix_audit_events_email", "email"),
        Index("ix_audit_events_ip", "ip"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # The event's place in the hash chain: 1, 2, 3… without gaps (given under the chain's lock).
    seq: Mapped[int] = mapped_column(BigInteger)
    # SHA-256 (hex) of the previous event's hash and this event's content (chain.chain_hash).
    hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    # User ids as recorded, without a foreign key: an append-only row cannot follow a deleted user
    # (ON DELETE SET NULL would be an UPDATE, refused), and the log must outlive the accounts it names.
    actor_id: Mapped[Optional[str]] = mapped_column(String(36))
    subject_user_id: Mapped[Optional[str]] = mapped_column(String(36))
    # The email concerned: the one tried on a failed login, else the subject's.
    email: Mapped[Optional[str]] = mapped_column(String(254))
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[Optional[dict]] = mapped_column(JSON)

    actor: Mapped[Optional[User]] = relationship(
        primaryjoin=lambda: foreign(AuditEvent.actor_id) == User.id, viewonly=True)
    subject_user: Mapped[Optional[User]] = relationship(
        primaryjoin=lambda: foreign(AuditEvent.subject_user_id) == User.id, viewonly=True)


class AuditAnchor(db.Model):
    """What a retention purge removed: its last event's seq and hash, where the chain now starts.

    Append-only too; the latest anchor (highest seq) is the one `flask audit verify` starts from.
    """

    __tablename__ = "audit_anchors"
    __table_args__ = (Index("ix_audit_anchors_seq", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    removed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


install_after_create_all(db.metadata)
