"""Full-text search: the index of letters (PostgreSQL tsvector over unaccent and French, SQLite FTS5)

Revision ID: 7a1c0de0a010
Revises: 7a1c0de0a009
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '7a1c0de0a010'
down_revision = '7a1c0de0a009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
