"""Engine settings the models do not say (SQLite pragmas for concurrent use), and the standalone connection."""
import time

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError

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


# A pooled connection that sat idle longer than this is pinged before use: a database restart, a
# firewall or a server-side timeout may have closed it meanwhile. One in steady use is not pinged: that
# round trip was a third of a request's database time (issue 7). A connection found dead in use
# invalidates the whole pool, and the session check retries once on a fresh connection.
PING_AFTER_IDLE_SECONDS = 5


def _note_checkin(_dbapi_connection, record):
    record.info["idle_since"] = time.monotonic()


def _ping_after_idle(dialect):
    def ping(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("connection lost while idle in the pool") from error  # the pool reconnects

    return ping


def configure_engine(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            if not event.contains(engine, "connect", _sqlite_pragmas):
                event.listen(engine, "connect", _sqlite_pragmas)
        elif not event.contains(engine, "checkin", _note_checkin):
            event.listen(engine, "checkin", _note_checkin)
            event.listen(engine, "checkout", _ping_after_idle(engine.dialect))


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


def run_idempotent(work):
    """`work(connection)` on a standalone connection, run again on a fresh one if that connection was dead.

    Only for work that may safely run twice. The failure has invalidated the pool, so the rest of the
    request gets fresh connections too.
    """
    try:
        with standalone_connection() as connection:
            return work(connection)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with standalone_connection() as connection:
        return work(connection)


def render_migration_item(type_, obj, autogen_context):
    """Migrations spell UTCDateTime as the column type the database really has."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
