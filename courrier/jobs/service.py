"""What the routes and `flask worker status` read: one job (for its owner or an administrateur), the list,
and the overview (counts by etat, recent failures, each periodic task's last period)."""
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from courrier import storage
from courrier.background import ECHEC, ETATS, TERMINE, Job
from courrier.columns import utcnow
from courrier.database import paginate
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.jobs.kinds import KINDS
from courrier.jobs.periodic import PERIODIC

NO_FILE = "Ce travail n'a pas (ou pas encore) produit de fichier."


def visible_job(principal, job_id):
    """The job if the caller asked for it or is an administrateur; 404 otherwise (no existence leak)."""
    job = db.session.get(Job, job_id, options=[selectinload(Job.user)])
    if job is None or (job.user_id != principal.id and principal.role != "administrateur"):
        raise ApiError("not_found")
    return job


def send_job_file(principal, job_id):
    """The file a finished job made, streamed by the store."""
    job = visible_job(principal, job_id)
    if job.etat != TERMINE or not job.file_key:
        raise ApiError("not_found", NO_FILE)
    return storage.send(job.file_key, filename=job.file_name, content_type=job.file_type, size=job.file_size)


def list_jobs(filters):
    """Newest first, optionally of one etat; with the overview in `meta`."""
    query = select(Job).options(selectinload(Job.user)).order_by(Job.created_at.desc(), Job.id.desc())
    if filters.get("etat"):
        query = query.where(Job.etat == filters["etat"])
    page = paginate(query, filters["page"], filters["per_page"])
    page["meta"].update(etats=counts_by_etat(), periodiques=periodic_summary())
    return page


def counts_by_etat():
    rows = db.session.execute(select(Job.etat, func.count()).group_by(Job.etat)).all()
    return {etat: 0 for etat in ETATS} | dict(rows)


def recent_failures(limit):
    return db.session.scalars(select(Job).where(Job.etat == ECHEC)
                              .order_by(Job.created_at.desc()).limit(limit)).all()


def periodic_summary():
    """Each periodic task: its rule, and its latest period with that run's etat and message."""
    config, now = current_app.config, utcnow()
    summary = []
    for rule in PERIODIC:
        # Its latest period due by now: a tick also adds the periods of the coming two minutes.
        last = db.session.scalars(select(Job).where(Job.kind == rule.kind, Job.period.is_not(None),
                                                    Job.handed_at <= now)
                                  .order_by(Job.period.desc()).limit(1)).first()
        schedule = rule.schedule.describe(config)
        if not rule.active(config):
            schedule += f" — inactif : {rule.needs} n'est pas configuré"
        summary.append({
            "type": rule.kind, "libelle": KINDS[rule.kind].label, "regle": schedule,
            "periode": last.period if last else None, "etat": last.etat if last else None,
            "message": last.message if last else None, "termine_le": last.finished_at if last else None})
    return summary
