"""Background work: a job is a row of `jobs`, written in the caller's transaction, run by a worker after commit.

`enqueue(kind, user=, params=)` adds the row to the current transaction and notes its id on the session;
only when that transaction commits is the id handed to the queue (the hand-off that courrier.jobs
registers in `app.extensions`). A rolled-back change starts nothing: its job row never existed, and a
worker that is handed an id without a row does nothing. The row, not the queue, is the source of truth:
courrier.jobs claims it with a lease, records its `etat`, its French `message` and the file it made, and
hands again the jobs the queue lost (a crash between commit and hand-off, a worker killed mid-job).

Infrastructure: features call `enqueue` and read `Job`/`JobSchema`; they never import courrier.jobs.
"""
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Callable, Optional

from flask import current_app
from marshmallow import fields
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from courrier import storage
from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db
from courrier.schemas import Schema

log = logging.getLogger(__name__)

ETATS = ("en_attente", "en_cours", "termine", "echec")
EN_ATTENTE, EN_COURS, TERMINE, ECHEC = ETATS
HAND_OFF = "background.hand_off"  # app.extensions: callable([(job_id, eta), …]) giving ids to the queue
_PENDING = "background.pending"  # session.info: the ids to hand over once the transaction commits
MESSAGE_MAX = 1000


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        # A periodic task's run of one period exists once: the database says which worker won it.
        UniqueConstraint("kind", "period"),
        Index("ix_jobs_etat_created_at", "etat", "created_at"),
        # The sweep: waiting jobs handed long ago, running jobs whose lease ran out.
        Index("ix_jobs_etat_handed_at", "etat", "handed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # A periodic task's period (`2026-03-13`, `2026-03-13T10:15:30Z`); null for a job someone asked for.
    period: Mapped[Optional[str]] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    etat: Mapped[str] = mapped_column(String(12), default=EN_ATTENTE)
    message: Mapped[Optional[str]] = mapped_column(String(MESSAGE_MAX))
    # Claims so far: a job whose worker died counts as tried, so one that kills its worker ends in `echec`.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it was last handed to the queue (or is due, for a delayed one): the sweep hands it again later.
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    claim_token: Mapped[Optional[str]] = mapped_column(String(36))
    file_key: Mapped[Optional[str]] = mapped_column(String(200))
    file_name: Mapped[Optional[str]] = mapped_column(String(255))
    file_type: Mapped[Optional[str]] = mapped_column(String(100))
    file_size: Mapped[Optional[int]] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Who asked (the lists load it with their page, in one query); by name: infrastructure imports no feature.
    user = relationship("User", lazy="raise")

    def __repr__(self):
        return f"<Job {self.kind} {self.etat}>"


# The file a job made is an object of the store: never removed while its row names it.
storage.register_reference(storage.Reference("jobs", Job.id, Job.file_key, size=Job.file_size))


@dataclass(frozen=True)
class File:
    """A file a job made: a readable binary stream (at its start), its download name and media type."""

    stream: BinaryIO
    name: str
    content_type: str


@dataclass(frozen=True)
class Result:
    """What a job's function returns: a French message for its owner, the file it made, and `on_success`,
    work that commits with the job's `termine` (an audit row), so it happens once even if the job runs twice."""

    message: str
    file: Optional[File] = None
    on_success: Optional[Callable[[], None]] = None


class JobError(Exception):
    """A failure to tell the job's owner (a French message), not retried unless `retry`."""

    def __init__(self, message, retry=False):
        super().__init__(message)
        self.message, self.retry = message, retry


def enqueue(kind, user=None, params=None):
    """A job of `kind` in the current transaction, handed to a worker once that transaction commits."""
    job = Job(id=new_uuid(), kind=kind, user_id=user.id if user is not None else None, params=params or {},
              etat=EN_ATTENTE, attempts=0, handed_at=utcnow())
    db.session.add(job)
    hand_after_commit(job.id)
    return job


def hand_after_commit(job_id, eta=None):
    """Hand `job_id` to the queue when the current transaction commits (at `eta`, a UTC datetime, if given)."""
    db.session().info.setdefault(_PENDING, []).append((job_id, eta))


def _hand_over(session):
    # A savepoint's commit is not the transaction's: wait for the outermost one.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    hand_off = current_app.extensions.get(HAND_OFF)
    if hand_off is None:
        log.warning("background: no job queue configured, %d job(s) left waiting", len(pending))
        return
    try:
        hand_off(pending)
    except Exception:  # the queue is down: the rows are committed, the sweep hands them over later
        log.exception("background: handing %d job(s) to the queue failed; the sweep will retry", len(pending))


def _forget(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def connect_hand_off():
    """Listen to every session's commits and rollbacks (once per process)."""
    if not event.contains(Session, "after_commit", _hand_over):
        event.listen(Session, "after_commit", _hand_over)
        event.listen(Session, "after_soft_rollback", _forget)


class JobSchema(Schema):
    """A job as its owner and the administrateurs see it."""

    id = fields.String(metadata={"description": "Identifiant (UUID)."})
    type = fields.String(attribute="kind", metadata={"description": "Le genre de travail (ex. `registre.pdf`)."})
    etat = fields.String(metadata={"enum": list(ETATS), "description": (
        "en_attente (pas encore pris par un worker, ou un nouvel essai prévu), en_cours, termine, echec.")})
    message = fields.String(allow_none=True, metadata={"description": "Où en est le travail, en français."})
    periode = fields.String(attribute="period", allow_none=True, metadata={
        "description": "La période d'une tâche périodique ; null pour un travail demandé par un utilisateur."})
    cree_le = fields.DateTime(attribute="created_at")
    commence_le = fields.DateTime(attribute="started_at", allow_none=True)
    termine_le = fields.DateTime(attribute="finished_at", allow_none=True)
    tentatives = fields.Integer(attribute="attempts", metadata={"description": "Essais commencés."})
    fichier = fields.Method("file_url", allow_none=True, metadata={
        "type": "string", "description": "Où télécharger le fichier produit (URL de l'API), sinon null."})

    @staticmethod
    def file_url(job):
        return f"/api/jobs/{job.id}/fichier" if job.etat == TERMINE and job.file_key else None
