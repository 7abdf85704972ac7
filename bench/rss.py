"""The weight of a worker (issue 22): its VmRSS after 10,000 GET /api/auth/me, beside the baseline's.

Each server is started afresh (one worker), answers `--rss-requests` GET /api/auth/me on two
connections, and the worker's VmRSS is read from /proc/<pid>/status after the last answer (VmHWM, its
peak, beside it). Measured three ways: the stateless flask-jwt-extended baseline, the app in the
bench's sync worker (the goal), and the app under the project's gunicorn.conf.py with one worker
(gthread, 8 threads: the production settings).
"""
import http.client
import os
import threading
import time

from bench import baseline_app
from bench.load import LoadResult, Request, percentile
from bench.scenarios import Goal, Section, bearer, expect_ok, log, login
from bench.servers import (
    LOAD_CORE, PROJECT_ROOT, SERVER_CORE, Server, pin_self, pinned, read_cpu_seconds, read_status_kb, tool,
)

GOAL_MIB = 80


class ProductionWorker(Server):
    """`gunicorn -c gunicorn.conf.py` with one worker (gthread, its threads), pinned like the others."""

    def command(self):
        return pinned(SERVER_CORE, [tool("gunicorn"), "-c", os.path.join(PROJECT_ROOT, "gunicorn.conf.py"),
                                    "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "--no-control-socket",
                                    "--access-logfile", "/dev/null", "wsgi:app"])


def send_requests(port, request, count, connections=2):
    """Exactly `count` requests over `connections` threads (reconnecting when the server closes)."""
    remaining = [count]
    lock = threading.Lock()
    latencies, errors = [], [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                conn.request(request.method, request.path, headers=request.headers)
                response = conn.getresponse()
                response.read()
                if not 200 <= response.status < 300:
                    errors[0] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                continue
            latencies.append(time.perf_counter() - started)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = sorted(latencies)
    return LoadResult(requests=len(values), seconds=time.perf_counter() - started,
                      p50_ms=percentile(values, 50) * 1000, p99_ms=percentile(values, 99) * 1000,
                      max_ms=values[-1] * 1000 if values else 0.0, errors=errors[0], details={"generator": "python"})


def measure(server, request, count):
    """(LoadResult with rss_kb = VmRSS after `count` requests, VmRSS at start, VmHWM after)."""
    pid = server.worker_pid()
    start_kb = read_status_kb(pid, "VmRSS")
    cpu_before = read_cpu_seconds(pid)
    result = send_requests(server.port, request, count)
    cpu_after = read_cpu_seconds(pid)
    time.sleep(0.2)  # let the last answer's buffers go back
    result.rss_kb = read_status_kb(pid, "VmRSS")
    result.details["start_kb"] = start_kb
    result.details["hwm_kb"] = read_status_kb(pid, "VmHWM")
    if cpu_before is not None and cpu_after is not None:
        result.cpu_seconds = cpu_after - cpu_before
    return result


def scenario_worker_rss(ctx):
    count = ctx.options.rss_requests
    section = Section(f"worker VmRSS after {count:,} GET /api/auth/me, one worker each [{ctx.dialect}]")
    pin_self(LOAD_CORE)
    url = ctx.databases.clone("rss")
    results = {}
    try:
        with ctx.app_server("app-rss", url) as app:
            token = login(app)
            app_request = Request("GET", "/api/auth/me", bearer(token))
            user = expect_ok(app, app_request)["data"]
            log(f"  app (sync worker): {count:,} GET /me…")
            results["app (sync worker)"] = measure(app, app_request, count)
        base_request = Request("GET", "/api/auth/me",
                               bearer(baseline_app.mint_token(ctx.app_env.jwt_secret_key, user)))
        with ctx.baseline_server("baseline-rss") as base:
            expect_ok(base, base_request)
            log(f"  baseline (stateless JWT): {count:,} GET /me…")
            results["baseline (stateless JWT)"] = measure(base, base_request, count)
        production = ProductionWorker("app-rss-gthread", "wsgi:app", ctx.app_env.for_database(url), ctx.log_dir)
        with production:
            expect_ok(production, app_request)
            log(f"  app (gunicorn.conf.py, gthread): {count:,} GET /me…")
            results["app (gunicorn.conf.py: gthread, 8 threads)"] = measure(production, app_request, count)
    finally:
        ctx.databases.drop("rss")
    section.runs = {label: [result] for label, result in results.items()}
    for label, result in results.items():
        section.facts.append((f"{label}: VmRSS before the requests / after / VmHWM",
                              f"{result.details['start_kb'] / 1024:.1f} / {result.rss_kb / 1024:.1f} / "
                              f"{result.details['hwm_kb'] / 1024:.1f} MiB"))
    app_kb = results["app (sync worker)"].rss_kb
    base_kb = results["baseline (stateless JWT)"].rss_kb
    section.facts.append(("app / baseline (sync workers)", f"{app_kb / base_kb:.2f}×"))
    section.goals.append(Goal(f"worker RSS after {count:,} /me, MiB [{ctx.dialect}] (baseline {base_kb / 1024:.1f})",
                              [app_kb / 1024], GOAL_MIB, higher_is_better=False, unit=" MiB"))
    for label, result in results.items():
        if result.errors:
            section.notes.append(f"WARNING: {label}: {result.errors} non-2xx or socket errors")
    return section
