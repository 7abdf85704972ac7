"""Finished jobs are kept JOBS_RETENTION_DAYS days; the files they made go with them (unless still named)."""
from datetime import timedelta

from sqlalchemy import delete, select

from courrier import storage
from courrier.background import ECHEC, TERMINE, Job
from courrier.columns import utcnow
from courrier.extensions import db

BATCH = 500


def prune_finished_jobs(retention_days, now=None):
    """Delete the jobs finished more than `retention_days` ago, a batch per transaction, then the objects
    their files were, unless another row (a job, an attachment of the same bytes) names them; how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    old = (Job.etat.in_((TERMINE, ECHEC)), Job.finished_at < cutoff)
    removed = 0
    while True:
        rows = db.session.execute(select(Job.id, Job.file_key).where(*old).order_by(Job.id).limit(BATCH)).all()
        if not rows:
            return removed
        db.session.execute(delete(Job).where(Job.id.in_([row.id for row in rows]))
                           .execution_options(synchronize_session=False))
        db.session.commit()
        removed += len(rows)
        for key in {row.file_key for row in rows if row.file_key}:
            if not storage.is_referenced(key):
                storage.current().delete(key)
