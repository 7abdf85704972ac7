"""Background work on huey: the queue (JOBS_URL), the table of job kinds, the runner, the periodic table,
`flask worker` and the routes /api/jobs.

- `queue.py`: the huey instance (SqliteHuey by default, RedisHuey for `redis://`), its two tasks;
- `runner.py`: one job, claimed with a lease renewed while it runs, its result recorded;
- `kinds.py`: kind → the feature function doing the work (`registre.pdf`, the periodic ones);
- `periodic.py`: the periodic table and the tick (once per period across all workers; the sweep);
- `retention.py`: finished jobs removed after JOBS_RETENTION_DAYS;
- `service.py`, `schemas.py`, `routes.py`, `cli.py`: what users, administrateurs and operators see.

Features enqueue with `courrier.background.enqueue` and never import this package; this package imports
the features it runs.
"""
from courrier.background import HAND_OFF, connect_hand_off
from courrier.jobs.queue import EXTENSION, JobQueue


def init_jobs(app):
    """The app's queue, and the hand-off of committed jobs to it."""
    queue = JobQueue(app)
    app.extensions[EXTENSION] = queue
    app.extensions[HAND_OFF] = queue.hand_off
    connect_hand_off()
