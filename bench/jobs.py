"""Background jobs: 1,000 no-op jobs through `flask worker` on Redis, against huey's own consumer running the
same no-op function as a plain task, A/B in rounds (bench/jobs_worker.py holds both consumers).

Each round, each side: the jobs are enqueued first (courrier: the `jobs` rows in one transaction, handed to
Redis after the commit, as a request would; huey: the messages), then the consumer starts with the same
threads and polling settings, pinned to the server core; each consumer times itself from its first task's
start to its last task's completion (huey's signals), so process start-up is not counted. Courrier's side
does per job what production does: claim the row (a conditional UPDATE), run the kind's function under a
lease, record `termine` (an UPDATE on the claim's token).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from bench.scenarios import Goal, Section, log
from bench.servers import PROJECT_ROOT, SERVER_CORE, pinned

GOAL = 0.5
TIMEOUT = 300


def scenario_jobs(ctx):
    options = ctx.options
    count, threads, redis_url = options.jobs_count, options.jobs_workers, options.jobs_redis_url
    section = Section(f"jobs — {count:,} no-op jobs through `flask worker` ({threads} threads) vs huey's own "
                      f"consumer, on Redis, {ctx.dialect}")
    try:
        import redis

        redis.Redis.from_url(redis_url).ping()
    except Exception as error:  # noqa: BLE001 - no Redis, no scenario
        section.skipped = f"Redis unreachable at {redis_url}: {error}"
        return section
    url = ctx.databases.clone("jobs")
    env = ctx.app_env.for_database(url, JOBS_URL=redis_url, JOBS_WORKERS=str(threads), BENCH_JOBS=str(count))
    app = enqueuing_app(url, redis_url)
    throughput = {"courrier (flask worker)": [], "huey consumer": []}
    cpu = {"courrier (flask worker)": [], "huey consumer": []}
    try:
        for round_index in range(options.rounds):
            courrier, courrier_cpu = run_side(ctx, env, "courrier", lambda queue: enqueue_courrier(app, queue, count))
            baseline, baseline_cpu = run_side(ctx, env, "huey", lambda queue: enqueue_baseline(redis_url, queue, count))
            throughput["courrier (flask worker)"].append(count / courrier)
            throughput["huey consumer"].append(count / baseline)
            cpu["courrier (flask worker)"].append(courrier_cpu * 1000 / count)
            cpu["huey consumer"].append(baseline_cpu * 1000 / count)
            log(f"  round {round_index + 1}/{options.rounds}: courrier {count / courrier:.0f} jobs/s "
                f"({courrier_cpu * 1000 / count:.2f} ms CPU/job), huey {count / baseline:.0f} tasks/s "
                f"({baseline_cpu * 1000 / count:.2f} ms CPU/task)")
    finally:
        from courrier.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        ctx.databases.drop("jobs")
    for label, values in throughput.items():
        ordered = sorted(values)
        figures = (ordered[0], ordered[len(ordered) // 2], ordered[-1])
        section.facts.append((f"{label}, jobs/s min/med/max", " / ".join(f"{value:.0f}" for value in figures)))
        ordered = sorted(cpu[label])
        figures = (ordered[0], ordered[len(ordered) // 2], ordered[-1])
        section.facts.append((f"{label}, consumer CPU ms/job min/med/max",
                              " / ".join(f"{value:.3f}" for value in figures)))
    section.goals.append(Goal(f"jobs throughput, flask worker / huey consumer [{ctx.dialect}]",
                              [a / b for a, b in zip(*throughput.values())], GOAL,
                              cpu_values=[b / a for a, b in zip(*cpu.values())]))
    return section


def enqueuing_app(database_url, redis_url):
    """An app of the bench process, on the data set and the queue, to enqueue as a request would."""
    from courrier import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "JOBS_URL": redis_url})


def enqueue_courrier(app, queue, count):
    from courrier import background
    from courrier.extensions import db
    from courrier.jobs.queue import JobQueue

    app.config["JOBS_QUEUE"] = queue
    with app.app_context():
        hand_off = JobQueue(app).hand_off  # this round's queue
        app.extensions[background.HAND_OFF] = hand_off
        for _ in range(count):
            background.enqueue("bench.noop")
        db.session.commit()


def enqueue_baseline(redis_url, queue, count):
    from bench.jobs_worker import baseline_huey

    _, task = baseline_huey(redis_url, queue)
    for index in range(count):
        task(index)


def run_side(ctx, env, mode, enqueue):
    """Enqueue on a queue of this run, start the consumer, wait for its timing; the seconds it measured and its
    CPU seconds meanwhile."""
    queue = f"bench_{mode}_{uuid.uuid4().hex[:12]}"
    enqueue(queue)
    result = tempfile.mktemp(prefix=f"courrier-bench-jobs-{mode}-", dir=ctx.log_dir)
    log_path = os.path.join(ctx.log_dir, f"jobs-{mode}.log")
    with open(log_path, "ab") as output:
        process = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, "-m", "bench.jobs_worker", mode]),
                                   cwd=PROJECT_ROOT, env={**env, "JOBS_QUEUE": queue, "BENCH_JOBS_RESULT": result},
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(result) or not open(result).read().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jobs {mode}: no result (see {log_path})")
            time.sleep(0.05)
        with open(result) as handle:
            elapsed, cpu = (float(value) for value in handle.read().split())
            return elapsed, cpu
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        flush_queue(env["JOBS_URL"], queue)


def flush_queue(redis_url, queue):
    from huey import RedisHuey

    RedisHuey(queue, url=redis_url).flush()
