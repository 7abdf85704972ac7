"""ProConnect (OpenID Connect) identities and logout hints

Revision ID: 7a1c0de0a003
Revises: 7a1c0de0a002
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de0a003'
down_revision = '7a1c0de0a002'
branch_labels = None
depends_on = None


def upgrade():
    # New tables only: existing rows are untouched, on SQLite and PostgreSQL alike.
    op.create_table('oidc_identities',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_identities_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_identities')),
    sa.UniqueConstraint('issuer', 'sub', name=op.f('uq_oidc_identities_issuer'))
    )
    op.create_index('ix_oidc_identities_user_id', 'oidc_identities', ['user_id'], unique=False)

    op.create_table('oidc_pending_logins',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_pending_logins'))
    )
    op.create_index('ix_oidc_pending_logins_expires_at', 'oidc_pending_logins', ['expires_at'], unique=False)

    op.create_table('oidc_tickets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('mfa', sa.Boolean(), nullable=False),
    sa.Column('id_token_hint', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_tickets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_tickets'))
    )
    op.create_index('ix_oidc_tickets_expires_at', 'oidc_tickets', ['expires_at'], unique=False)
    op.create_index('ix_oidc_tickets_user_id', 'oidc_tickets', ['user_id'], unique=False)

    op.create_table('oidc_session_hints',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('id_token_hint', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_oidc_session_hints_session_id_sessions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_oidc_session_hints'))
    )


def downgrade():
    op.drop_table('oidc_session_hints')
    for index in ('ix_oidc_tickets_user_id', 'ix_oidc_tickets_expires_at'):
        op.drop_index(index, table_name='oidc_tickets')
    op.drop_table('oidc_tickets')
    op.drop_index('ix_oidc_pending_logins_expires_at', table_name='oidc_pending_logins')
    op.drop_table('oidc_pending_logins')
    op.drop_index('ix_oidc_identities_user_id', table_name='oidc_identities')
    op.drop_table('oidc_identities')
