"""Who may see a letter, as words of its SQLite index entry (the FTS5 column `acces`).

On SQLite the words of a query match far more letters than one agent may see; each match would then be
looked up in `documents` before the visibility predicate drops it. The index entry therefore carries its
letter's readers as words (`c<creator>`, `r<responsable>`, `s<service>` or `snone`, `p<copy service>`,
`u<copy user>`, ids without their hyphens, written by the triggers of courrier.search.index), and a query
requires one of the caller's: FTS5 intersects them with the query's words.

This only narrows the candidates: the visibility predicate (courrier.documents.visibility) still decides.
One entry per way to see (`WAYS_TO_SEE`): a way without one here turns the narrowing off (never a letter
missing from the results), and tests/test_search.py checks that the two tables have the same keys.
PostgreSQL needs none of it: its GIN match and the predicate's indexes meet in one BitmapAnd.
"""
from courrier.documents import visibility


def _ids(prefix, ids):
    return [prefix + identifier.replace("-", "") for identifier in ids]


ACCESS_WORDS = {
    "registered": lambda v: _ids("c", [v.id]),
    "responsable": lambda v: _ids("r", [v.id]),
    "treating_service_member": lambda v: _ids("s", v.service_ids),
    "validateur_above": lambda v: _ids("s", v.supervised_ids),
    "validateur_unrouted": lambda v: ["snone"] if v.role in visibility.SUPERVISORS else [],
    "copied_user": lambda v: _ids("u", [v.id]),
    "copied_service": lambda v: _ids("p", v.service_ids),
}


def access_filter(viewer):
    """The FTS5 expression `acces : ("w1" OR "w2" …)` of the letters `viewer` may see; None when there is
    nothing to narrow (they see every letter, or a way to see has no words here)."""
    if viewer is None or viewer.sees_all or set(visibility.WAYS_TO_SEE) - set(ACCESS_WORDS):
        return None
    words = sorted({word for words in ACCESS_WORDS.values() for word in words(viewer)})
    quoted = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    return f"acces : ({quoted})"
