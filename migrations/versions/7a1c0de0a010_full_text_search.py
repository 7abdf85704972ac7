"""Full-text search: the index of letters (PostgreSQL tsvector over unaccent and French, SQLite FTS5)

Revision ID: 7a1c0de0a010
Revises: 7a1c0de0a009
Create Date: 2026-12-08 01:00:00.000000

The lower-cased `search` column and its trigram index (the substring `q`) give way to the full-text index
of courrier.search.index, created from its statements and filled for the existing letters in place.
"""
from alembic import op
import sqlalchemy as sa

from courrier.search.index import batches_of_ids, install, reindex_documents, uninstall


# revision identifiers, used by Alembic.
revision = '7a1c0de0a010'
down_revision = '7a1c0de0a009'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    bind = op.get_bind()
    op.drop_index('ix_documents_statut_created_at_search', table_name='documents')
    op.drop_index('ix_documents_search_trgm', table_name='documents', postgresql_using='gin',
                  postgresql_ops={'search': 'gin_trgm_ops'})
    # In place on SQLite too (3.35 and later drop a column without copying the table): a batch copy drops the
    # old table, and with foreign keys on, its ON DELETE CASCADE children (history, attachments, statistics)
    # would go with it.
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE documents DROP COLUMN search")
    else:
        op.drop_column('documents', 'search')
    op.create_index('ix_documents_statut_created_at', 'documents', ['statut', 'created_at'], unique=False)
    # PostgreSQL: the GIN index is built once the existing letters are in, not grown row by row.
    install(bind, with_index=False)
    for ids in batches_of_ids(lambda: bind, BATCH):
        reindex_documents(bind, ids)
    install(bind)


def downgrade():
    uninstall(op.get_bind())
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_statut_created_at')
        batch_op.add_column(sa.Column('search', sa.Text(), sa.Computed(
            "lower(reference || '\n' || objet || '\n' || expediteur || '\n' || destinataire)", persisted=True),
            nullable=False))
        batch_op.create_index('ix_documents_search_trgm', ['search'], unique=False, postgresql_using='gin',
                              postgresql_ops={'search': 'gin_trgm_ops'})
        batch_op.create_index('ix_documents_statut_created_at_search', ['statut', 'created_at', 'search'],
                              unique=False)
