"""The huey instance of the app, chosen from JOBS_URL, and its two tasks.

huey carries job ids, nothing else: `courrier.job(job_id)` runs one job (courrier.jobs.runner), and
`courrier.tick`, a periodic task every worker's scheduler enqueues each minute, runs the periodic table
and the sweep (courrier.jobs.periodic). Every task runs inside an app context, and the task's database
session is removed after it. huey keeps no results and revokes nothing: the `jobs` table is the record.
"""
import os

from huey import RedisHuey, SqliteHuey
from redis import ConnectionPool
from sqlalchemy.engine import make_url

from courrier.jobs import periodic, runner

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
REDIS_CONNECT_TIMEOUT = 2
REDIS_TIMEOUT = 5
EXTENSION = "courrier_jobs"
REVOKE_KEY_PREFIX = "r:"  # huey's key of a task's revocation (Task.revoke_id)


class WithoutRevocation:
    """huey without its revocation: a job is stopped through its row, never through huey, so the two lookups
    huey makes per task (is it revoked? then clear the flag), two Redis round trips out of three, are skipped;
    revoking is refused rather than silently ignored."""

    def is_revoked(self, task, timestamp=None, peek=True):
        return False

    def delete(self, key):
        if key.startswith(REVOKE_KEY_PREFIX):
            return False
        return super().delete(key)

    def revoke(self, *args, **kwargs):
        raise NotImplementedError("courrier's queue revokes nothing: a job is stopped through its row")

    revoke_all = revoke_by_id = revoke


class JobsRedisHuey(WithoutRevocation, RedisHuey):
    pass


class JobsSqliteHuey(WithoutRevocation, SqliteHuey):
    pass


def make_huey(config, project_dir):
    """SqliteHuey for `sqlite:///<file>` (relative to the project folder), RedisHuey for `redis://…`."""
    url, name = config["JOBS_URL"], config["JOBS_QUEUE"]
    if url.startswith(REDIS_SCHEMES):
        # A Redis that does not answer fails a hand-off within seconds (the sweep retries it), never hangs the
        # request that enqueued; the socket timeout outlasts the workers' one-second blocking reads.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        return JobsRedisHuey(name, connection_pool=pool, results=False, utc=True)
    path = make_url(url).database
    if not os.path.isabs(path):
        path = os.path.join(project_dir, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return JobsSqliteHuey(name, filename=path, results=False, utc=True)


def every_minute(_timestamp):
    return True


def in_app_context(app, function):
    """`function` run inside an app context, whose teardown removes the session (a worker thread reuses
    nothing)."""

    def task(*args):
        with app.app_context():
            return function(*args)

    task.__name__ = function.__name__
    return task


class JobQueue:
    """The app's huey instance and its tasks; `hand_off` is what courrier.background calls after a commit."""

    def __init__(self, app):
        project_dir = os.path.dirname(app.root_path)
        self.huey = make_huey(app.config, project_dir)
        self.run_job = self.huey.task(name="courrier.job")(in_app_context(app, runner.run_job))
        self.tick = self.huey.periodic_task(every_minute, name="courrier.tick")(in_app_context(app, periodic.tick))
        # Each worker thread (or process) gives back its connection for claims and results when it stops.
        self.huey.on_shutdown("courrier.connection")(runner.release_connection)

    def hand_off(self, pending):
        """Give each (job id, eta or None) to the queue: at once, or at its eta (a UTC datetime)."""
        for job_id, eta in pending:
            if eta is None:
                self.run_job(job_id)
            else:
                self.run_job.schedule(args=(job_id,), eta=eta)


def queue_of(app):
    """The app's JobQueue (set up by create_app)."""
    return app.extensions[EXTENSION]
