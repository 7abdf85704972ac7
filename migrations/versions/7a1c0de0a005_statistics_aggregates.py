"""The dashboard's aggregates (ledger, registrations per day and month, processing-time histogram) and the open
letters' index; the existing letters are counted in the same migration

Revision ID: 7a1c0de0a005
Revises: 7a1c0de0a004
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session


# revision identifiers, used by Alembic.
revision = '7a1c0de0a005'
down_revision = '7a1c0de0a004'
branch_labels = None
depends_on = None

OPEN_LETTER = "statut <> 'rejete' AND (traitement_etat IS NULL OR traitement_etat <> 'traite')"


def upgrade():
    # New tables and one partial index: existing rows are untouched, on SQLite and PostgreSQL alike.
    op.create_table('statistiques_courriers',
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('jour', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('service_id', sa.String(length=36), nullable=False),
    sa.Column('typologie_id', sa.String(length=36), nullable=False),
    sa.Column('jour_traite', sa.Date(), nullable=True),
    sa.Column('duree', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                            name=op.f('fk_statistiques_courriers_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_statistiques_courriers'))
    )
    op.create_index('ix_statistiques_courriers_jour', 'statistiques_courriers',
                    ['jour', 'type', 'service_id', 'typologie_id'], unique=False)
    op.create_index('ix_statistiques_courriers_jour_traite', 'statistiques_courriers',
                    ['jour_traite', 'type', 'service_id', 'typologie_id', 'duree'], unique=False)
    op.create_table('statistiques_jours',
    sa.Column('service_id', sa.String(length=36), nullable=False),
    sa.Column('typologie_id', sa.String(length=36), nullable=False),
    sa.Column('jour', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('nombre', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('service_id', 'typologie_id', 'jour', 'type', name=op.f('pk_statistiques_jours'))
    )
    op.create_table('statistiques_mois',
    sa.Column('typologie_id', sa.String(length=36), nullable=False),
    sa.Column('mois', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('service_id', sa.String(length=36), nullable=False),
    sa.Column('nombre', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('typologie_id', 'mois', 'type', 'service_id', name=op.f('pk_statistiques_mois'))
    )
    op.create_table('statistiques_durees',
    sa.Column('mois', sa.Date(), nullable=False),
    sa.Column('service_id', sa.String(length=36), nullable=False),
    sa.Column('typologie_id', sa.String(length=36), nullable=False),
    sa.Column('duree', sa.Integer(), nullable=False),
    sa.Column('nombre', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('mois', 'service_id', 'typologie_id', 'duree', name=op.f('pk_statistiques_durees'))
    )
    op.create_index('ix_documents_open_echeance', 'documents', ['echeance', 'service_id', 'type', 'typologie_id'],
                    unique=False, postgresql_where=sa.text(OPEN_LETTER), sqlite_where=sa.text(OPEN_LETTER))
    # The letters already registered are counted now, by the same code as `flask statistiques rebuild`
    # (working days need the app's HOLIDAYS_SUBDIVISION: `flask db upgrade` runs inside the app).
    from courrier.statistics.ledger import rebuild

    session = Session(bind=op.get_bind())
    rebuild(session)
    session.flush()


def downgrade():
    op.drop_index('ix_documents_open_echeance', table_name='documents')
    op.drop_table('statistiques_durees')
    op.drop_table('statistiques_mois')
    op.drop_table('statistiques_jours')
    op.drop_index('ix_statistiques_courriers_jour_traite', table_name='statistiques_courriers')
    op.drop_index('ix_statistiques_courriers_jour', table_name='statistiques_courriers')
    op.drop_table('statistiques_courriers')
