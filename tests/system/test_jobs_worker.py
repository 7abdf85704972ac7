"""Real workers (`flask worker` as tests/system/jobs_worker.py runs it) on one database and one queue:
a worker killed with SIGKILL mid-job loses nothing, and two workers run a periodic task once per period.

The queue is a SQLite file, or with TEST_REDIS_URL Redis's database 1 under a queue name of this run.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy.engine import make_url

from courrier import create_app
from courrier.background import Job, enqueue
from courrier.columns import utcnow
from courrier.extensions import db

from tests.system.conftest import ROOT, TEST_REDIS_URL, server_env

pytestmark = pytest.mark.system

LEASE_SECONDS = 2
WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def setup(database, tmp_path_factory):
    """The environment of the workers (migrated database, queue, a short lease) and an app of the test's own
    on the same database and queue, to enqueue jobs and read them."""
    folder = tmp_path_factory.mktemp("jobs")
    jobs_url = (make_url(TEST_REDIS_URL).set(database="1").render_as_string(hide_password=False) if TEST_REDIS_URL
                else f"sqlite:///{folder / 'queue.sqlite'}")
    env = server_env(database.url_string, folder, JOBS_URL=jobs_url, JOBS_QUEUE=f"system-{uuid.uuid4().hex}",
                     JOBS_LEASE_SECONDS=LEASE_SECONDS, TEST_JOBS_LOG=folder / "jobs.log",
                     TEST_JOBS_RELEASE=folder / "release")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url_string, "JOBS_URL": jobs_url,
                      "JOBS_QUEUE": env["JOBS_QUEUE"], "JOBS_LEASE_SECONDS": LEASE_SECONDS})
    with app.app_context():
        db.create_all()  # the schema only (no migration run, no account): the workers need the jobs table
    workers = []

    def start(**extra):
        with open(folder / f"worker-{len(workers)}.log", "ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "tests.system.jobs_worker"], cwd=ROOT,
                                       env={**env, **{k: str(v) for k, v in extra.items()}}, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        workers.append(process)
        return process

    yield app, env, start, folder
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    queue = app.extensions["courrier_jobs"].huey
    queue.flush()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def log_lines(env):
    try:
        with open(env["TEST_JOBS_LOG"]) as handle:
            return [line.split() for line in handle.read().splitlines()]
    except FileNotFoundError:
        return []


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {WAIT_SECONDS} s for {what}")
        time.sleep(0.1)


def job_of(app, job_id):
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        db.session.remove()
        return job


def test_a_worker_killed_mid_job_loses_nothing_the_job_runs_again_and_completes_once(setup):
    app, env, start, folder = setup
    first = start()
    with app.app_context():
        job_id = enqueue("test.lent").id
        db.session.commit()
    wait_for(lambda: ["start", job_id, str(first.pid)] in log_lines(env), "the first worker to start the job")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert job_of(app, job_id).etat == "en_cours"
    # The dead worker's claim runs out (no renewal): a worker starting now sweeps the job up at its first tick.
    wait_for(lambda: job_of(app, job_id).claimed_until < utcnow(), "the dead worker's lease to run out")
    (folder / "release").touch()
    second = start()
    wait_for(lambda: job_of(app, job_id).etat == "termine", "the job to be run again and finish")
    lines = [line for line in log_lines(env) if line[1] == job_id]
    assert [line[0] for line in lines] == ["start", "start", "done"]
    assert lines[1][2] == lines[2][2] == str(second.pid)
    assert job_of(app, job_id).attempts == 2
    os.killpg(second.pid, signal.SIGTERM)
    second.wait(timeout=30)


def test_two_workers_run_a_periodic_task_once_per_period(setup):
    app, env, start, folder = setup
    workers = [start(TEST_JOBS_PERIODIC=1), start(TEST_JOBS_PERIODIC=1)]

    def periods():
        return [line[1] for line in log_lines(env) if line[0] == "period"]

    wait_for(lambda: len(set(periods())) >= 4, "four periods of the periodic task")
    for process in workers:
        os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        process.wait(timeout=30)
    counts = Counter(periods())
    assert len(counts) >= 4 and set(counts.values()) == {1}, counts
