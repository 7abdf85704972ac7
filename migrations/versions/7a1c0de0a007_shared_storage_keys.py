"""Attachments of the same bytes share one stored object: storage_name is no longer unique

Revision ID: 7a1c0de0a007
Revises: 7a1c0de0a006
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7a1c0de0a007'
down_revision = '7a1c0de0a006'
branch_labels = None
depends_on = None


def upgrade():
    # Keys are the SHA-256 of the bytes (courrier.storage): two rows may name one object. The index stays,
    # for the check that no committed row names an object before it is removed.
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("uq_attachments_storage_name", type_="unique")
        batch.create_index("ix_attachments_storage_name", ["storage_name"])


def downgrade():
    # Only while no two rows share a key (before any duplicate upload).
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_storage_name")
        batch.create_unique_constraint("uq_attachments_storage_name", ["storage_name"])
