"""tamper-evident audit log: hash chain, append-only triggers, retention anchor

Revision ID: 7a1c0de0a001
Revises: 5e1d3c0a2b7f
Create Date: 2026-12-02 18:45:00.000000

Upgrades a live database in place: the existing events are numbered and chained in the order they
were written (created_at, then their time-ordered id), so `flask audit verify` passes right after the
upgrade; then the triggers make the two tables append-only. The hash and the trigger statements are
the application's own (courrier.audit.chain, courrier.audit.append_only): the chain must be computed
exactly as the app later verifies it.
"""
from alembic import op
import sqlalchemy as sa

from courrier.audit.append_only import drop_triggers, install_triggers
from courrier.audit.chain import GENESIS, chain_hash
from courrier.columns import UTCDateTime


# revision identifiers, used by Alembic.
revision = '7a1c0de0a001'
down_revision = '5e1d3c0a2b7f'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000

events = sa.table(
    "audit_events", sa.column("id", sa.String), sa.column("seq", sa.BigInteger), sa.column("hash", sa.String),
    sa.column("type", sa.String), sa.column("actor_id", sa.String), sa.column("subject_user_id", sa.String),
    sa.column("email", sa.String), sa.column("ip", sa.String), sa.column("user_agent", sa.String),
    sa.column("created_at", UTCDateTime()), sa.column("details", sa.JSON()))


def upgrade():
    op.create_table(
        'audit_anchors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('removed', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchors')),
    )
    op.create_index('ix_audit_anchors_seq', 'audit_anchors', ['seq'], unique=True)

    op.add_column('audit_events', sa.Column('seq', sa.BigInteger(), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    chain_existing_events(op.get_bind())
    op.drop_index('ix_audit_events_subject_user_id', table_name='audit_events')
    op.create_index('ix_audit_events_subject_user_id_created_at', 'audit_events', ['subject_user_id', 'created_at'],
                    unique=False)
    # The user ids stay as recorded: ON DELETE SET NULL would now be a refused UPDATE (see the model).
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_events_actor_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_audit_events_subject_user_id_users', type_='foreignkey')
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
    # Last: on SQLite the batch above rebuilt the table, which drops its triggers.
    install_triggers(op.get_bind())


def chain_existing_events(connection):
    """Number the events already there in the order they were written, then chain them a batch at a time."""
    connection.execute(sa.text(
        "UPDATE audit_events SET seq = numbered.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n "
        "FROM audit_events) AS numbered WHERE audit_events.id = numbered.id"))
    op.create_index('ix_audit_events_seq', 'audit_events', ['seq'], unique=True)
    last_seq, previous_hash = 0, GENESIS
    chain_row = (events.update().where(events.c.id == sa.bindparam("row_id"))
                 .values(hash=sa.bindparam("new_hash")))
    batch = sa.select(events).order_by(events.c.seq).limit(BACKFILL_BATCH)
    while rows := connection.execute(batch.where(events.c.seq > last_seq)).all():
        changes = []
        for row in rows:
            previous_hash = chain_hash(previous_hash, row)
            changes.append({"row_id": row.id, "new_hash": previous_hash})
        connection.execute(chain_row, changes)
        last_seq = rows[-1].seq


def downgrade():
    drop_triggers(op.get_bind())
    # The foreign keys come back: ids of users deleted meanwhile are cleared first, as SET NULL would have.
    for column in ('actor_id', 'subject_user_id'):
        op.execute(f"UPDATE audit_events SET {column} = NULL WHERE {column} IS NOT NULL "
                   f"AND {column} NOT IN (SELECT id FROM users)")
    op.drop_index('ix_audit_events_subject_user_id_created_at', table_name='audit_events')
    op.create_index('ix_audit_events_subject_user_id', 'audit_events', ['subject_user_id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_seq')
        batch_op.drop_column('hash')
        batch_op.drop_column('seq')
        batch_op.create_foreign_key('fk_audit_events_actor_id_users', 'users', ['actor_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_audit_events_subject_user_id_users', 'users', ['subject_user_id'], ['id'],
                                    ondelete='SET NULL')
    op.drop_index('ix_audit_anchors_seq', table_name='audit_anchors')
    op.drop_table('audit_anchors')
