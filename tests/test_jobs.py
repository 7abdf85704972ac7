"""Background jobs, in process: hand-off after commit, the runner's claims and retries, the sweep, the periodic
table on a moved clock, the routes and the register's PDF made by a job. The tests run the queued tasks
themselves (`drain`); tests/system/test_jobs_worker.py runs real workers."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from courrier import background
from courrier.audit.models import AuditEvent
from courrier.auth.models import User
from courrier.background import Job, JobError, Result
from courrier.deadlines import PARIS
from courrier.documents.models import Document
from courrier.extensions import db
from courrier.columns import utcnow
from courrier.jobs import kinds, periodic, runner as job_runner, service as job_service
from courrier.jobs.queue import queue_of
from courrier.notifications.models import Notification

from tests.conftest import create, drain, service

LEASE = 30


@pytest.fixture
def app_config():
    # The deadline notices are active only with an SMTP server; none is contacted here.
    return {"SMTP_URL": "smtp://courrier:motdepasse-smtp@127.0.0.1:9", "JOBS_LEASE_SECONDS": LEASE,
            "JOBS_MAX_ATTEMPTS": 3, "JOBS_RETRY_SECONDS": 10, "NOTIFY_INTERVAL": 20}


def job_row(app, job_id):
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        return job


@pytest.fixture
def test_kind(monkeypatch):
    """A kind whose function the test chooses: `test_kind.function = …`."""
    calls = []

    class Kind:
        label = "Essai"

        @staticmethod
        def function(job):
            calls.append(job)
            return Kind.behaviour(job)

    Kind.calls = calls
    Kind.behaviour = staticmethod(lambda job: Result("Fait."))
    monkeypatch.setitem(kinds.KINDS, "test.essai", Kind)
    return Kind


def enqueue_committed(app, kind="test.essai"):
    with app.app_context():
        job = background.enqueue(kind)
        db.session.commit()
        return job.id


# ------------------------------------------------------------------ hand-off after commit

def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(app, huey, test_kind):
    with app.app_context():
        rolled_back = background.enqueue("test.essai").id
        db.session.flush()
        assert huey.pending_count() == 0  # nothing is handed before the commit
        db.session.rollback()
        assert db.session.scalars(select(Job)).all() == []
    assert huey.pending_count() == 0
    with app.app_context():
        kept = background.enqueue("test.essai").id
        db.session.commit()
        assert huey.pending_count() == 1
    assert drain(huey) == 1
    assert [call.id for call in test_kind.calls] == [kept] and rolled_back != kept
    assert job_row(app, kept).etat == "termine"


def test_a_job_rolled_back_in_a_savepoint_is_handed_but_finds_no_row(app, huey, test_kind):
    with app.app_context():
        savepoint = db.session.begin_nested()
        background.enqueue("test.essai")
        savepoint.rollback()
        db.session.commit()
    assert drain(huey) == 1
    assert test_kind.calls == []


def test_the_queue_revokes_nothing_a_job_is_stopped_through_its_row(app, huey, test_kind):
    # huey's revocation lookups are skipped (two Redis round trips per task): revoking is refused, not ignored.
    job_id = enqueue_committed(app)
    with pytest.raises(NotImplementedError):
        huey.revoke_by_id(job_id)
    with pytest.raises(NotImplementedError):
        queue_of(app).run_job.revoke()
    assert drain(huey) == 1 and job_row(app, job_id).etat == "termine"


# ------------------------------------------------------------------ runner: claims, retries, failures

def test_a_second_hand_off_of_a_running_or_finished_job_does_nothing(app, huey, test_kind):
    job_id = enqueue_committed(app)
    with app.app_context():
        assert job_runner.run_job(job_id) == "termine"
        assert job_runner.run_job(job_id) is None
    assert len(test_kind.calls) == 1 and job_row(app, job_id).attempts == 1


def test_a_failing_job_is_retried_then_fails_with_a_french_message_and_no_internals(app, huey, test_kind):
    def explode(job):
        raise RuntimeError("connexion à postgresql://courrier:secret@db refusée")

    test_kind.behaviour = staticmethod(explode)
    job_id = enqueue_committed(app)
    now = datetime(2027, 3, 8, 9, 0, tzinfo=timezone.utc)
    with app.app_context():
        assert job_runner.run_job(job_id, clock=lambda: now) == "en_attente"
        retry = db.session.get(Job, job_id)
        assert retry.handed_at == now + timedelta(seconds=10) and "Nouvel essai" in retry.message
        db.session.expunge_all()
        assert job_runner.run_job(job_id, clock=lambda: now) is None  # not before its retry time
        assert job_runner.run_job(job_id, clock=lambda: now + timedelta(seconds=10)) == "en_attente"
        assert job_runner.run_job(job_id, clock=lambda: now + timedelta(minutes=5)) == "echec"
    failed = job_row(app, job_id)
    assert failed.attempts == 3 and failed.message == "Erreur interne pendant le traitement (RuntimeError)."
    assert "secret" not in failed.message and failed.finished_at is not None


def test_a_job_error_tells_its_message_and_is_not_retried(app, huey, test_kind):
    def refuse(job):
        raise JobError("Le registre demandé n'existe pas.")

    test_kind.behaviour = staticmethod(refuse)
    job_id = enqueue_committed(app)
    with app.app_context():
        assert job_runner.run_job(job_id) == "echec"
    assert job_row(app, job_id).message == "Le registre demandé n'existe pas."


# ------------------------------------------------------------------ the sweep

def test_the_sweep_hands_again_a_job_the_queue_lost_and_a_job_whose_worker_died(app, huey, test_kind):
    lost = enqueue_committed(app)
    died = enqueue_committed(app)
    huey.flush()  # the queue lost both messages
    now = datetime.now(timezone.utc)
    start = now - timedelta(seconds=LEASE + 1)
    with app.app_context():
        db.session.execute(update(Job).values(handed_at=start))
        db.session.commit()
        job_runner.claim(died, start, app.config)  # a worker took it, then was killed: no renewal since
        periodic.sweep(start, app.config)
        db.session.commit()
        assert huey.pending_count() == 0  # neither is given up on within a lease
        periodic.sweep(now, app.config)
        db.session.commit()
    assert drain(huey) == 2
    assert sorted(call.id for call in test_kind.calls) == sorted([lost, died])
    assert job_row(app, died).etat == "termine" and job_row(app, died).attempts == 2


def test_a_job_that_killed_its_worker_on_its_last_try_fails(app, huey, test_kind):
    job_id = enqueue_committed(app)
    now = datetime.now(timezone.utc)
    with app.app_context():
        db.session.execute(update(Job).values(etat="en_cours", attempts=3, claimed_until=now - timedelta(seconds=1)))
        periodic.sweep(now, app.config)
        db.session.commit()
    failed = job_row(app, job_id)
    assert failed.etat == "echec" and failed.message == periodic.INTERRUPTED and test_kind.calls == []


# ------------------------------------------------------------------ the periodic table on a moved clock

def paris(*args):
    return datetime(*args, tzinfo=PARIS).astimezone(timezone.utc)


def periods(app, kind):
    with app.app_context():
        return db.session.execute(select(Job.period, Job.id).where(Job.kind == kind).order_by(Job.period)).all()


def test_deadline_notices_are_queued_at_seven_paris_on_working_days_only(app, huey, client, admin):
    # Friday 5, Saturday 6, Sunday 7 and Monday 8 March 2027; a letter due on the Monday.
    rh = service(client, admin, "RH", email="rh@mairie.example")
    letter = create(client, admin, service_id=rh["id"])
    with app.app_context():
        db.session.execute(update(Document).where(Document.id == letter["id"]).values(echeance=date(2027, 3, 8)))
        db.session.execute(update(Notification).values(status="sent"))
        db.session.commit()
        periodic.tick(paris(2027, 3, 5, 7, 0))
        periodic.tick(paris(2027, 3, 6, 7, 30))
        periodic.tick(paris(2027, 3, 7, 7, 30))
        periodic.tick(paris(2027, 3, 8, 6, 50))
        assert [period for period, _ in periods(app, "notifications.echeances")] == ["2027-03-05"]
        periodic.tick(paris(2027, 3, 8, 6, 59))  # Monday's run is scheduled for 07:00, not run before
        (_, friday), (monday_period, monday) = periods(app, "notifications.echeances")
        assert monday_period == "2027-03-08"
        assert job_runner.run_job(monday, clock=lambda: paris(2027, 3, 8, 6, 59)) is None
        assert db.session.scalars(select(Notification).where(Notification.status == "pending")).all() == []
        assert job_runner.run_job(monday, clock=lambda: paris(2027, 3, 8, 7, 0)) == "termine"
        notices = db.session.scalars(select(Notification).where(Notification.status == "pending")).all()
        assert [(n.kind, n.to_email) for n in notices] == [("due_soon", "rh@mairie.example")]
        assert db.session.get(Job, monday).message == "1 avis d'échéance mis en file."


def test_a_missed_daily_run_catches_up_once_at_the_next_tick(app, huey):
    with app.app_context():
        periodic.tick(paris(2027, 3, 10, 12, 0))  # no worker ran at 03:00: the day's prune runs now
        periodic.tick(paris(2027, 3, 10, 12, 1))
    assert [period for period, _ in periods(app, "sessions.purge")] == ["2027-03-10"]


def test_sub_minute_intervals_are_scheduled_by_the_minute_tick_each_period_once(app, huey):
    def envoi_rows():
        return db.session.scalars(select(Job).where(Job.kind == "notifications.envoi").order_by(Job.period)).all()

    with app.app_context():
        periodic.tick(paris(2027, 3, 10, 12, 0, 5))
        periodic.tick(paris(2027, 3, 10, 12, 0, 5))  # a second worker's tick at the same moment
        # Each due at its period's start: the first at once, the others scheduled in huey at their time.
        assert [row.handed_at for row in envoi_rows()] == [datetime.fromisoformat(row.period) for row in envoi_rows()]
        periodic.tick(paris(2027, 3, 10, 12, 1, 5))
        expected = [f"11:{m:02d}:{s:02d}" for m in (0, 1, 2) for s in (0, 20, 40)] + ["11:03:00"]
        assert [row.period[11:19] for row in envoi_rows()] == expected


def test_the_summary_shows_the_latest_period_due_not_one_scheduled_ahead(app, huey):
    with app.app_context():
        periodic.tick()  # now: it also adds the outbox's periods of the coming two minutes
        envoi = next(task for task in job_service.periodic_summary() if task["type"] == "notifications.envoi")
        assert envoi["periode"] is not None
        assert datetime.fromisoformat(envoi["periode"]) <= utcnow()


# ------------------------------------------------------------------ routes

def test_only_its_owner_and_administrateurs_see_a_job(app, huey, client, auth, admin, test_kind):
    owner, other = auth.account("agent"), auth.account("agent")
    with app.app_context():
        job = background.enqueue("test.essai", user=db.session.get(User, owner.id))
        db.session.commit()
        job_id = job.id
    seen = client.get(f"/api/jobs/{job_id}", headers=owner.headers).json["data"]
    assert (seen["etat"], seen["libelle"], seen["utilisateur"]["id"]) == ("en_attente", "Essai", owner.id)
    assert client.get(f"/api/jobs/{job_id}", headers=admin.headers).status_code == 200
    hidden = client.get(f"/api/jobs/{job_id}", headers=other.headers)
    assert hidden.status_code == 404 and hidden.json["code"] == "not_found"
    assert client.get(f"/api/jobs/{job_id}/fichier", headers=other.headers).status_code == 404
    assert client.get("/api/jobs/inconnu", headers=admin.headers).status_code == 404
    forbidden = client.get("/api/jobs", headers=owner.headers)
    assert forbidden.status_code == 403 and forbidden.json["code"] == "forbidden"
    drain(huey)
    listed = client.get("/api/jobs", query_string={"etat": "termine"}, headers=admin.headers)
    assert listed.status_code == 200, listed.json
    assert [item["id"] for item in listed.json["data"]] == [job_id]
    meta = listed.json["meta"]
    assert meta["total"] == 1 and meta["etats"]["termine"] == 1
    assert {task["type"] for task in meta["periodiques"]} == {rule.kind for rule in periodic.PERIODIC}
    assert "motdepasse-smtp" not in listed.get_data(as_text=True)
    assert client.get("/api/jobs", query_string={"etat": "fini"}, headers=admin.headers).status_code == 422


def test_the_register_pdf_made_by_a_job_is_downloadable_at_fichier(app, huey, client, auth, admin):
    create(client, admin, objet="Demande de raccordement")
    agent = auth.account("agent")
    refused = client.post("/api/registre/exports", json={"type": "entrant"}, headers=agent.headers)
    assert refused.status_code == 403
    bad = client.post("/api/registre/exports", json={"type": "entrant", "date_from": "2027-02-01",
                                                     "date_to": "2027-01-01"}, headers=admin.headers)
    assert bad.status_code == 422
    started = client.post("/api/registre/exports", json={"type": "entrant", "format": "pdf"}, headers=admin.headers)
    assert started.status_code == 202, started.json
    job = started.json["data"]
    assert job["etat"] == "en_attente" and job["type"] == "registre.pdf" and job["fichier"] is None
    assert drain(huey) == 1
    done = client.get(f"/api/jobs/{job['id']}", headers=admin.headers).json["data"]
    assert done["etat"] == "termine" and done["tentatives"] == 1, done
    assert done["fichier"] == f"/api/jobs/{job['id']}/fichier" and "1 courrier(s)" in done["message"]
    download = client.get(done["fichier"], headers=admin.headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(download.data)).pages)
    assert "Demande de raccordement" in text
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "register_exported")).all()
        assert len(events) == 1 and events[0].actor_id == admin.id and events[0].details["format"] == "pdf"
        # Handed again (a duplicate message): nothing runs, nothing is audited twice.
        assert job_runner.run_job(job["id"]) is None
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.type == "register_exported")).all()) == 1


def test_flask_worker_status_prints_the_counts_the_periodic_tasks_and_the_failures(app, huey, runner, test_kind):
    def refuse(job):
        raise JobError("Registre introuvable.")

    test_kind.behaviour = staticmethod(refuse)
    enqueue_committed(app)
    drain(huey)
    result = runner.invoke(args=["worker", "status"])
    assert result.exit_code == 0, result.output
    assert "echec\t1" in result.output and "Registre introuvable." in result.output
    assert "notifications.echeances (chaque jour ouvré à 07:00" in result.output
    assert "motdepasse-smtp" not in result.output


def test_finished_jobs_are_pruned_after_the_retention_with_their_files_unless_still_named(app, huey):
    from courrier import storage
    from courrier.jobs.retention import prune_finished_jobs

    now = datetime.now(timezone.utc)
    with app.app_context():
        kept, gone = (storage.current().put(io.BytesIO(data)) for data in (b"%PDF partage", b"%PDF seul"))
        rows = [("old-shared", kept.key, 40), ("recent-shared", kept.key, 1), ("old-alone", gone.key, 40)]
        for name, key, days in rows:
            db.session.add(Job(kind="registre.pdf", etat="termine", params={}, file_key=key, file_name=f"{name}.pdf",
                               file_type="application/pdf", finished_at=now - timedelta(days=days)))
        db.session.commit()
        assert prune_finished_jobs(30, now=now) == 2
        assert [job.file_name for job in db.session.scalars(select(Job))] == ["recent-shared.pdf"]
        assert storage.current().exists(kept.key) and not storage.current().exists(gone.key)
