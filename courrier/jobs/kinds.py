"""The table of job kinds: kind → the feature function that does the work, and its French label.

A function takes the claimed job (`id`, `params`, `user_id`, `period`, `attempts`) and returns a
`courrier.background.Result`; it raises `JobError` for a failure to tell its owner (its uncommitted work is
rolled back), and what it leaves uncommitted on success is committed. Functions may run twice (a worker
killed mid-job): each does work that is idempotent, or commits it with the job's result (`on_success`).
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable

from flask import current_app

from courrier.audit.chain import prune_events
from courrier.auth.service import prune_dead_sessions
from courrier.background import JobError, Result
from courrier.capture import imap
from courrier.documents import register_job
from courrier.jobs.retention import prune_finished_jobs
from courrier.notifications import sender
from courrier.notifications.deadlines import queue_deadline_notices
from courrier.search import text_jobs

SESSIONS_RETENTION_DAYS = 30  # as `flask sessions prune`
PRUNE_BATCH = 1000


@dataclass(frozen=True)
class Kind:
    function: Callable
    label: str


def send_notifications(job):
    """One pass of the outbox's sender (its claims keep every message sent once, whoever runs it)."""
    counts = sender.send_pending()
    return Result(f"Envoyés : {counts['sent']} ; à réessayer : {counts['retry']} ; en échec : {counts['failed']}.")


def deadline_notices(job):
    """The due-soon and late notices of the period's day (each queued once: the outbox's dedup keys)."""
    queued = queue_deadline_notices(date.fromisoformat(job.period) if job.period else None)
    return Result(f"{queued} avis d'échéance mis en file.")


def capture_mail(job):
    """One pass over the mailbox (each message captured once, whoever runs it: courrier.capture.intake)."""
    try:
        _, message = imap.capture_from_mailbox()
    except imap.CaptureError as error:
        raise JobError(str(error)) from None  # the next period tries again
    return Result(message)


def prune_sessions(job):
    deleted = prune_dead_sessions(SESSIONS_RETENTION_DAYS)
    return Result(f"{deleted} session(s) expirée(s) ou révoquée(s) depuis plus de {SESSIONS_RETENTION_DAYS} jours "
                  "supprimée(s).")


def prune_audit(job):
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    removed = prune_events(days, PRUNE_BATCH)
    return Result(f"{removed} événement(s) d'audit de plus de {days} jour(s) supprimé(s).")


def prune_jobs(job):
    days = current_app.config["JOBS_RETENTION_DAYS"]
    removed = prune_finished_jobs(days)
    return Result(f"{removed} travail(-aux) terminé(s) depuis plus de {days} jour(s) supprimé(s).")


KINDS = {
    register_job.KIND: Kind(register_job.make_register_pdf, "Registre chronologique (PDF)"),
    "notifications.envoi": Kind(send_notifications, "Envoi des e-mails en attente"),
    "notifications.echeances": Kind(deadline_notices, "Avis d'échéance proche et de retard"),
    "capture.imap": Kind(capture_mail, "Capture des courriels (boîte IMAP)"),
    "sessions.purge": Kind(prune_sessions, "Purge des sessions expirées"),
    "audit.purge": Kind(prune_audit, "Purge du journal d'audit (rétention)"),
    "jobs.purge": Kind(prune_jobs, "Purge des travaux terminés"),
    text_jobs.KIND: Kind(text_jobs.read_attachment_text, text_jobs.LABEL),
}
