"""The periodic table, run by every worker's tick; each period runs once across all workers.

huey's scheduler enqueues the task `courrier.tick` once a minute in every worker process (`flask
worker` on every machine). A tick:
1. sweeps: jobs whose worker died on their last allowed try become `echec`; jobs the queue lost are
   handed again (waiting ones handed more than a lease ago: a crash between commit and hand-off, a
   message popped by a worker killed before its claim; running ones whose lease ran out);
2. for each rule of PERIODIC, inserts the job of each period due now or within the coming HORIZON,
   with `INSERT … ON CONFLICT DO NOTHING` on the unique (kind, period): the database says which tick won
   a period, and only the winner hands it to huey, at its due time (`schedule(eta=…)`). That is how a
   NOTIFY_INTERVAL below a minute is honoured: the tick schedules every interval of the next two minutes.
   The periods are "the latest one due" and the future ones: a run missed while no worker was up
   catches up at the next tick, once (older missed periods are not run again).
"""
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, or_, select, update

from courrier import deadlines
from courrier.background import ECHEC, EN_ATTENTE, EN_COURS, Job, hand_after_commit
from courrier.columns import new_uuid, utcnow
from courrier.database import insert_ignoring_duplicates
from courrier.extensions import db

HORIZON = timedelta(minutes=2)  # a tick every minute, a minute of margin for a late one
LOOK_BACK_DAYS = 15  # the longest run of days off, and more
SWEEP_BATCH = 500
INTERRUPTED = "Interrompu : le worker s'est arrêté pendant le traitement, et plus aucun essai n'est permis."


@dataclass(frozen=True)
class Every:
    """Every `setting` seconds (a configuration key), periods aligned on whole multiples since the epoch."""

    setting: str

    def describe(self, config):
        return f"toutes les {config[self.setting]} s ({self.setting})"

    def periods(self, now, horizon, config):
        step = config[self.setting]
        start = math.floor(now.timestamp() / step) * step
        end = (now + horizon).timestamp()
        while start < end:
            due = datetime.fromtimestamp(start, timezone.utc)
            yield due.strftime("%Y-%m-%dT%H:%M:%SZ"), due
            start += step


@dataclass(frozen=True)
class DailyAt:
    """Each day (or each working day, as courrier.deadlines counts them) at `at`, Paris time."""

    at: time
    working_days: bool = False

    def describe(self, config):
        days = "chaque jour ouvré" if self.working_days else "chaque jour"
        return f"{days} à {self.at:%H:%M} (heure de Paris)"

    def periods(self, now, horizon, config):
        today = deadlines.paris_today(now)
        days = [today + timedelta(days=offset) for offset in range(-LOOK_BACK_DAYS, 2)]
        due = [(day, datetime.combine(day, self.at, tzinfo=deadlines.PARIS)) for day in days
               if not self.working_days or deadlines.is_working_day(day, config["HOLIDAYS_SUBDIVISION"])]
        past = [(day, at) for day, at in due if at <= now]
        chosen = past[-1:] + [(day, at) for day, at in due if now < at <= now + horizon]
        for day, at in chosen:
            yield day.isoformat(), at.astimezone(timezone.utc)


@dataclass(frozen=True)
class Periodic:
    kind: str
    schedule: object
    needs: str | None = None  # a setting without which the task has nothing to do

    def active(self, config):
        return self.needs is None or bool(config.get(self.needs))


PERIODIC = (
    Periodic("notifications.envoi", Every("NOTIFY_INTERVAL"), needs="SMTP_URL"),
    Periodic("notifications.echeances", DailyAt(time(7, 0), working_days=True), needs="SMTP_URL"),
    Periodic("capture.imap", Every("CAPTURE_INTERVAL"), needs="CAPTURE_IMAP_URL"),
    Periodic("sessions.purge", DailyAt(time(3, 0))),
    Periodic("audit.purge", DailyAt(time(3, 30))),
    Periodic("jobs.purge", DailyAt(time(4, 0))),
)


def tick(now=None):
    """Sweep, then add (and hand over) the periodic jobs due by now + HORIZON that no tick added yet."""
    now = now or utcnow()
    config = current_app.config
    sweep(now, config)
    for rule in PERIODIC:
        if not rule.active(config):
            continue
        for period, due in rule.schedule.periods(now, HORIZON, config):
            job_id = new_uuid()
            if insert_ignoring_duplicates(Job.__table__, id=job_id, kind=rule.kind, period=period, params={},
                                          etat=EN_ATTENTE, attempts=0, handed_at=due, created_at=now):
                hand_after_commit(job_id, eta=due if due > now else None)
    db.session.commit()


def sweep(now, config):
    """Fail the jobs that died on their last try; hand again those the queue lost (committed by the caller)."""
    lease = timedelta(seconds=config["JOBS_LEASE_SECONDS"])
    expired = and_(Job.etat == EN_COURS, Job.claimed_until < now)
    db.session.execute(
        update(Job).where(expired, Job.attempts >= config["JOBS_MAX_ATTEMPTS"])
        .values(etat=ECHEC, message=INTERRUPTED, claim_token=None, claimed_until=None, finished_at=now)
        .execution_options(synchronize_session=False))
    lost = or_(Job.etat == EN_ATTENTE, expired)
    ids = db.session.scalars(select(Job.id).where(lost, Job.handed_at < now - lease).limit(SWEEP_BATCH)).all()
    if ids:
        db.session.execute(update(Job).where(Job.id.in_(ids)).values(handed_at=now)
                           .execution_options(synchronize_session=False))
        for job_id in ids:
            hand_after_commit(job_id)
