"""The hash chain of the audit log: how an event is chained when it is written, verified, and pruned.

Each event's `hash` is SHA-256 over the previous event's hash and a canonical JSON of the event's
content (`CHAINED_FIELDS`); `seq` orders the chain (1, 2, 3… without gaps). Editing an event changes
its hash; removing one breaks the link of the next; inserting one breaks its own link, while the next
event still links over it. The first event links to `GENESIS`, or, once the retention purge removed
the oldest events, to the hash of the last one removed (the latest `AuditAnchor`).

Appends are serialised so the chain never forks, with several workers or machines writing at once:
on PostgreSQL by a transaction-scoped advisory lock taken just before the INSERT (at flush) and
released at COMMIT; on SQLite by a no-op write that makes the transaction the database's one writer
before the head of the chain is read. The cost on a login is two short statements (README, "Journal
infalsifiable").
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.orm import Session

from courrier.audit.models import AuditAnchor, AuditEvent
from courrier.columns import new_uuid, utcnow
from courrier.extensions import db

GENESIS = "0" * 64
CHAINED_FIELDS = ("id", "type", "actor_id", "subject_user_id", "email", "ip", "user_agent", "created_at", "details")
# Any constant shared by every process of the deployment: the key of the chain's advisory lock.
CHAIN_LOCK_KEY = 0x636F7572_72696572 & 0x7FFFFFFFFFFFFFFF  # "courrier"
VERIFY_BATCH = 1000


def canonical_content(row):
    """The event's content as bytes that do not depend on the database or the driver: sorted-key JSON."""
    content = {field: getattr(row, field) for field in CHAINED_FIELDS}
    content["created_at"] = content["created_at"].isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(previous_hash, row):
    """The hash an event must carry, following the event whose hash is `previous_hash`."""
    return hashlib.sha256(previous_hash.encode("ascii") + b"\n" + canonical_content(row)).hexdigest()


def latest_anchor(connection):
    """(seq, hash) of the last event the retention purge removed, or None."""
    return connection.execute(
        select(AuditAnchor.seq, AuditAnchor.hash).order_by(AuditAnchor.seq.desc()).limit(1)).first()


def lock_chain_head(connection):
    """Become the chain's only writer until COMMIT, then return the (seq, hash) to link to."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    else:
        # pysqlite runs a SELECT outside any transaction: a write statement first (matching no row)
        # opens the transaction and takes SQLite's single write lock, so the head read is still the
        # head at COMMIT.
        connection.execute(text("UPDATE audit_anchors SET seq = seq WHERE 0 = 1"))
    head = connection.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return head or latest_anchor(connection) or (0, GENESIS)


def chain_new_events(session, _flush_context, _instances):
    """before_flush: give the session's new events their seq and hash, in the order they were added."""
    new_events = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new_events:
        return
    seq, previous_hash = lock_chain_head(session.connection())
    for audit_event in new_events:
        audit_event.id = audit_event.id or new_uuid()
        audit_event.created_at = audit_event.created_at or utcnow()
        seq += 1
        audit_event.seq, audit_event.hash = seq, chain_hash(previous_hash, audit_event)
        previous_hash = audit_event.hash


def connect_chain():
    """Chain every AuditEvent any ORM session writes (once per process)."""
    if not event.contains(Session, "before_flush", chain_new_events):
        event.listen(Session, "before_flush", chain_new_events)


# ------------------------------------------------------------------------------------------- verify

@dataclass
class ChainBreak:
    """The first place the chain does not hold: `kind` is altered, removed or inserted."""

    kind: str
    seq: int
    event_id: str
    message: str


@dataclass
class ChainReport:
    checked: int
    head: tuple  # (seq, hash) of the last event checked, or of the anchor when none
    anchor: tuple | None
    broken: ChainBreak | None = None


def count_events(connection):
    return connection.scalar(select(func.count()).select_from(AuditEvent))


def stream_chain(connection):
    """Every event in chain order, read in batches (constant memory, also on a million rows)."""
    columns = [AuditEvent.seq, AuditEvent.hash, *(getattr(AuditEvent, field) for field in CHAINED_FIELDS)]
    result = connection.execution_options(yield_per=VERIFY_BATCH).execute(select(*columns).order_by(AuditEvent.seq))
    try:
        for partition in result.partitions():
            yield from partition
    finally:
        result.close()  # a verify that stops at a break leaves no server-side cursor open


def verify_chain(rows, anchor, progress=lambda: None):
    """Recompute the chain over `rows` (in seq order) from `anchor`; the first break, if any, named."""
    previous_seq, previous_hash = anchor or (0, GENESIS)
    rows = iter(rows)
    row, checked = next(rows, None), 0
    while row is not None:
        following = next(rows, None)
        broken = _check_link(previous_seq, previous_hash, row, following)
        if broken:
            return ChainReport(checked, (previous_seq, previous_hash), anchor, broken)
        previous_seq, previous_hash = row.seq, row.hash
        checked += 1
        progress()
        row = following
    return ChainReport(checked, (previous_seq, previous_hash), anchor)


def _check_link(previous_seq, previous_hash, row, following):
    """None when `row` follows the event (previous_seq, previous_hash) as it should, else the break."""
    name = f"l'événement n° {row.seq} (id {row.id}, {row.type}, {row.created_at.isoformat(timespec='seconds')})"
    links = row.hash == chain_hash(previous_hash, row)
    if links and row.seq == previous_seq + 1:
        return None
    if row.seq <= previous_seq or (following is not None and following.hash == chain_hash(previous_hash, following)):
        return ChainBreak("inserted", row.seq, row.id,
                          f"{name} a été inséré : il ne suit pas l'événement n° {previous_seq}.")
    if links:
        return ChainBreak("altered", row.seq, row.id, f"{name} a été renuméroté (attendu n° {previous_seq + 1}).")
    if row.seq > previous_seq + 1:
        missing = (f"n° {previous_seq + 1}" if row.seq == previous_seq + 2
                   else f"n° {previous_seq + 1} à {row.seq - 1}")
        return ChainBreak("removed", row.seq, row.id, f"événement(s) {missing} supprimé(s), juste avant {name}.")
    if following is None:
        return ChainBreak("altered", row.seq, row.id,
                          f"{name}, le dernier, a été modifié ou ajouté hors de l'application.")
    return ChainBreak("altered", row.seq, row.id,
                      f"{name} a été modifié (ou un événement juste avant lui supprimé puis la suite renumérotée).")


# -------------------------------------------------------------------------------------------- prune

def prune_events(retention_days, batch_size, now=None):
    """Remove the events older than the retention period, oldest first, one transaction per batch.

    Only a prefix of the chain is removed (the events before the first one still within the period),
    so what remains still verifies: each batch first records its last event's seq and hash as an
    anchor, which is also what allows the database triggers to let those rows go. Returns how many
    events were removed.
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    removed = 0
    while True:
        batch = db.session.execute(
            select(AuditEvent.seq, AuditEvent.hash, AuditEvent.created_at).order_by(AuditEvent.seq).limit(batch_size)
        ).all()
        expired = []
        for row in batch:
            if row.created_at >= cutoff:
                break
            expired.append(row)
        if not expired:
            db.session.rollback()
            return removed
        last = expired[-1]
        db.session.execute(insert(AuditAnchor).values(seq=last.seq, hash=last.hash, removed=len(expired),
                                                      created_at=utcnow()))
        db.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last.seq)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        removed += len(expired)
        if len(expired) < len(batch) or len(batch) < batch_size:
            return removed
