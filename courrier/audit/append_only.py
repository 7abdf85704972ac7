"""Triggers that make audit_events and audit_anchors append-only in the database itself.

UPDATE is always refused. DELETE is refused unless an anchor already covers the row (an anchor with
a seq at or after the row's): only the retention purge (chain.prune_events) writes anchors, and it
writes one, in the same transaction, before removing the oldest events. So a bug, a hand-typed
statement or a compromised app account cannot edit an event, nor remove one from the middle or the
end of the chain; the only removal possible is that of the oldest events, and it leaves its anchor.
Anchors are never updated or deleted; TRUNCATE is refused on PostgreSQL.

Whoever owns the tables can still drop a trigger: that is what the hash chain is for (`flask audit
verify`). The same statements serve `db.create_all()` (tests) and the migration 7a1c0de0a001.
"""
from sqlalchemy import event, text

REFUSED = "journal d'audit en ajout seul"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("'", "''")} : UPDATE refusé'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_events_delete_anchored_only BEFORE DELETE ON audit_events
    WHEN NOT EXISTS (SELECT 1 FROM audit_anchors WHERE audit_anchors.seq >= OLD.seq)
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("'", "''")} : DELETE refusé hors purge de rétention'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_anchors_no_update BEFORE UPDATE ON audit_anchors
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("'", "''")} : UPDATE refusé'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_anchors_no_delete BEFORE DELETE ON audit_anchors
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("'", "''")} : DELETE refusé'); END""",
)

POSTGRESQL_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM audit_anchors WHERE audit_anchors.seq >= OLD.seq) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '{REFUSED.replace("'", "''")} : DELETE refusé hors purge de rétention'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION '{REFUSED.replace("'", "''")} : % refusé sur %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    f"""CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED.replace("'", "''")} : % refusé sur %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard()""",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    "DROP TRIGGER IF EXISTS audit_anchors_append_only ON audit_anchors",
    """CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    "DROP TRIGGER IF EXISTS audit_anchors_no_truncate ON audit_anchors",
    """CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
)

SQLITE_DROPS = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in (
    "audit_events_no_update", "audit_events_delete_anchored_only", "audit_anchors_no_update",
    "audit_anchors_no_delete"))
POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_anchors_append_only ON audit_anchors",
    "DROP TRIGGER IF EXISTS audit_anchors_no_truncate ON audit_anchors",
    "DROP FUNCTION IF EXISTS audit_events_guard()",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
)


def _statements(dialect_name, sqlite, postgresql):
    if dialect_name == "sqlite":
        return sqlite
    if dialect_name == "postgresql":
        return postgresql
    raise RuntimeError(f"append-only triggers not written for {dialect_name}")


def install_triggers(connection):
    """Create (or replace) the append-only triggers; the two tables must exist."""
    for statement in _statements(connection.dialect.name, SQLITE_TRIGGERS, POSTGRESQL_TRIGGERS):
        connection.execute(text(statement))


def drop_triggers(connection):
    """Remove the triggers (the migration's downgrade)."""
    for statement in _statements(connection.dialect.name, SQLITE_DROPS, POSTGRESQL_DROPS):
        connection.execute(text(statement))


def _install_after_create_all(target, connection, tables=None, **kw):
    if tables is None or any(table.name == "audit_events" for table in tables):
        install_triggers(connection)


def install_after_create_all(metadata):
    """`metadata.create_all()` (the tests' fresh databases) installs the triggers after the tables."""
    if not event.contains(metadata, "after_create", _install_after_create_all):
        event.listen(metadata, "after_create", _install_after_create_all)
