"""Mail capture: drafts to qualify (no reference yet), captured messages, set-aside letters

Revision ID: 7a1c0de0a008
Revises: 7a1c0de0a007
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '7a1c0de0a008'
down_revision = '7a1c0de0a007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
