"""Engine settings the models do not say (SQLite pragmas for concurrent use), and the standalone connection."""
from sqlalchemy import event

from courrier.columns import UTCDateTime
from courrier.extensions import db


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL is durable across app crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def configure_engine(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_pragmas):
            event.listen(engine, "connect", _sqlite_pragmas)


def standalone_connection():
    """A connection outside the ORM session, for a few statements; the caller commits a write.

    For the per-request session check: no Session, identity map or teardown. On PostgreSQL it runs in
    autocommit, so the one SELECT is one round trip instead of three (BEGIN, SELECT, ROLLBACK); pysqlite
    opens no transaction before a SELECT anyway, and switching its isolation level costs a PRAGMA.
    """
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        return connection
    return connection.execution_options(isolation_level="AUTOCOMMIT")


def render_migration_item(type_, obj, autogen_context):
    """Migrations spell UTCDateTime as the column type the database really has."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
