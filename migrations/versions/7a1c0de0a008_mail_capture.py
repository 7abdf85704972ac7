"""Mail capture: drafts to qualify (no reference yet), captured messages, set-aside letters

Revision ID: 7a1c0de0a008
Revises: 7a1c0de0a007
Create Date: 2026-12-08 01:00:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de0a008'
down_revision = '7a1c0de0a007'
branch_labels = None
depends_on = None

# A draft has no reference and, captured from the mailbox, no registrar yet; the `search` column computed from
# the reference is then NULL too (until 7a1c0de0a010 replaces it with the full-text index).
NOW_NULLABLE = ("reference", "created_by_id", "search")
TYPES = {"reference": sa.String(length=20), "created_by_id": sa.String(length=36), "search": sa.Text()}


def _sqlite_set_not_null(bind, columns, not_null):
    """Add or remove NOT NULL on columns of `documents`, in place.

    A batch operation would copy the table, and the copy would lose its computed `search` column; SQLite's
    documented procedure for removing a NOT NULL constraint (ALTER TABLE, "Making Other Kinds Of Table Schema
    Changes") edits the table's CREATE statement in sqlite_schema instead: the rows' format does not change.
    """
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'").scalar()
    for column in columns:
        pattern = rf'(\n\s*"?{column}"?\s+[A-Z]+(?:\(\d+\))?)( NOT NULL)?'
        sql, count = re.subn(pattern, (lambda m: m.group(1) + " NOT NULL") if not_null else (lambda m: m.group(1)),
                             sql, count=1)
        if count != 1:
            raise RuntimeError(f"documents.{column} not found in the table's definition")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'documents'", (sql,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    nullable = {row[1]: not row[3] for row in bind.exec_driver_sql("PRAGMA table_xinfo(documents)")}
    if any(nullable[column] == not_null for column in columns):
        raise RuntimeError("documents: NOT NULL could not be changed")


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _sqlite_set_not_null(bind, NOW_NULLABLE, not_null=False)
        # SQLite does not enforce a VARCHAR's length, but the schema says it (the models are compared with it).
        with op.batch_alter_table('attachments') as batch:
            batch.alter_column('content_type', existing_type=sa.String(length=50), type_=sa.String(length=100),
                               existing_nullable=False)
    else:
        for column in NOW_NULLABLE:
            op.alter_column('documents', column, existing_type=TYPES[column], nullable=True)
        op.alter_column('attachments', 'content_type', existing_type=sa.String(length=50),
                        type_=sa.String(length=100), existing_nullable=False)
    # Plain ALTER TABLE … ADD COLUMN on SQLite too (nullable, no foreign key): no copy of the table.
    op.add_column('documents', sa.Column('motif_ecart', sa.Text(), nullable=True))
    op.add_column('documents', sa.Column('capture', sa.JSON(), nullable=True))
    op.create_table(
        'captured_messages',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('cle', sa.String(length=80), nullable=False),
        sa.Column('message_id', sa.Text(), nullable=True),
        sa.Column('document_id', sa.String(length=36), nullable=False),
        sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_captured_messages_document_id_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_captured_messages')),
        sa.UniqueConstraint('cle', name=op.f('uq_captured_messages_cle')),
    )
    op.create_index(op.f('ix_captured_messages_document_id'), 'captured_messages', ['document_id'], unique=False)


def downgrade():
    """Only while no draft exists: a letter without a reference cannot go back to a NOT NULL column."""
    op.drop_index(op.f('ix_captured_messages_document_id'), table_name='captured_messages')
    op.drop_table('captured_messages')
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE documents DROP COLUMN capture")
        op.execute("ALTER TABLE documents DROP COLUMN motif_ecart")
        _sqlite_set_not_null(bind, NOW_NULLABLE, not_null=True)
        with op.batch_alter_table('attachments') as batch:
            batch.alter_column('content_type', existing_type=sa.String(length=100), type_=sa.String(length=50),
                               existing_nullable=False)
    else:
        op.drop_column('documents', 'capture')
        op.drop_column('documents', 'motif_ecart')
        op.alter_column('attachments', 'content_type', existing_type=sa.String(length=100),
                        type_=sa.String(length=50), existing_nullable=False)
        for column in NOW_NULLABLE:
            op.alter_column('documents', column, existing_type=TYPES[column], nullable=False)
