"""Reference numbers (`ENT-2026-000042`): one gapless counter per type and year, in the caller's transaction."""
from sqlalchemy import update

from courrier.database import insert_ignoring_duplicates
from courrier.documents.models import REFERENCE_PREFIXES, ReferenceCounter
from courrier.extensions import db


def next_reference(doc_type, year):
    """The next reference of `doc_type` for `year` (`ENT-2026-000042`), inside the caller's transaction.

    The counter row of (type, year) is incremented with one `UPDATE … SET last_value = last_value + 1
    … RETURNING last_value` in the transaction that inserts the document:
    - unique and in order: on PostgreSQL the UPDATE locks the row until commit, so concurrent
      creators of one type queue behind each other and each reads the value the previous one
      committed; on SQLite the UPDATE takes the database's single write lock (busy_timeout waits);
    - gapless: a creation that fails rolls its increment back with it (a sequence would not);
    - the first document of a type and year inserts the row with `ON CONFLICT DO NOTHING`, so two
      creators racing for that first row cannot fail: the loser waits for the winner's row, then
      increments it.
    The `documents.reference` unique constraint stays as the last line of defence.
    """
    number = _increment_counter(doc_type, year)
    if number is None:
        _insert_counter_if_missing(doc_type, year)
        number = _increment_counter(doc_type, year)
    return f"{REFERENCE_PREFIXES[doc_type]}-{year:04d}-{number:06d}"


def _increment_counter(doc_type, year):
    counters = ReferenceCounter.__table__
    return db.session.execute(
        update(counters)
        .where(counters.c.type == doc_type, counters.c.year == year)
        .values(last_value=counters.c.last_value + 1)
        .returning(counters.c.last_value)).scalar_one_or_none()


def _insert_counter_if_missing(doc_type, year):
    insert_ignoring_duplicates(ReferenceCounter.__table__, type=doc_type, year=year, last_value=0)
