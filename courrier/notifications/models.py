"""The outbox: one row per e-mail to send, written in the transaction of the change that causes it."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db

# pending → sending (claimed by one sender until `claimed_until`) → sent; or back to pending (a retry),
# or failed after NOTIFY_MAX_ATTEMPTS tries.
STATUSES = ("pending", "sending", "sent", "failed")
PENDING, SENDING, SENT, FAILED = STATUSES
KINDS = ("assigned", "assigned_service", "copy", "validated", "rejected", "due_soon", "late")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The sender's claim: pending rows that are due, then sending rows whose claim expired.
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_status_claimed_until", "status", "claimed_until"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # Null for a service's own mailbox (`services.email`).
    user_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[Optional[str]] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Set for the notices that must be queued once only (deadlines): the database refuses a second one.
    dedup_key: Mapped[Optional[str]] = mapped_column(String(400), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    # Claims so far: a message whose sender died counts as tried, so a message that kills its sender
    # ends as failed instead of being retried forever.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    claim_token: Mapped[Optional[str]] = mapped_column(String(36))
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    def __repr__(self):
        return f"<Notification {self.kind} {self.to_email} {self.status}>"
