"""The tables whose rows name stored objects, registered by the features that own them.

Objects are content-addressed, so rows may share one: an object is removed only when no committed row
names it. A failed upload (`discard`) and a committed one (`ensure`) each look again after their
step, so that whatever order they run in, no committed row is left without its object.
"""
import logging
from dataclasses import dataclass

from sqlalchemy import Column, select

from courrier.extensions import db
from courrier.storage.objects import StorageUnavailable
from courrier.storage.stores import current

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    """A key column, the row's id, and what the row says the object is (its SHA-256 and size, when known):
    table columns or model attributes."""

    label: str
    id: Column
    key: Column
    sha256: Column | None = None
    size: Column | None = None


REFERENCES = {}


def register_reference(reference):
    """Called by a feature at import: the storage commands and `discard` then see its rows."""
    REFERENCES[reference.label] = reference


def registered():
    return list(REFERENCES.values())


def is_referenced(key):
    """Whether a committed row names `key`, read on a connection of its own (never the caller's snapshot)."""
    with db.engine.connect() as connection:
        return any(connection.execute(select(ref.key).where(ref.key == key).limit(1)).first() is not None
                   for ref in REFERENCES.values())


def discard(stored, source):
    """Remove the object of an upload whose row was not committed, unless a committed row names it.

    Another upload of the same bytes may be committing at this very moment: after the removal, if a
    row names the object now, it is put back from `source` (the same bytes).
    """
    try:
        if is_referenced(stored.key):
            return
        store = current()
        store.delete(stored.key)
        if is_referenced(stored.key):
            source.seek(0)
            store.put(source, sha256=stored.sha256)
    except StorageUnavailable as error:  # the failure being handled is the one to report
        log.error("could not discard object %s: %s", stored.key, error)


def ensure(stored, source):
    """After the row naming `stored` committed: the object is there (a failed upload of the same bytes
    may have removed it in between), or it is put back from `source`."""
    store = current()
    try:
        if not store.exists(stored.key):
            source.seek(0)
            store.put(source, sha256=stored.sha256)
    except StorageUnavailable as error:  # it was there a moment ago; the row stands, `flask storage check` tells
        log.error("could not check object %s after its row committed: %s", stored.key, error)
