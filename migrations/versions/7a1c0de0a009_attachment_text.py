"""The text of attachments: its state, its reason, the text, the searchable PDF beside a scan

Revision ID: 7a1c0de0a009
Revises: 7a1c0de0a008
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de0a009'
down_revision = '7a1c0de0a008'
branch_labels = None
depends_on = None


def upgrade():
    # Existing attachments are `en_attente`: `flask search textes` sends them to extraction (docs/exploitation.md).
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("texte_etat", sa.String(12), nullable=False, server_default="en_attente"))
        batch.add_column(sa.Column("texte_motif", sa.Text(), nullable=True))
        batch.add_column(sa.Column("texte", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ocr_storage_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ocr_size", sa.Integer(), nullable=True))
        batch.create_index("ix_attachments_ocr_storage_name", ["ocr_storage_name"])


def downgrade():
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_ocr_storage_name")
        for column in ("ocr_size", "ocr_storage_name", "texte", "texte_motif", "texte_etat"):
            batch.drop_column(column)
