"""The two consumers of the jobs scenario (bench/jobs.py), each timing its own run with huey's signals.

`python -m bench.jobs_worker courrier`: what `flask worker` runs (courrier.jobs.cli.run_worker) on the app of
the environment, with a no-op kind `bench.noop` added to the table of kinds (bench only) and no periodic task.
`python -m bench.jobs_worker huey`: huey's own consumer on the same Redis with the same no-op function as a
plain huey task (`baseline_huey`), no app, no database.

Both record the moment their first task starts and the moment the BENCH_JOBS-th one completes, and write
the seconds between to BENCH_JOBS_RESULT, with the process's CPU seconds (all threads) over the same span.
"""
import os
import sys
import threading
import time

from huey import RedisHuey, signals

TASK_NAMES = {"courrier": "courrier.job", "huey": "noop"}


def noop(*_args):
    """The work of every job of the scenario: none."""
    return None


def baseline_huey(url, queue):
    """huey's own: a RedisHuey with the no-op as a task (the bench process enqueues through the same)."""
    huey = RedisHuey(queue, url=url, results=False, utc=True)
    task = huey.task(name="noop")(noop)
    return huey, task


class Timing:
    """From the first start of `name` to the `total`-th completion, written to `path`."""

    def __init__(self, name, total, path):
        self.name, self.total, self.path = name, total, path
        self.lock = threading.Lock()
        self.started = self.cpu_started = None
        self.done = 0

    def connect(self, huey):
        huey.signal(signals.SIGNAL_EXECUTING)(self.executing)
        huey.signal(signals.SIGNAL_COMPLETE)(self.complete)

    def executing(self, signal, task, *args):
        if type(task).__name__ == self.name and self.started is None:
            with self.lock:
                if self.started is None:
                    self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def complete(self, signal, task, *args):
        if type(task).__name__ != self.name:
            return
        with self.lock:
            self.done += 1
            if self.done == self.total:
                elapsed, cpu = time.perf_counter() - self.started, time.process_time() - self.cpu_started
                with open(self.path, "w") as handle:
                    handle.write(f"{elapsed:.6f} {cpu:.6f}\n")


def main(mode):
    timing = Timing(TASK_NAMES[mode], int(os.environ["BENCH_JOBS"]), os.environ["BENCH_JOBS_RESULT"])
    workers = int(os.environ["JOBS_WORKERS"])
    if mode == "huey":
        huey, _ = baseline_huey(os.environ["JOBS_URL"], os.environ["JOBS_QUEUE"])
        timing.connect(huey)
        huey.create_consumer(workers=workers, worker_type="thread", periodic=False, initial_delay=0.05,
                             max_delay=1.0).run()
        return
    from courrier import create_app
    from courrier.background import Result
    from courrier.jobs import kinds, periodic
    from courrier.jobs.cli import run_worker
    from courrier.jobs.queue import queue_of

    kinds.KINDS["bench.noop"] = kinds.Kind(lambda job: Result(noop() or "Fait."), "Rien (banc d'essai)")
    periodic.PERIODIC = ()
    app = create_app()
    timing.connect(queue_of(app).huey)
    run_worker(app, workers=workers, worker_type="thread")


if __name__ == "__main__":
    # Through the module's own name, so that the no-op task is named as the bench process enqueued it.
    from bench import jobs_worker

    jobs_worker.main(sys.argv[1])
