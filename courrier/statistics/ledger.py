"""Keeping the aggregates exact: every change to a letter is recounted in the transaction that makes it.

Every write to a letter also writes a line of its history (documents.service.record: registration,
correction, routing, decision, treatment, reopening, a reply's validation closing the letter…), in the same
transaction. The listener below recounts the letter when that line is inserted: it reads the letter and its
ledger row (models.LetterFacts), and moves the letter's counts from the old buckets to the new ones. The
recount is idempotent (a letter whose facts did not change costs two reads), so the order and the number of
history lines do not matter. Rows written without the app (a bulk import, the bench's seeding) are counted
by `flask statistiques rebuild`, which recounts everything from the letters.
"""
from collections import Counter
from datetime import date, timezone
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from courrier import deadlines
from courrier.documents.models import TRAITE, Document, DocumentEvent
from courrier.statistics.models import ALL, NONE, DailyCount, DurationCount, LetterFacts, MonthlyCount

FACT_COLUMNS = (Document.id, Document.created_at, Document.type, Document.service_id, Document.typologie_id,
                Document.date_reception, Document.traitement_etat, Document.traite_at, Document.reference)
BATCH = 5_000
# Processing time is the time to answer what was received: incoming letters only.
DURATION_TYPE = "entrant"


@lru_cache(maxsize=4096)
def working_days_between(received, treated, subdivision):
    """Working days after `received` up to `treated` included (0 the same day): deadlines' own count, so a
    letter treated within its typologie's delay has a duree ≤ delai_jours."""
    days, day = 0, received
    while day < treated:
        day = deadlines.add_working_days(day, 1, subdivision)
        if day <= treated:
            days += 1
    return days


def facts_of(row, subdivision):
    """The ledger row of a letter (a row of FACT_COLUMNS)."""
    facts = {"document_id": row.id, "jour": row.created_at.astimezone(timezone.utc).date(), "type": row.type,
             "service_id": row.service_id or NONE, "typologie_id": row.typologie_id or NONE,
             "jour_traite": None, "duree": None}
    if row.traitement_etat == TRAITE and row.traite_at is not None:
        received = row.date_reception or deadlines.paris_today(row.created_at)
        treated = deadlines.paris_today(row.traite_at)
        facts["jour_traite"] = treated
        facts["duree"] = working_days_between(received, treated, subdivision)
    return facts


def month_of(day):
    return date(day.year, day.month, 1)


def cube(service_id, typologie_id):
    """The (service, typologie) keys a letter is counted under: its own, and ALL for either or both."""
    return ((service_id, typologie_id), (ALL, typologie_id), (service_id, ALL), (ALL, ALL))


def buckets(facts):
    """{(model, key): 1} of one letter's facts (the keys of each aggregate it counts in)."""
    counted = Counter()
    for service_id, typologie_id in cube(facts["service_id"], facts["typologie_id"]):
        keys = {"type": facts["type"], "service_id": service_id, "typologie_id": typologie_id}
        counted[(DailyCount, frozenset({**keys, "jour": facts["jour"]}.items()))] += 1
        counted[(MonthlyCount, frozenset({**keys, "mois": month_of(facts["jour"])}.items()))] += 1
        if facts["duree"] is not None and facts["type"] == DURATION_TYPE:
            counted[(DurationCount, frozenset({"mois": month_of(facts["jour_traite"]), "duree": facts["duree"],
                                               "service_id": service_id, "typologie_id": typologie_id}.items()))] += 1
    return counted


def _upsert(connection):
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[connection.dialect.name]


def _lock_order(item):
    (kind, key), _ = item
    return kind.__tablename__, sorted((name, str(value)) for name, value in key)


def _apply(connection, deltas):
    """Add each delta to its aggregate row: one INSERT … ON CONFLICT DO UPDATE per aggregate.

    The rows go in the order of their keys, so that two transactions lock the rows they share (the ALL
    rows above all) in the same order, and wait for each other instead of deadlocking.
    """
    upsert = _upsert(connection)
    for model in (DailyCount, MonthlyCount, DurationCount):
        rows = [{**dict(key), "nombre": delta}
                for (kind, key), delta in sorted(deltas.items(), key=_lock_order) if kind is model and delta]
        if rows:
            table = model.__table__
            statement = upsert(table).values(rows)
            connection.execute(statement.on_conflict_do_update(
                index_elements=[column.name for column in table.primary_key.columns],
                set_={"nombre": table.c.nombre + statement.excluded.nombre}))


def recount(connection, document_id):
    """Bring the aggregates in line with the letter as it is now in this transaction."""
    ledger = LetterFacts.__table__
    row = connection.execute(select(*FACT_COLUMNS).where(Document.id == document_id)).one_or_none()
    old = connection.execute(select(ledger).where(ledger.c.document_id == document_id)).mappings().one_or_none()
    # A draft or a set-aside letter (no reference: courrier.capture) is not a registered letter: not counted.
    registered = row is not None and row.reference is not None
    new = facts_of(row, current_app.config["HOLIDAYS_SUBDIVISION"]) if registered else None
    old = dict(old) if old is not None else None
    if new == old:
        return
    deltas = Counter()
    if old is not None:
        deltas.subtract(buckets(old))
        connection.execute(delete(ledger).where(ledger.c.document_id == document_id))
    if new is not None:
        deltas.update(buckets(new))
        connection.execute(insert(ledger).values(**new))
    _apply(connection, deltas)


def _history_line_inserted(mapper, connection, target):
    recount(connection, target.document_id)


def connect_statistics_listeners():
    """Recount a letter whenever a line of its history is written (once per process)."""
    if not event.contains(DocumentEvent, "after_insert", _history_line_inserted):
        event.listen(DocumentEvent, "after_insert", _history_line_inserted)


def rebuild(session, on_batch=None):
    """Recount every letter from scratch (after a bulk load, or to check the aggregates): one transaction."""
    subdivision = current_app.config["HOLIDAYS_SUBDIVISION"]
    for model in (DailyCount, MonthlyCount, DurationCount, LetterFacts):
        session.execute(delete(model))
    rows = session.execute(select(*FACT_COLUMNS).where(Document.reference.is_not(None))
                           .execution_options(yield_per=BATCH))
    totals, count = Counter(), 0
    for batch in rows.partitions():
        facts = [facts_of(row, subdivision) for row in batch]
        session.execute(insert(LetterFacts.__table__), facts)
        for one in facts:
            totals.update(buckets(one))
        count += len(batch)
        if on_batch is not None:
            on_batch(count)
    for model in (DailyCount, MonthlyCount, DurationCount):
        rows = [{**dict(key), "nombre": n} for (kind, key), n in totals.items() if kind is model]
        for start in range(0, len(rows), BATCH):
            session.execute(insert(model.__table__), rows[start:start + BATCH])
    return count
