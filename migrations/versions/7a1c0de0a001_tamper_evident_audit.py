"""tamper-evident audit log: hash chain, append-only triggers, retention anchor

Revision ID: 7a1c0de0a001
Revises: 5e1d3c0a2b7f
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '7a1c0de0a001'
down_revision = '5e1d3c0a2b7f'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
