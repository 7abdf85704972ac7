"""Moving every stored object to another store, and checking that each one is there and whole.

Both walk the rows of the registered references (`courrier.storage.references`): an object is what a
row names, with the SHA-256 and size the row records. A move copies, never removes: the objects stay in
the source store until the operator, having switched STORAGE_URL and run `flask storage check`, removes
them. A row is changed only for a file stored before keys were hashes (its uuid4 hex name becomes the
SHA-256 key), and only once its bytes are verified in the target and under that key in the source too,
so that the running app serves it throughout.
"""
import hashlib
from dataclasses import dataclass

from sqlalchemy import select, update

from courrier.extensions import db
from courrier.storage.objects import CorruptObject, ObjectMissing, read_chunks
from courrier.storage.references import registered


@dataclass(frozen=True)
class Row:
    """One row naming an object: its table's reference, its id, the key, and the hash and size it records."""

    reference: object
    id: str
    key: str
    sha256: str | None
    size: int | None

    @property
    def expected_sha256(self):
        """The row's recorded hash; for a content-addressed key without one, the key itself."""
        return self.sha256 or (self.key if len(self.key) == 64 else None)

    def describe(self):
        return f"{self.reference.label} {self.id} (objet {self.key})"


def count_rows():
    """How many rows name an object."""
    return sum(db.session.scalar(select(db.func.count(ref.key)).where(ref.key.is_not(None))) for ref in registered())


def iter_rows():
    """Every row of every registered reference that names an object, in id order."""
    for ref in registered():
        columns = [ref.id, ref.key, ref.sha256 if ref.sha256 is not None else db.null(),
                   ref.size if ref.size is not None else db.null()]
        query = select(*columns).where(ref.key.is_not(None)).order_by(ref.id)
        for row_id, key, sha256, size in db.session.execute(query).all():
            yield Row(ref, row_id, key, sha256, size)


@dataclass(frozen=True)
class Outcome:
    row: Row
    problem: str | None = None  # French, for the operator; None when the row's object is in place


def copy_row(row, source, target):
    """Copy the object of `row` to `target` (a no-op when it is there already), its hash checked on the
    way; a legacy uuid-named object gets its SHA-256 key in both stores, then its row. Nothing changes
    for a row whose object is missing or corrupt."""
    expected = row.expected_sha256
    try:
        with source.open(row.key) as stream:
            stored = target.put(stream, sha256=expected)
    except ObjectMissing:
        return Outcome(row, "manquant dans la source")
    except CorruptObject:
        return Outcome(row, "corrompu dans la source (son SHA-256 n'est pas celui que la ligne enregistre)")
    if stored.key != row.key:
        with source.open(row.key) as stream:
            source.put(stream, sha256=stored.key)
        rekey(row, stored.key)
        source.delete(row.key)  # a uuid name belonged to this row alone
    return Outcome(row)


def rekey(row, key):
    """The row names `key` from now on (unless someone changed it meanwhile)."""
    column = row.reference.key.expression  # a table's column, or a model's attribute
    db.session.execute(update(column.table).where(row.reference.id == row.id, column == row.key)
                       .values({column.name: key}))
    db.session.commit()


def check_row(row, store, seen):
    """Whether the row's object is in `store` with the row's hash and size; `seen` keeps the verdict of
    each key already read (rows may share an object)."""
    if row.key not in seen:
        seen[row.key] = _verdict(store, row.key, row.expected_sha256, row.size)
    return Outcome(row, seen[row.key])


def _verdict(store, key, expected, size):
    digest, read = hashlib.sha256(), 0
    try:
        with store.open(key) as stream:
            for chunk in read_chunks(stream):
                digest.update(chunk)
                read += len(chunk)
    except ObjectMissing:
        return "manquant"
    if (expected is not None and digest.hexdigest() != expected) or (size is not None and read != size):
        return f"corrompu ({read} octets, SHA-256 {digest.hexdigest()})"
    return None
