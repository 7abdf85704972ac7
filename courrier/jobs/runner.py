"""Running one job, whatever dies when: the row is claimed with a lease, renewed while the job runs.

1. Claim: one conditional UPDATE takes the row if it is waiting (and due), or running under a lease that
   ran out (its worker died) with tries left; it sets `en_cours`, a token of this run and the lease, and
   counts the try. Another worker handed the same id (a duplicate from the sweep) changes no row and stops
   there; so does a worker handed the id of a job whose transaction rolled back (no row). Claims and
   results are single statements in autocommit on a connection each worker thread holds (DriverStatement).
2. While the job's function runs, this process's lease keeper renews the claims of its running jobs
   every third of a lease, by their tokens.
3. The result is written by an UPDATE on this run's token, in one transaction with the function's
   `on_success` work (an audit row): a run that lost its claim (it outlived its lease and another worker
   took the job over) writes nothing. A failure is retried JOBS_MAX_ATTEMPTS times in all, after
   JOBS_RETRY_SECONDS doubling at each try; then `echec`. The job's `message` never holds an exception's
   text (it may name a server or a path): a JobError's French message, else a generic one.
"""
import logging
import os
import random
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, update

from courrier import storage
from courrier.background import (
    EN_ATTENTE, EN_COURS, ECHEC, MESSAGE_MAX, TERMINE, Job, JobError, hand_after_commit,
)
from courrier.columns import utcnow
from courrier.extensions import db
from courrier.jobs.kinds import KINDS

log = logging.getLogger(__name__)

RUNNING = "En cours de traitement."
INTERNAL_ERROR = "Erreur interne pendant le traitement ({name})."
MAX_RETRY_DELAY = timedelta(hours=1)
# A job handed a little before its due time (clocks of two machines) is still taken.
CLOCK_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class Claimed:
    """The job as its function sees it."""

    id: str
    kind: str
    params: dict
    user_id: str | None
    period: str | None
    attempts: int


def lease_of(config):
    return timedelta(seconds=config["JOBS_LEASE_SECONDS"])


JOBS = Job.__table__


def _param(name, column):
    """A bound parameter typed as `column` (UTC datetimes are stored the same way on SQLite and PostgreSQL)."""
    return bindparam(name, type_=JOBS.c[column].type)


class DriverStatement:
    """A write compiled once per dialect and run on the driver's own cursor, as courrier.database.PreparedQuery
    runs the session check: a worker runs two per job, and SQLAlchemy's execution machinery cost more than the
    statements. Parameters get their column types' bind processing, RETURNING rows their result processing;
    on a driver error the statement runs again through `Connection.execute`, so that failures are translated
    (and a dead connection invalidated) as everywhere else."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled = {}

    def _compile(self, dialect):
        compiled = self.statement.compile(dialect=dialect)
        binds = compiled._bind_processors
        # Each placeholder, in order: a parameter of each run (its key) or a value of the statement itself
        # (EN_COURS, the `+ 1` of attempts), processed once here.
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        slots = []
        for name in (compiled.positiontup if compiled.positional else by_name):
            bind, process = by_name[name], binds.get(name)
            if bind.required:
                slots.append((name, name, None, process))
            else:
                value = bind.effective_value
                slots.append((name, None, process(value) if process else value, None))
        returning = list(self.statement.exported_columns) if self.statement._returning else []
        results = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returning]
        options = {"prepare": True} if dialect.driver == "psycopg" else {}
        return compiled.string, slots, compiled.positional, results, options

    def execute(self, connection, parameters):
        """(rowcount, rows) of one run on `connection` (in its transaction, if any)."""
        dialect = connection.dialect
        if dialect.name not in self._compiled:
            self._compiled[dialect.name] = self._compile(dialect)
        string, slots, positional, results, options = self._compiled[dialect.name]
        values = [constant if key is None else process(parameters[key]) if process else parameters[key]
                  for _, key, constant, process in slots]
        arguments = values if positional else {slot[0]: value for slot, value in zip(slots, values)}
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(string, arguments, **options)
            rows = cursor.fetchall() if results else []
            count = cursor.rowcount
        except dialect.loaded_dbapi.Error:
            result = connection.execute(self.statement, parameters)
            return result.rowcount, (result.all() if results else [])
        finally:
            cursor.close()
        return count, [tuple(process(value) if process else value for process, value in zip(results, row))
                       for row in rows]


# Built once: a worker claims and finishes each job with these statements (building them per job cost
# more than running them). Parameters: p_*.
CLAIM = DriverStatement(
    update(JOBS)
    .where(JOBS.c.id == bindparam("p_id"),
           or_(and_(JOBS.c.etat == EN_ATTENTE, JOBS.c.handed_at <= _param("p_due_by", "handed_at")),
               and_(JOBS.c.etat == EN_COURS, JOBS.c.claimed_until < _param("p_now", "claimed_until"),
                    JOBS.c.attempts < bindparam("p_max_attempts"))))
    .values(etat=EN_COURS, claim_token=bindparam("p_token"), claimed_until=_param("p_until", "claimed_until"),
            attempts=JOBS.c.attempts + 1, message=RUNNING,
            started_at=func.coalesce(JOBS.c.started_at, _param("p_started", "started_at")))
    .returning(JOBS.c.kind, JOBS.c.params, JOBS.c.user_id, JOBS.c.period, JOBS.c.attempts))
_SET = {}  # the columns a result writes -> its UPDATE on the claim's token
_SQLITE_WRITES = threading.Lock()


@contextmanager
def job_write(in_session=False):
    """The connection of a claim's or a result's write: the worker thread's own, in autocommit (each statement
    is its own transaction: one round trip, no BEGIN or COMMIT), or (`in_session`) the session's, for a
    result that commits with other work (the caller commits). On SQLite (one writer) the threads of a worker
    take turns here, rather than sleeping in SQLite's busy handler."""
    sqlite = db.engine.dialect.name == "sqlite"
    with _SQLITE_WRITES if sqlite else nullcontext():
        if not in_session:
            yield task_connection()
            return
        yield db.session.connection()


_held = threading.local()


def task_connection():
    """This worker thread's autocommit connection for claims and results, held from one job to the next (a
    pool checkout and a change of isolation level per job cost as much as the two statements); a new one
    when the pool was replaced (`engine.dispose()`, before a fork) or the connection died."""
    pool = db.engine.pool
    connection = getattr(_held, "connection", None)
    if connection is None or _held.pool is not pool or connection.closed or connection.invalidated:
        if connection is not None and not connection.closed:
            connection.close()
        connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            # Without waiting for the disk: a database crash may forget the last fraction of a second of
            # claims and results, and a forgotten one is a job that runs again, as after a killed worker
            # (jobs are idempotent; a result that commits with other work goes through the session,
            # durably). 1,171 -> 1,662 no-op jobs/s on this machine (python -m bench --only jobs).
            connection.exec_driver_sql("SET synchronous_commit = off")
        _held.connection, _held.pool = connection, pool
    return connection


def release_connection():
    """Give back this thread's connection (a worker thread that stops; a test that ran jobs in its thread)."""
    connection = getattr(_held, "connection", None)
    _held.connection = _held.pool = None
    if connection is not None and not connection.closed:
        connection.close()


def claim_token():
    """A run's token: unique, not secret (it is never shown, only compared in a WHERE), so drawn from the
    `random` module (reseeded in a forked child) without the system call of os.urandom, which, under the
    GIL, lets another worker thread in."""
    return f"{random.getrandbits(128):032x}"


def claim(job_id, now, config):
    """This run's token and the job, or None when the job is not ours to run (one statement, one commit).

    A job of a kind this worker does not know (a worker of an older version, during an upgrade) is given
    back at once, its try not counted, for the sweep to hand to another worker.
    """
    token = claim_token()
    with job_write() as connection:
        _, rows = CLAIM.execute(connection, {
            "p_id": job_id, "p_due_by": now + CLOCK_SLACK, "p_now": now, "p_max_attempts": config["JOBS_MAX_ATTEMPTS"],
            "p_token": token, "p_until": now + lease_of(config), "p_started": now})
        if not rows:
            return None, None
        kind, params, user_id, period, attempts = rows[0]
        if kind not in KINDS:
            _set(connection, job_id, token, etat=EN_ATTENTE, claim_token=None, claimed_until=None,
                 attempts=attempts - 1, message=None)
            return None, None
    return token, Claimed(job_id, kind, params or {}, user_id, period, attempts)


def _set(connection, job_id, token, **values):
    """Write this run's result if the claim is still ours (in `connection`'s transaction): whether it was."""
    names = tuple(sorted(values))
    if names not in _SET:
        ours = (JOBS.c.id == bindparam("p_id"), JOBS.c.claim_token == bindparam("p_token"), JOBS.c.etat == EN_COURS)
        _SET[names] = DriverStatement(
            update(JOBS).where(*ours).values({name: _param(f"v_{name}", name) for name in names}))
    parameters = {"p_id": job_id, "p_token": token, **{f"v_{name}": value for name, value in values.items()}}
    return _SET[names].execute(connection, parameters)[0] == 1


def retry_delay(attempts, config):
    return min(timedelta(seconds=config["JOBS_RETRY_SECONDS"] * 2 ** max(0, attempts - 1)), MAX_RETRY_DELAY)


def run_job(job_id, clock=utcnow):
    """Claim the job, run its kind's function, record the outcome; the job's etat afterwards, or None."""
    config = current_app.config
    token, job = claim(job_id, clock(), config)
    if job is None:
        return None
    with leases.holding(token):
        try:
            result = KINDS[job.kind].function(job)
        except JobError as error:
            db.session.rollback()
            if error.retry:
                return retry_or_fail(job, token, error.message, clock, config)
            return finish_failed(job, token, error.message, clock)
        except Exception as error:
            db.session.rollback()
            log.exception("job %s (%s) failed on try %s", job.id, job.kind, job.attempts)
            return retry_or_fail(job, token, INTERNAL_ERROR.format(name=type(error).__name__), clock, config)
        try:
            return finish_done(job, token, result, clock)
        finally:
            if result.file is not None:
                result.file.stream.close()


def finish_done(job, token, result, clock):
    """`termine`, with the file stored and the `on_success` work, in one transaction.

    Work the function left uncommitted commits first (with `on_success`, in the same transaction): on
    SQLite an open write of the session would otherwise block the result's statement."""
    if result.on_success is None and db.session.registry.has() and db.session().in_transaction():
        db.session.commit()  # (a job that never used the session has none: none is made here for nothing)
    stored = None
    values = {}
    if result.file is not None:
        stored = storage.current().put(result.file.stream)
        values = dict(file_key=stored.key, file_size=stored.size, file_name=result.file.name[:255],
                      file_type=result.file.content_type)
    with job_write(in_session=result.on_success is not None) as connection:
        done = _set(connection, job.id, token, etat=TERMINE, message=result.message[:MESSAGE_MAX], claim_token=None,
                    claimed_until=None, finished_at=clock(), **values)
        if result.on_success is not None:
            if done:
                result.on_success()
                db.session.commit()
            else:
                db.session.rollback()
    if not done:
        log.warning("job %s (%s) lost its claim before it finished: its result is dropped", job.id, job.kind)
        if stored is not None:
            storage.discard(stored, result.file.stream)
        return None
    if stored is not None:
        storage.ensure(stored, result.file.stream)
    return TERMINE


def finish_failed(job, token, message, clock):
    with job_write() as connection:
        changed = _set(connection, job.id, token, etat=ECHEC, message=message[:MESSAGE_MAX], claim_token=None,
                       claimed_until=None, finished_at=clock())
    return ECHEC if changed else None


def retry_or_fail(job, token, message, clock, config):
    """Back to `en_attente` for a later try (handed to the queue at its time), or `echec` after the last."""
    if job.attempts >= config["JOBS_MAX_ATTEMPTS"]:
        return finish_failed(job, token, message, clock)
    due = clock() + retry_delay(job.attempts, config)
    with job_write(in_session=True) as connection:  # the session's: its commit hands the job to the queue
        changed = _set(connection, job.id, token, etat=EN_ATTENTE, claim_token=None, claimed_until=None, handed_at=due,
                       message=f"{message} Nouvel essai prévu ({job.attempts} essai(s) sur "
                               f"{config['JOBS_MAX_ATTEMPTS']})."[:MESSAGE_MAX])
        if changed:
            hand_after_commit(job.id, eta=due)
        db.session.commit()
    return EN_ATTENTE if changed else None


class LeaseKeeper:
    """This process's running jobs' claims, renewed by one thread every third of a lease.

    One UPDATE renews them all (by their tokens). A process forked from another starts its own thread.
    """

    def __init__(self):
        self.tokens = set()
        self.lock = threading.Lock()
        self.pid = None
        self.app = None

    @contextmanager
    def holding(self, token):
        """Renew this claim until the block ends."""
        self.add(token)
        try:
            yield
        finally:
            with self.lock:
                self.tokens.discard(token)

    def add(self, token):
        with self.lock:
            self.tokens.add(token)
            if self.pid != os.getpid():
                self.pid, self.app = os.getpid(), current_app._get_current_object()
                threading.Thread(target=self._renew_forever, name="courrier-leases", daemon=True).start()

    def _renew_forever(self):
        app, pid = self.app, self.pid
        interval = max(0.2, app.config["JOBS_LEASE_SECONDS"] / 3)
        stop = threading.Event()
        while self.pid == pid and not stop.wait(interval):
            with self.lock:
                tokens = list(self.tokens)
            if not tokens:
                continue
            try:
                self.renew(app, tokens)
            except Exception:  # the database is away for a moment: the next turn tries again
                log.exception("jobs: renewing %d lease(s) failed", len(tokens))

    @staticmethod
    def renew(app, tokens):
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(update(Job).where(Job.claim_token.in_(tokens), Job.etat == EN_COURS)
                                   .values(claimed_until=utcnow() + lease_of(app.config)))


leases = LeaseKeeper()
