"""A `flask worker` for tests/system/test_jobs_worker.py, with two job kinds of the tests' own.

`python -m tests.system.jobs_worker` runs what `flask worker` runs (courrier.jobs.cli.run_worker) on the
app of the environment, after adding to the table of kinds (never in production code):
- `test.lent`: writes `start <job> <pid>` to TEST_JOBS_LOG, waits for the file TEST_JOBS_RELEASE, writes
  `done <job> <pid>`;
- with TEST_JOBS_PERIODIC=1, a periodic task `test.periodique` every second writing `period <period> <pid>`.
"""
import os
import time

from courrier import create_app
from courrier.background import Result
from courrier.jobs import kinds, periodic
from courrier.jobs.cli import run_worker

LOG = os.environ["TEST_JOBS_LOG"]


def note(line):
    with open(LOG, "a") as handle:  # O_APPEND: each line written whole, whichever process writes
        handle.write(line + "\n")


def slow(job):
    note(f"start {job.id} {os.getpid()}")
    while not os.path.exists(os.environ["TEST_JOBS_RELEASE"]):
        time.sleep(0.05)
    note(f"done {job.id} {os.getpid()}")
    return Result("Fait.")


def every_second(job):
    note(f"period {job.period} {os.getpid()}")
    return Result("Fait.")


if __name__ == "__main__":
    kinds.KINDS["test.lent"] = kinds.Kind(slow, "Essai lent")
    settings = {}
    if os.environ.get("TEST_JOBS_PERIODIC") == "1":
        kinds.KINDS["test.periodique"] = kinds.Kind(every_second, "Essai périodique")
        periodic.PERIODIC += (periodic.Periodic("test.periodique", periodic.Every("TEST_JOBS_INTERVAL")),)
        settings["TEST_JOBS_INTERVAL"] = 1
    run_worker(create_app(settings), workers=2, worker_type=os.environ.get("TEST_JOBS_WORKER_TYPE", "thread"))
