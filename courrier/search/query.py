"""`q` on the register: the user's words as plain terms, their match in the index, its rank and its extracts.

A query is never index syntax: it is cut into words (letters and digits), and each word is searched as
itself, so that quotes, parentheses, AND/OR/NOT, `*`, `-`, `NEAR(` or `objet:` are only text. Every word
must match (AND); on SQLite the last one also as a prefix (« dup » finds « Dupré » while typing).

Ranking (`tri=pertinence`): ts_rank on PostgreSQL, bm25 on SQLite, the reference and objet weighing more
than the correspondents, which weigh more than the attachments' text; equal ranks newest first.
"""
import re

from sqlalchemy import bindparam, column, false, func, literal_column, select, table, text

from courrier.documents.models import Document
from courrier.extensions import db
from courrier.search.access import access_filter
from courrier.search.index import CONFIGURATION, FTS_COLUMNS

WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 16
# Marks around the matched words in an extract: private-use characters, never in a letter's text (they
# are removed from it first on PostgreSQL), split into segments here: the API returns data, never HTML.
OPEN, CLOSE = "\ue000", "\ue001"
# PostgreSQL's parser reads `<b>` as a tag and `&amp;` as an entity, which ts_headline leaves out: `<` and `&`
# stand in as these characters meanwhile, so the extract shows the text as written.
STAND_INS = {"<": "\ue002", "&": "\ue003"}
EXTRACT_WORDS = 24
# The start of the attachments' text that an extract is looked for in (ts_headline reads all it is given).
EXTRACT_TEXT_CHARS = 20_000
# bm25 weights of the FTS5 columns (reference, objet, correspondants, numero, texte, acces).
SQLITE_WEIGHTS = (10.0, 5.0, 3.0, 3.0, 1.0, 0.0)

FTS = table("recherche", column("rowid"))
FTS_KEYS = table("recherche_cles", column("rowid"), column("document_id"))
VECTOR = literal_column("documents.recherche")
REGCONFIG = literal_column(f"'{CONFIGURATION}'::regconfig")


def terms(q):
    """The words of `q` (letters and digits), at most MAX_TERMS of them."""
    return WORD.findall(q or "")[:MAX_TERMS]


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _tsquery(words):
    return func.plainto_tsquery(REGCONFIG, bindparam("recherche_q", " ".join(words)))


TEXT_COLUMNS = "{" + " ".join(FTS_COLUMNS[:-1]) + "}"


def fts5_query(words, access=None, prefix=True):
    """The FTS5 MATCH string: each word quoted (plain text), every one required, the last also as a prefix
    (in the text columns only: never an `acces` word); with `access` (courrier.search.access), only among
    those letters. A column filter on every word would cost a quarter more at 1,000,000 letters."""
    quoted = [f'"{word}"' for word in words]
    if prefix:
        quoted[-1] = f"{TEXT_COLUMNS} : {quoted[-1]}*"
    expression = " ".join(quoted)
    return expression if access is None else f"{expression} AND {access}"


def matching(query, q, viewer=None):
    """`query` (a SELECT of Document) narrowed to the letters matching `q`, and its rank expression
    (ascending: best first). No word at all matches nothing. On SQLite the candidates are narrowed to
    those `viewer` may see in the index itself (courrier.search.access)."""
    words = terms(q)
    if not words:
        return query.where(false()), None
    if _postgresql():
        tsquery = _tsquery(words)
        return query.where(VECTOR.op("@@")(tsquery)), -func.ts_rank(VECTOR, tsquery)
    # FTS5's bm25() cannot sit beside the page's window count: it is computed in a subquery, which the
    # LIMIT keeps SQLite from flattening into the outer query.
    matches = (select(FTS_KEYS.c.document_id, func.bm25(literal_column("recherche"), *SQLITE_WEIGHTS).label("score"))
               .select_from(FTS.join(FTS_KEYS, FTS_KEYS.c.rowid == FTS.c.rowid))
               .where(literal_column("recherche").op("MATCH")(
                   bindparam("recherche_q", fts5_query(words, access_filter(viewer)))))
               .limit(-1).subquery("correspondances"))
    return query.join(matches, matches.c.document_id == Document.id), matches.c.score


def ranked_page(query, order, page, per_page):
    """One page of `query` in `order` and the number of its rows, in one pass over the matches (a window
    count beside the page's keys), then the page's letters (joins and all) by their keys; `{data, meta}`
    as courrier.database.paginate. Only a page past the end costs a separate count."""
    offset = (page - 1) * per_page
    rows = db.session.execute(query.with_only_columns(Document.id, func.count().over().label("total"))
                              .order_by(None).order_by(*order).limit(per_page).offset(offset)).all()
    if rows:
        total = rows[0].total
        by_id = {d.id: d for d in db.session.scalars(
            select(Document).where(Document.id.in_([row.id for row in rows]))).unique()}
        items = [by_id[row.id] for row in rows]
    else:
        total = db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
        items = []
    pages = -(-total // per_page) if total else 0
    return {"data": items, "meta": {"page": page, "per_page": per_page, "total": total, "pages": pages}}


def segments(marked):
    """A marked extract as [{"texte", "surligne"}], whitespace collapsed, adjacent parts of a kind merged."""
    out, highlighted = [], False
    for character, stand_in in STAND_INS.items():
        marked = (marked or "").replace(stand_in, character)
    for part in re.split(f"([{OPEN}{CLOSE}])", marked):
        if part in (OPEN, CLOSE):
            highlighted = part == OPEN
            continue
        part = re.sub(r"\s+", " ", part)
        if not part:
            continue
        if out and out[-1]["surligne"] == highlighted:
            out[-1]["texte"] += part
        else:
            out.append({"texte": part, "surligne": highlighted})
    return out


PG_EXTRACT_SOURCE = f"""
concat_ws(' — ', d.reference, d.objet, d.expediteur, d.destinataire, d.numero_recommande,
  (SELECT left(string_agg(a.texte, E'\\n' ORDER BY a.created_at, a.id), {EXTRACT_TEXT_CHARS})
   FROM attachments a WHERE a.document_id = d.id AND a.texte IS NOT NULL))
"""
PG_EXTRACTS = f"""
SELECT d.id, ts_headline('{CONFIGURATION}', translate({PG_EXTRACT_SOURCE}, :replaced, :stand_ins),
  plainto_tsquery('{CONFIGURATION}', :q),
  'StartSel={OPEN}, StopSel={CLOSE}, MaxWords={EXTRACT_WORDS}, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "')
FROM documents d WHERE d.id IN :ids
"""
# The page's rows by their rowids, for the words as they are (about 1 ms a page at 1,000,000 letters); with
# the last word as a prefix, FTS5 would expand it again for each row (60 to 130 ms), so the rows whose
# passage only that prefix finds are picked among the caller's matches after FTS5 has listed them (`+rowid`).
SQLITE_EXTRACTS = f"""
SELECT k.document_id, snippet(recherche, -1, '{OPEN}', '{CLOSE}', '…', {EXTRACT_WORDS})
FROM recherche JOIN recherche_cles k ON k.rowid = recherche.rowid
WHERE recherche MATCH :q AND recherche.rowid IN (SELECT rowid FROM recherche_cles WHERE document_id IN :ids)
"""
SQLITE_PREFIX_EXTRACTS = f"""
SELECT k.document_id, snippet(recherche, -1, '{OPEN}', '{CLOSE}', '…', {EXTRACT_WORDS})
FROM recherche JOIN recherche_cles k ON k.rowid = +recherche.rowid
WHERE recherche MATCH :q AND k.document_id IN :ids
"""


def with_extracts(documents, q, viewer=None):
    """Set `extrait` on each document of a page: its passage matching `q`, as segments (one query)."""
    words = terms(q)
    if not documents or not words:
        for document in documents:
            document.extrait = []
        return documents
    ids = [d.id for d in documents]
    if _postgresql():
        marked = _extracts(PG_EXTRACTS, ids, q=" ".join(words), replaced="".join(STAND_INS) + OPEN + CLOSE,
                           stand_ins="".join(STAND_INS.values()))
    else:
        # The text columns only, so that snippet() never picks `acces`.
        exact = f"{TEXT_COLUMNS} : ({fts5_query(words, prefix=False)})"
        marked = _extracts(SQLITE_EXTRACTS, ids, q=exact)
        missing = [i for i in ids if not marked.get(i)]
        if missing:
            access = access_filter(viewer)
            prefixed = f"{TEXT_COLUMNS} : ({fts5_query(words, prefix=False)}*)"
            marked.update(_extracts(SQLITE_PREFIX_EXTRACTS, missing,
                                    q=prefixed if access is None else f"{prefixed} AND {access}"))
    for document in documents:
        document.extrait = segments(marked.get(document.id))
    return documents


def _extracts(statement, ids, **parameters):
    rows = db.session.execute(text(statement).bindparams(bindparam("ids", expanding=True)), {**parameters, "ids": ids})
    return dict(rows.all())
