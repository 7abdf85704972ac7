"""Keeping the aggregates exact: every change to a letter is recounted in the transaction that makes it.

Every write to a letter also writes a line of its history (documents.service.record: registration,
correction, routing, decision, treatment, reopening, a reply's validation closing the letter…), in the same
transaction. The listener below recounts the letter when that line is inserted: it reads the letter and its
ledger row (models.LetterFacts), and moves the letter's counts from the old buckets to the new ones. The
recount is idempotent (a letter whose facts did not change costs two reads), so the order and the number of
history lines do not matter. Rows written without the app (a bulk import, the bench's seeding) are counted
by `flask statistiques rebuild`, which recounts everything from the letters.
"""
from datetime import date, timezone
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from courrier import deadlines
from courrier.documents.models import TRAITE, Document, DocumentEvent
from courrier.statistics.models import NONE, DailyCount, DurationCount, LetterFacts

FACT_COLUMNS = (Document.id, Document.created_at, Document.type, Document.service_id, Document.typologie_id,
                Document.date_reception, Document.traitement_etat, Document.traite_at)
BATCH = 5_000


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


def _upsert(connection):
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[connection.dialect.name]


def _add(connection, facts, sign):
    """Add (sign 1) or take away (sign -1) one letter's facts to the aggregates."""
    upsert = _upsert(connection)
    keys = {name: facts[name] for name in ("type", "service_id", "typologie_id")}
    buckets = [(DailyCount, {"jour": facts["jour"], **keys})]
    if facts["jour_traite"] is not None:
        buckets.append((DurationCount, {"mois": month_of(facts["jour_traite"]), "duree": facts["duree"], **keys}))
    for model, key in buckets:
        table = model.__table__
        statement = upsert(table).values(**key, nombre=sign)
        connection.execute(statement.on_conflict_do_update(
            index_elements=list(key), set_={"nombre": table.c.nombre + statement.excluded.nombre}))


def recount(connection, document_id):
    """Bring the aggregates in line with the letter as it is now in this transaction."""
    ledger = LetterFacts.__table__
    row = connection.execute(select(*FACT_COLUMNS).where(Document.id == document_id)).one_or_none()
    old = connection.execute(select(ledger).where(ledger.c.document_id == document_id)).mappings().one_or_none()
    new = facts_of(row, current_app.config["HOLIDAYS_SUBDIVISION"]) if row is not None else None
    if new == (dict(old) if old is not None else None):
        return
    if old is not None:
        _add(connection, old, -1)
        connection.execute(delete(ledger).where(ledger.c.document_id == document_id))
    if new is not None:
        _add(connection, new, 1)
        connection.execute(insert(ledger).values(**new))


def _history_line_inserted(mapper, connection, target):
    recount(connection, target.document_id)


def connect_statistics_listeners():
    """Recount a letter whenever a line of its history is written (once per process)."""
    if not event.contains(DocumentEvent, "after_insert", _history_line_inserted):
        event.listen(DocumentEvent, "after_insert", _history_line_inserted)


def rebuild(session, on_batch=None):
    """Recount every letter from scratch (after a bulk load, or to check the aggregates): one transaction."""
    subdivision = current_app.config["HOLIDAYS_SUBDIVISION"]
    for model in (DailyCount, DurationCount, LetterFacts):
        session.execute(delete(model))
    rows = session.execute(select(*FACT_COLUMNS).execution_options(yield_per=BATCH))
    count = 0
    for batch in rows.partitions():
        session.execute(insert(LetterFacts.__table__), [facts_of(row, subdivision) for row in batch])
        count += len(batch)
        if on_batch is not None:
            on_batch(count)
    facts = LetterFacts.__table__.c
    keys = (facts.type, facts.service_id, facts.typologie_id)
    session.execute(insert(DailyCount).from_select(
        ["jour", "type", "service_id", "typologie_id", "nombre"],
        select(facts.jour, *keys, func.count()).group_by(facts.jour, *keys)))
    treated = session.execute(
        select(facts.jour_traite, *keys, facts.duree, func.count().label("nombre"))
        .where(facts.jour_traite.is_not(None)).group_by(facts.jour_traite, *keys, facts.duree)).all()
    months = {}
    for row in treated:
        key = (month_of(row.jour_traite), row.type, row.service_id, row.typologie_id, row.duree)
        months[key] = months.get(key, 0) + row.nombre
    names = ("mois", "type", "service_id", "typologie_id", "duree")
    for start in range(0, len(months), BATCH):
        chunk = list(months.items())[start:start + BATCH]
        session.execute(insert(DurationCount.__table__),
                        [{**dict(zip(names, key)), "nombre": n} for key, n in chunk])
    return count
