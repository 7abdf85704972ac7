"""The full-text index of letters (PostgreSQL tsvector over unaccent and French, SQLite FTS5)."""


def index_document(document_id):
    """Rebuild one letter's index entry from its metadata and its attachments' text (S fills this in)."""
