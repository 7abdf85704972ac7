"""Running one job, whatever dies when: the row is claimed with a lease, renewed while the job runs.

1. Claim: one conditional UPDATE takes the row if it is waiting (and due), or running under a lease that
   ran out (its worker died) with tries left, and of a kind this worker knows; it sets `en_cours`, a token
   of this run and the lease, and counts the try. Another worker handed the same id (a duplicate from the
   sweep) changes no row and stops there; so does a worker handed the id of a job whose transaction rolled
   back (no row).
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
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, update

from courrier import storage
from courrier.background import (
    EN_ATTENTE, EN_COURS, ECHEC, MESSAGE_MAX, TERMINE, Job, JobError, hand_after_commit,
)
from courrier.columns import new_uuid, utcnow
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


def claimable(now, max_attempts):
    """Waiting and due, or running under a lease that ran out with tries left; and of a kind this worker knows
    (a worker of an older version, during an upgrade, leaves a new kind to the others)."""
    return and_(Job.kind.in_(list(KINDS)),
                or_(and_(Job.etat == EN_ATTENTE, Job.handed_at <= now + CLOCK_SLACK),
                    and_(Job.etat == EN_COURS, Job.claimed_until < now, Job.attempts < max_attempts)))


def claim(job_id, now, config):
    """This run's token and the job, or None when the job is not ours to run (one statement, one commit)."""
    token = new_uuid()
    row = db.session.execute(
        update(Job).where(Job.id == job_id, claimable(now, config["JOBS_MAX_ATTEMPTS"]))
        .values(etat=EN_COURS, claim_token=token, claimed_until=now + lease_of(config),
                attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, now), message=RUNNING)
        .returning(Job.kind, Job.params, Job.user_id, Job.period, Job.attempts)
        .execution_options(synchronize_session=False)).first()
    db.session.commit()
    if row is None:
        return None, None
    return token, Claimed(job_id, row.kind, row.params or {}, row.user_id, row.period, row.attempts)


def _ours(job_id, token):
    return and_(Job.id == job_id, Job.claim_token == token, Job.etat == EN_COURS)


def _set(job_id, token, **values):
    """Write this run's result if the claim is still ours (in the current transaction): whether it was."""
    return db.session.execute(update(Job).where(_ours(job_id, token)).values(**values)
                              .execution_options(synchronize_session=False)).rowcount == 1


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
    """`termine`, with the file stored and the `on_success` work, in one transaction."""
    stored = None
    values = {}
    if result.file is not None:
        stored = storage.current().put(result.file.stream)
        values = dict(file_key=stored.key, file_size=stored.size, file_name=result.file.name[:255],
                      file_type=result.file.content_type)
    if not _set(job.id, token, etat=TERMINE, message=result.message[:MESSAGE_MAX], claim_token=None,
                claimed_until=None, finished_at=clock(), **values):
        db.session.rollback()
        log.warning("job %s (%s) lost its claim before it finished: its result is dropped", job.id, job.kind)
        if stored is not None:
            storage.discard(stored, result.file.stream)
        return None
    if result.on_success is not None:
        result.on_success()
    db.session.commit()
    if stored is not None:
        storage.ensure(stored, result.file.stream)
    return TERMINE


def finish_failed(job, token, message, clock):
    changed = _set(job.id, token, etat=ECHEC, message=message[:MESSAGE_MAX], claim_token=None,
                   claimed_until=None, finished_at=clock())
    db.session.commit()
    return ECHEC if changed else None


def retry_or_fail(job, token, message, clock, config):
    """Back to `en_attente` for a later try (handed to the queue at its time), or `echec` after the last."""
    if job.attempts >= config["JOBS_MAX_ATTEMPTS"]:
        return finish_failed(job, token, message, clock)
    due = clock() + retry_delay(job.attempts, config)
    changed = _set(job.id, token, etat=EN_ATTENTE, claim_token=None, claimed_until=None, handed_at=due,
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
