"""The full-text index of letters: one interface, two implementations chosen by the database's dialect.

What is indexed: the reference, objet, expéditeur, destinataire, the correspondents' names (their contacts),
the registered-mail number and the text of the attachments (`attachments.texte`).

- PostgreSQL: a `tsvector` column `documents.recherche` (GIN index) under the text search configuration
  `courrier_fr` (unaccent, then the French stemmer): on the letters' own table, so that the GIN match and
  the visibility predicate's indexes combine in one BitmapAnd, and only the visible matches are read.
- SQLite: an FTS5 table `recherche` (`unicode61 remove_diacritics 2`: case- and accent-blind; SQLite has no
  French stemmer, so « courriers » does not find « courrier »: the query matches the last word as a prefix).
  Its rowids are those of `recherche_cles` (a letter's id ↔ its FTS5 rowid): a letter's UUID is no rowid.

A letter's metadata is indexed by triggers, in the transaction that writes it, whatever writes it (the ORM,
a conditional UPDATE, a contacts merge, a capture); its attachments' text by `index_document`, called by
the extraction job in its own transaction. The columns, functions and triggers are created by
`db.create_all()` (a DDL event) and by migration 7a1c0de0a010, from the statements below. A later migration
that rebuilds `documents` on SQLite (batch mode copies the table) drops its triggers: it calls `install` again.
"""
from sqlalchemy import bindparam, event, text

from courrier.extensions import db

CONFIGURATION = "courrier_fr"
# Columns whose change re-indexes the letter (the triggers' UPDATE OF list).
CONTACT_NAME_COLUMNS = ("civilite", "prenom", "nom", "organisation")
INDEXED_COLUMNS = ("reference", "objet", "expediteur", "destinataire", "numero_recommande", "expediteur_id",
                   "destinataire_id")


def _contact_name(column, sqlite=False):
    """A correspondent's name from their contact row (SQLite 3.40 has no concat_ws)."""
    name = "concat_ws(' ', c.civilite, c.prenom, c.nom, c.organisation)"
    if sqlite:
        name = ("coalesce(c.civilite, '') || ' ' || coalesce(c.prenom, '') || ' ' || coalesce(c.nom, '') || ' ' "
                "|| coalesce(c.organisation, '')")
    return f"(SELECT {name} FROM contacts c WHERE c.id = {column})"


# -- PostgreSQL ------------------------------------------------------------------------------------------
# Weights: reference and objet (A) rank above the correspondents and the number (B), above the text (D).
PG_VECTOR_FUNCTION = f"""
CREATE OR REPLACE FUNCTION courrier_recherche(p_id varchar, p_reference varchar, p_objet varchar,
    p_expediteur varchar, p_destinataire varchar, p_numero varchar, p_expediteur_id varchar,
    p_destinataire_id varchar) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT setweight(to_tsvector('{CONFIGURATION}', concat_ws(' ', translate(p_reference, '-', ' '), p_objet)), 'A')
      || setweight(to_tsvector('{CONFIGURATION}', concat_ws(' ', p_expediteur, p_destinataire, p_numero,
             {_contact_name("p_expediteur_id")}, {_contact_name("p_destinataire_id")})), 'B')
      || to_tsvector('{CONFIGURATION}', coalesce((SELECT string_agg(a.texte, E'\\n' ORDER BY a.created_at, a.id)
             FROM attachments a WHERE a.document_id = p_id AND a.texte IS NOT NULL), ''))
$$
"""
PG_VECTOR_OF_ROW = ("courrier_recherche({0}.id, {0}.reference, {0}.objet, {0}.expediteur, {0}.destinataire, "
                    "{0}.numero_recommande, {0}.expediteur_id, {0}.destinataire_id)")
POSTGRESQL_DDL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"""DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIGURATION}') THEN
        CREATE TEXT SEARCH CONFIGURATION {CONFIGURATION} (COPY = french);
        ALTER TEXT SEARCH CONFIGURATION {CONFIGURATION}
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
      END IF;
    END $$""",
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS recherche tsvector",
    PG_VECTOR_FUNCTION,
    f"""CREATE OR REPLACE FUNCTION courrier_documents_recherche() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.recherche := {PG_VECTOR_OF_ROW.format("NEW")};
      RETURN NEW;
    END $$""",
    "DROP TRIGGER IF EXISTS documents_recherche ON documents",
    f"CREATE TRIGGER documents_recherche BEFORE INSERT OR UPDATE OF {', '.join(INDEXED_COLUMNS)} ON documents "
    "FOR EACH ROW EXECUTE FUNCTION courrier_documents_recherche()",
    # A renamed correspondent: the letters that name them, indexed again in the renaming transaction.
    f"""CREATE OR REPLACE FUNCTION courrier_contacts_recherche() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE documents SET recherche = {PG_VECTOR_OF_ROW.format("documents")}
        WHERE expediteur_id = NEW.id OR destinataire_id = NEW.id;
      RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS contacts_recherche ON contacts",
    f"CREATE TRIGGER contacts_recherche AFTER UPDATE OF {', '.join(CONTACT_NAME_COLUMNS)} ON contacts "
    "FOR EACH ROW EXECUTE FUNCTION courrier_contacts_recherche()",
]
POSTGRESQL_INDEX = "CREATE INDEX IF NOT EXISTS ix_documents_recherche ON documents USING gin (recherche)"
POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS ix_documents_recherche",
    "DROP TRIGGER IF EXISTS documents_recherche ON documents",
    "DROP FUNCTION IF EXISTS courrier_documents_recherche()",
    "DROP TRIGGER IF EXISTS contacts_recherche ON contacts",
    "DROP FUNCTION IF EXISTS courrier_contacts_recherche()",
    "ALTER TABLE documents DROP COLUMN IF EXISTS recherche",
    "DROP FUNCTION IF EXISTS courrier_recherche(varchar, varchar, varchar, varchar, varchar, varchar, varchar, "
    "varchar)",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIGURATION}",
]
PG_REINDEX = f"UPDATE documents SET recherche = {PG_VECTOR_OF_ROW.format('documents')} WHERE id IN :ids"


# -- SQLite ----------------------------------------------------------------------------------------------
# The FTS5 columns: bm25 weighs them (query.SQLITE_WEIGHTS), snippet() picks the one that matched. `acces`
# holds who may see the letter, as words (courrier.search.access): FTS5 intersects them with the query's
# words, so that only the caller's matches reach the documents table and its visibility predicate.
FTS_COLUMNS = ("reference", "objet", "correspondants", "numero", "texte", "acces")
# SQLite also re-indexes a letter whose access changes: its creator, responsable, service or copies.
SQLITE_INDEXED_COLUMNS = INDEXED_COLUMNS + ("created_by_id", "responsable_id", "service_id")


def _access_words(prefix, column):
    return f"' {prefix}' || replace({column}, '-', '')"


_SQLITE_ACCESS = f"""
  coalesce({_access_words("c", "d.created_by_id")}, '') || coalesce({_access_words("r", "d.responsable_id")}, '')
  || coalesce({_access_words("s", "d.service_id")}, ' snone')
  || coalesce((SELECT group_concat({_access_words("p", "cs.service_id")}, '') FROM document_copy_services cs
               WHERE cs.document_id = d.id), '')
  || coalesce((SELECT group_concat({_access_words("u", "cu.user_id")}, '') FROM document_copy_users cu
               WHERE cu.document_id = d.id), '')
"""
_SQLITE_ENTRY = f"""
INSERT INTO recherche (rowid, {", ".join(FTS_COLUMNS)})
SELECT k.rowid, d.reference, d.objet,
       d.expediteur || char(10) || d.destinataire || char(10) || coalesce({_contact_name("d.expediteur_id", True)}, '')
         || char(10) || coalesce({_contact_name("d.destinataire_id", True)}, ''),
       d.numero_recommande,
       (SELECT group_concat(texte, char(10)) FROM (SELECT a.texte FROM attachments a
         WHERE a.document_id = d.id AND a.texte IS NOT NULL ORDER BY a.created_at, a.id)),
       {_SQLITE_ACCESS}
FROM documents d JOIN recherche_cles k ON k.document_id = d.id
"""


def _sqlite_rebuild(document_id):
    """The trigger body that rebuilds one letter's entry."""
    return f"""
      INSERT OR IGNORE INTO recherche_cles (document_id) SELECT id FROM documents WHERE id = {document_id};
      DELETE FROM recherche WHERE rowid = (SELECT rowid FROM recherche_cles WHERE document_id = {document_id});
      {_SQLITE_ENTRY} WHERE d.id = {document_id};"""


SQLITE_TRIGGERS = {
    "documents_recherche_insert": f"AFTER INSERT ON documents BEGIN {_sqlite_rebuild('NEW.id')} END",
    "documents_recherche_update": f"AFTER UPDATE OF {', '.join(SQLITE_INDEXED_COLUMNS)} ON documents "
                                  f"BEGIN {_sqlite_rebuild('NEW.id')} END",
    "documents_recherche_delete": """AFTER DELETE ON documents BEGIN
      DELETE FROM recherche WHERE rowid = (SELECT rowid FROM recherche_cles WHERE document_id = OLD.id);
      DELETE FROM recherche_cles WHERE document_id = OLD.id;
    END""",
    **{f"{table}_recherche_{event_name}": f"AFTER {event_name.upper()} ON {table} "
                                          f"BEGIN {_sqlite_rebuild(f'{row}.document_id')} END"
       for table in ("document_copy_services", "document_copy_users")
       for event_name, row in (("insert", "NEW"), ("delete", "OLD"))},
    # A renamed correspondent: the letters that name them.
    "contacts_recherche_update": f"""AFTER UPDATE OF {', '.join(CONTACT_NAME_COLUMNS)} ON contacts BEGIN
      DELETE FROM recherche WHERE rowid IN (SELECT k.rowid FROM recherche_cles k JOIN documents d
        ON d.id = k.document_id WHERE d.expediteur_id = NEW.id OR d.destinataire_id = NEW.id);
      {_SQLITE_ENTRY} WHERE d.expediteur_id = NEW.id OR d.destinataire_id = NEW.id;
    END""",
}
SQLITE_DDL = [
    "CREATE TABLE IF NOT EXISTS recherche_cles (rowid INTEGER PRIMARY KEY, document_id VARCHAR(36) NOT NULL UNIQUE)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS recherche USING fts5({', '.join(FTS_COLUMNS)}, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    *(f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in SQLITE_TRIGGERS.items()),
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    "DROP TABLE IF EXISTS recherche",
    "DROP TABLE IF EXISTS recherche_cles",
]
SQLITE_REINDEX = [
    "INSERT OR IGNORE INTO recherche_cles (document_id) SELECT id FROM documents WHERE id IN :ids",
    "DELETE FROM recherche WHERE rowid IN (SELECT rowid FROM recherche_cles WHERE document_id IN :ids)",
    _SQLITE_ENTRY + " WHERE d.id IN :ids",
]
# What the schema comparison (migrations/env.py) leaves alone: the FTS5 tables and their shadow tables,
# PostgreSQL's column and its index.
UNMODELLED = frozenset({"recherche", "recherche_cles", "recherche_data", "recherche_idx", "recherche_content",
                        "recherche_docsize", "recherche_config", "ix_documents_recherche"})


def install(connection, with_index=True):
    """Create the index's structures on `connection` (idempotent); on PostgreSQL the GIN index too unless
    `with_index` is False (a bulk fill is faster before it)."""
    if connection.dialect.name == "postgresql":
        statements = POSTGRESQL_DDL + ([POSTGRESQL_INDEX] if with_index else [])
    else:
        statements = SQLITE_DDL
    for statement in statements:
        connection.exec_driver_sql(statement)


def uninstall(connection):
    """Drop the index's structures (the migration's downgrade)."""
    for statement in POSTGRESQL_DROP if connection.dialect.name == "postgresql" else SQLITE_DROP:
        connection.exec_driver_sql(statement)


@event.listens_for(db.metadata, "after_create")
def _install_after_create_all(_metadata, connection, **_kw):
    """`db.create_all()` (the tests) builds the index with the tables, as the migration does."""
    install(connection)


def reindex_documents(connection, document_ids):
    """Rebuild the entries of these letters (their metadata and their attachments' text)."""
    ids = tuple(document_ids)
    if not ids:
        return
    if connection.dialect.name == "postgresql":
        statements = [PG_REINDEX]
    else:
        statements = SQLITE_REINDEX
    for statement in statements:
        connection.execute(text(statement).bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})


def index_document(document_id):
    """Rebuild one letter's index entry from its metadata and its attachments' text, in the caller's
    transaction (the text extraction job calls it after storing an attachment's text). The session is flushed
    first: the entry is read back from the tables by SQL, which must see the caller's pending changes."""
    db.session.flush()
    reindex_documents(db.session.connection(), [document_id])


def batches_of_ids(connection_of, size):
    """Every letter's id, `size` at a time, in id order (a keyset walk: no OFFSET); `connection_of()` gives
    the connection of each batch (the caller may commit between them)."""
    last = ""
    while True:
        ids = connection_of().execute(text("SELECT id FROM documents WHERE id > :last ORDER BY id LIMIT :size"),
                                      {"last": last, "size": size}).scalars().all()
        if not ids:
            return
        yield ids
        last = ids[-1]
