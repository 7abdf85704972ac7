"""TOTP, recovery codes, restricted sessions and re-authentication

Revision ID: 7a1c0de0a002
Revises: 7a1c0de0a001
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de0a002'
down_revision = '7a1c0de0a001'
branch_labels = None
depends_on = None

USER_COLUMNS = (
    ("password_policy", sa.String(20)),
    ("mfa_secret", sa.String(64)),
    ("mfa_pending_secret", sa.String(64)),
    ("mfa_enabled_at", sa.DateTime(timezone=True)),
    ("mfa_last_step", sa.Integer()),
)
SESSION_COLUMNS = (
    ("auth_method", sa.String(20), {"nullable": False, "server_default": "password"}),
    ("mfa", sa.Boolean(), {"nullable": False, "server_default": sa.false()}),
    ("authenticated_at", sa.DateTime(timezone=True), {}),
    ("restriction", sa.String(40), {}),
)


def upgrade():
    # Plain ADD COLUMN (no table copy) on both databases: the sessions table is read by every request.
    for name, kind in USER_COLUMNS:
        op.add_column("users", sa.Column(name, kind, nullable=True))
    for name, kind, options in SESSION_COLUMNS:
        op.add_column("sessions", sa.Column(name, kind, nullable=options.get("nullable", True),
                                            server_default=options.get("server_default")))
    # Live sessions were opened by a password: that login is their last proof of identity.
    op.execute("UPDATE sessions SET authenticated_at = created_at")
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"])
    op.create_table(
        "mfa_challenges",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restriction", sa.String(40), nullable=True),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.create_index("ix_mfa_challenges_expires_at", "mfa_challenges", ["expires_at"])


def downgrade():
    op.drop_table("mfa_challenges")
    op.drop_table("mfa_recovery_codes")
    with op.batch_alter_table("sessions") as batch:
        for name, _, _ in reversed(SESSION_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("users") as batch:
        for name, _ in reversed(USER_COLUMNS):
            batch.drop_column(name)
