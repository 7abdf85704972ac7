"""contacts, mail nature and replies

Revision ID: 5e1d3c0a2b7f
Revises: 609e9a95782a
Create Date: 2026-12-01 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d3c0a2b7f'
down_revision = '609e9a95782a'
branch_labels = None
depends_on = None

# (column, type, referenced table, server default) of the columns added to documents.
NEW_COLUMNS = (
    ("expediteur_id", sa.String(36), "contacts", None),
    ("destinataire_id", sa.String(36), "contacts", None),
    ("nature", sa.String(20), None, "courrier_simple"),
    ("numero_recommande", sa.String(13), None, None),
    ("date_accuse_reception", sa.Date(), None, None),
    ("en_reponse_a_id", sa.String(36), "documents", None),
)
INDEXES = (
    ("ix_documents_expediteur_id", ["expediteur_id"]),
    ("ix_documents_destinataire_id", ["destinataire_id"]),
    ("ix_documents_en_reponse_a_id", ["en_reponse_a_id"]),
    ("ix_documents_type_reference", ["type", "reference"]),
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('contacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('civilite', sa.String(length=5), nullable=True),
    sa.Column('nom', sa.String(length=255), nullable=True),
    sa.Column('prenom', sa.String(length=255), nullable=True),
    sa.Column('organisation', sa.String(length=255), nullable=True),
    sa.Column('service', sa.String(length=255), nullable=True),
    sa.Column('fonction', sa.String(length=255), nullable=True),
    sa.Column('adresse', sa.JSON(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('telephone', sa.String(length=30), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('duplicate_key', sa.String(length=600), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index('ix_contacts_duplicate_key', 'contacts', ['duplicate_key'], unique=False)
    op.create_index('ix_contacts_nom', 'contacts', ['nom'], unique=False)
    op.create_index('ix_contacts_organisation', 'contacts', ['organisation'], unique=False)
    op.create_index('ix_contacts_search_text_trgm', 'contacts', ['search_text'], unique=False,
                    postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    # In place on SQLite too (ALTER TABLE … ADD COLUMN … REFERENCES): a batch operation would copy the
    # documents table, and the copy would lose its computed `search` column.
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for name, kind, table, default in NEW_COLUMNS:
        if sqlite:
            reference = f" CONSTRAINT fk_documents_{name}_{table} REFERENCES {table} (id)" if table else ""
            not_null = f" NOT NULL DEFAULT '{default}'" if default else ""
            op.execute(f"ALTER TABLE documents ADD COLUMN {name} {kind.compile(dialect=bind.dialect)}{not_null}"
                       f"{reference}")
        else:
            op.add_column('documents', sa.Column(name, kind, nullable=default is None,
                                                 server_default=default))
            if table:
                op.create_foreign_key(f'fk_documents_{name}_{table}', 'documents', table, [name], ['id'])
    for index, columns in INDEXES:
        op.create_index(index, 'documents', columns, unique=False)


def downgrade():
    for index, _ in INDEXES:
        op.drop_index(index, table_name='documents')
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    for name, _, table, _ in reversed(NEW_COLUMNS):
        if table and not sqlite:
            op.drop_constraint(f'fk_documents_{name}_{table}', 'documents', type_='foreignkey')
        if sqlite:
            op.execute(f"ALTER TABLE documents DROP COLUMN {name}")
        else:
            op.drop_column('documents', name)
    op.drop_index('ix_contacts_search_text_trgm', table_name='contacts',
                  postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_contacts_organisation', table_name='contacts')
    op.drop_index('ix_contacts_nom', table_name='contacts')
    op.drop_index('ix_contacts_duplicate_key', table_name='contacts')
    op.drop_table('contacts')
