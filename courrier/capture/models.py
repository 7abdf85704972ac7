"""The messages already captured from the mailbox: each one once, whoever polls and whenever a worker dies."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db


class CapturedMessage(db.Model):
    """One message turned into a draft, by its key: inserted in the draft's transaction, so that of two
    workers capturing the same message the unique key lets one commit, and a message found again in the
    inbox (a worker died between the commit and the move) is only moved."""

    __tablename__ = "captured_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # `message-id:<sha256 of the Message-ID>` or, without one, `sha256:<sha256 of the raw message>`.
    cle: Mapped[str] = mapped_column(String(80), unique=True)
    message_id: Mapped[Optional[str]] = mapped_column(Text)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
