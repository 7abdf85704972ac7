"""Column types and defaults shared by every model."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator


def utcnow():
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def new_uuid():
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Stores UTC and always returns an aware UTC datetime, on SQLite (no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
