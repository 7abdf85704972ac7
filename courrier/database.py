"""Engine settings the models do not say (SQLite pragmas for concurrent use), and the standalone connection."""
import math
import time
from collections import namedtuple
from functools import wraps

from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
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
# round trip was a third of a request's database time. A connection found dead in use
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


class PreparedQuery:
    """A Core SELECT compiled once per dialect and run on the driver's own cursor.

    For the one statement every protected request runs (the session check): SQLAlchemy's execution
    context and result objects cost more than the query itself, twice the driver's time on PostgreSQL.
    Rows get the result processing of their column types, as `Connection.execute` would
    give. On a driver error the statement is run again through `Connection.execute`, so that failures
    are translated, and a dead connection invalidated, exactly as everywhere else.
    """

    def __init__(self, statement):
        self.statement = statement
        self.row_type = namedtuple("Row", [column.key for column in statement.selected_columns])
        self._compiled = {}

    def _compile(self, dialect):
        compiled = self.statement.compile(dialect=dialect)
        names = compiled.positiontup if compiled.positional else None
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in self.statement.selected_columns]
        # psycopg prepares the statement on the server once per connection and then only binds and executes
        # it: no parse and plan per request. Other drivers take no such option.
        options = {"prepare": True} if dialect.driver == "psycopg" else {}
        return compiled.string, names, processors, options

    def one_or_none(self, connection, **parameters):
        rows = self._run(connection, parameters, lambda cursor: cursor.fetchmany(1),
                         lambda result: result.fetchmany(1))
        return rows[0] if rows else None

    def all(self, connection, **parameters):
        """Every row, for a statement returning a few (the caller's services on /me)."""
        return self._run(connection, parameters, lambda cursor: cursor.fetchall(), lambda result: result.all())

    def _run(self, connection, parameters, fetch, fetch_result):
        dialect = connection.dialect
        if dialect.name not in self._compiled:
            self._compiled[dialect.name] = self._compile(dialect)
        sql, names, processors, options = self._compiled[dialect.name]
        arguments = tuple(parameters[name] for name in names) if names is not None else parameters
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(sql, arguments, **options)
            rows = fetch(cursor)
        except dialect.loaded_dbapi.Error:
            return fetch_result(connection.execute(self.statement, parameters))
        finally:
            cursor.close()
        return [self.row_type(*(process(value) if process else value for process, value in zip(processors, values)))
                for values in rows]


def render_migration_item(type_, obj, autogen_context):
    """Migrations spell UTCDateTime as the column type the database really has."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def transactional(func):
    """Run a service function as one transaction: commit when it returns, roll back if it raises."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def paginate(query_select, page, per_page, keyed_by=None):
    """Run a SELECT of one entity for one page plus its count; returns the envelope's {data, meta}.

    With `keyed_by` (the entity's primary key column and the ORDER BY of `query_select`), the page's
    keys are chosen first, by the filters alone, and only those rows are then loaded with their joins:
    a filter that matches thousands of rows then sorts narrow keys, not joined rows.
    """
    # count(*) over the same FROM and WHERE, not over a subquery of every column: an index holding the
    # filtered columns then answers the count alone (the documents' `q`).
    total = db.session.scalar(query_select.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
    offset = (page - 1) * per_page
    # No page query when the count already says the page is empty (a search without results).
    page_query = query_select.limit(per_page).offset(offset)
    if keyed_by is not None:
        key, order = keyed_by
        entity = query_select.column_descriptions[0]["entity"]
        page_query = select(entity).where(key.in_(page_query.with_only_columns(key))).order_by(*order)
    items = db.session.scalars(page_query).unique().all() if offset < total else []
    pages = math.ceil(total / per_page) if total else 0
    return {"data": items, "meta": {"page": page, "per_page": per_page, "total": total, "pages": pages}}


def escape_like(text):
    """`text` taken literally inside a LIKE pattern written with `escape="\\"`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_ignoring_duplicates(table, **values):
    """INSERT … ON CONFLICT DO NOTHING in the current transaction: 1 if the row is new, 0 if it existed."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"courrier needs SQLite or PostgreSQL, not {dialect}")
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(db.session.execute(statement).all())


def commit_then_raise(error):
    """Refuse an action but keep what it wrote so far (the refusal's audit row, a spent one-time token).

    The one exception to `transactional`'s all-or-nothing, written where it happens: commit, then raise
    `error`; the wrapper's rollback that follows has nothing left to undo.
    """
    db.session.commit()
    raise error
