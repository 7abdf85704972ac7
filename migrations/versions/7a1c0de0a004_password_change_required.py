"""A password set by an administrateur must be changed at the first login

Revision ID: 7a1c0de0a004
Revises: 7a1c0de0a003
Create Date: 2026-12-07 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de0a004'
down_revision = '7a1c0de0a003'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN with a default (no table copy) on both databases: existing accounts are not forced.
    op.add_column("users", sa.Column("password_change_required", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_change_required")
