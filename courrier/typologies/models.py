"""A typologie: a kind of letter with its treatment deadline."""
from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db

# `sva`: silence vaut acceptation, `svr`: silence vaut rejet (the administration's silence at the deadline).
MODES = ("normal", "sva", "svr")


class Typologie(db.Model):
    __tablename__ = "typologies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # upper-case, like a service's
    nom: Mapped[str] = mapped_column(String(255))
    delai_jours: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10), default="normal")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
