"""TOTP, recovery codes, restricted sessions and re-authentication

Revision ID: 7a1c0de0a002
Revises: 7a1c0de0a001
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '7a1c0de0a002'
down_revision = '7a1c0de0a001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
