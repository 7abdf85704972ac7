"""The `login-storm` scenario (issue 16): GET /me while many people log in at once, as deployed.

Unlike the other scenarios, the server is the production one: `gunicorn -c gunicorn.conf.py` on every
core (its workers, threads and timeouts), bcrypt at cost 12. Each round measures, in turn:
- the machine's raw bcrypt capacity: `bcrypt.checkpw` in one process per core, nothing else running;
- GET /me alone on `STORM_ME_CONNECTIONS` connections;
- GET /me the same way while `STORM_LOGIN_CLIENTS` clients, each on its own account, loop on
  POST /api/auth/login with the right password (many people at 9 a.m., or guessing from many
  addresses: per-IP and per-email limits do not stop it). They do not honour Retry-After.
Goals: /me keeps half its throughput with a p99 ≤ 100 ms; logins are served at ≥ 40 % of the raw
capacity; a login the server will not hash is answered quickly (≤ 1 s), in JSON, 503 with Retry-After.
"""
import http.client
import json
import multiprocessing
import os
import statistics
import threading
import time
from datetime import datetime, timezone
from random import Random

import bcrypt

from bench.database import Seeder, user_rows
from bench.load import Request, percentile
from bench.scenarios import Goal, Section, bearer, check_errors, expect_ok, log, login
from bench.servers import PROJECT_ROOT, Server, tool

STORM_COST = 12
STORM_LOGIN_CLIENTS = 8
STORM_ME_CONNECTIONS = 4
STORM_PASSWORD = "Courant-Rafale-Ecume-58-banc"


def all_cores():
    """Every core of the machine (the bench itself is pinned to one)."""
    return set(range(os.cpu_count() or 1))


class ProductionServer(Server):
    """`gunicorn -c gunicorn.conf.py wsgi:app` on every core: the project's production settings."""

    def command(self):
        cores = ",".join(str(core) for core in sorted(all_cores()))
        return ["taskset", "-c", cores, tool("gunicorn"), "-c", os.path.join(PROJECT_ROOT, "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", "wsgi:app"]


# -- raw bcrypt capacity ------------------------------------------------------------------------------------
def _checkpw_loop(password_hash, password, duration, results):
    os.sched_setaffinity(0, all_cores())
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < duration:
        bcrypt.checkpw(password, password_hash)
        count += 1
    results.put(count / (time.perf_counter() - started))


def checkpw_capacity(password_hash, password, duration):
    """bcrypt.checkpw per second on the whole machine: one process per core, all at once."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_checkpw_loop, args=(password_hash, password, duration, results))
                 for _ in all_cores()]
    for process in processes:
        process.start()
    rates = [results.get(timeout=duration + 60) for _ in processes]
    for process in processes:
        process.join()
    return sum(rates)


# -- the storm's clients, in a process of their own (the /me load generator keeps this one) -------------------
def _storm_process(port, emails, seconds, results):
    os.sched_setaffinity(0, all_cores())
    stop_at = time.monotonic() + seconds
    samples = []
    threads = [threading.Thread(target=_login_client, args=(port, email, stop_at, samples))
               for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(samples)


def _login_client(port, email, stop_at, samples):
    """One client: POST /login again and again on a new connection; records status, JSON, Retry-After."""
    payload = json.dumps({"email": email, "password": STORM_PASSWORD}).encode()
    while time.monotonic() < stop_at:
        started = time.monotonic()
        status, is_json, code, retry_after = 0, False, None, None
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/api/auth/login", body=payload, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            status, retry_after = response.status, response.getheader("Retry-After")
            try:
                code = json.loads(raw).get("code")
                is_json = response.getheader("Content-Type", "").startswith("application/json")
            except (ValueError, AttributeError):
                pass
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        samples.append((started, time.monotonic() - started, status, is_json, code, retry_after))


class Storm:
    """`STORM_LOGIN_CLIENTS` login loops in a child process for `seconds`; `samples()` once it is over."""

    def __init__(self, port, emails, seconds):
        context = multiprocessing.get_context("fork")
        self._results = context.Queue()
        self._process = context.Process(target=_storm_process, args=(port, emails, seconds, self._results))
        self.seconds = seconds

    def __enter__(self):
        self._process.start()
        return self

    def samples(self):
        samples = self._results.get(timeout=self.seconds + 120)
        self._process.join()
        return samples

    def __exit__(self, *exc):
        if self._process.is_alive() and exc[0] is not None:
            self._process.kill()
            self._process.join()


def seed_storm_accounts(url, count):
    """`count` agents sharing one password hashed at cost 12; returns their emails."""
    password_hash = bcrypt.hashpw(STORM_PASSWORD.encode(), bcrypt.gensalt(STORM_COST)).decode()
    rows = [{**row, "password_hash": password_hash}
            for row in user_rows(count, Random(16), datetime.now(timezone.utc), prefix="bench-storm")]
    seeder = Seeder(url)
    try:
        seeder.insert("users", rows)
    finally:
        seeder.close()
    return [row["email"] for row in rows]


def summarize_logins(samples, start, end):
    """The logins that began in [start, end]: served, refused quickly, and anything else."""
    window = [sample for sample in samples if start <= sample[0] <= end]
    served = [s for s in window if s[2] == 200]
    busy = [s for s in window if s[2] == 503 and s[3] and s[4] == "service_unavailable" and s[5]]
    other = [s for s in window if s not in served and s not in busy]
    return window, served, busy, other


def scenario_login_storm(ctx):
    duration = ctx.options.duration
    section = Section(f"login storm: GET /me ({STORM_ME_CONNECTIONS} connections) while {STORM_LOGIN_CLIENTS} "
                      f"clients log in (bcrypt {STORM_COST}, production gunicorn.conf.py on {len(all_cores())} "
                      f"cores) [{ctx.dialect}]")
    url = ctx.databases.clone("storm")
    emails = seed_storm_accounts(url, STORM_LOGIN_CLIENTS)
    password_hash = bcrypt.hashpw(STORM_PASSWORD.encode(), bcrypt.gensalt(STORM_COST))
    env = ctx.app_env.for_database(url, BCRYPT_ROUNDS=str(STORM_COST), GUNICORN_ACCESS_LOG="off",
                                   GUNICORN_LOG_LEVEL="warning",
                                   PASSWORD_HASHING_LOCK_DIR=os.path.join(ctx.databases.tmpdir, "bcrypt-slots"))
    alone_runs, storm_runs = [], []
    capacities, served_rates, busy_max, p99s, others, counts = [], [], [], [], [], []
    with ProductionServer("app-storm", "wsgi:app", env, ctx.log_dir) as app:
        me = Request("GET", "/api/auth/me", bearer(login(app)))
        expect_ok(app, me)
        ctx.warm(app, me, STORM_ME_CONNECTIONS)
        for round_index in range(ctx.options.rounds):
            capacity = checkpw_capacity(password_hash, STORM_PASSWORD.encode(), min(duration, 3))
            capacities.append(capacity)
            alone = ctx.load(app, me, STORM_ME_CONNECTIONS)
            alone_runs.append(alone)
            lead_in = 1.5  # the storm reaches its steady state before /me is measured
            with Storm(app.port, emails, lead_in + duration + 0.5) as storm:
                time.sleep(lead_in)
                start = time.monotonic()
                during = ctx.load(app, me, STORM_ME_CONNECTIONS)
                end = time.monotonic()
                samples = storm.samples()
            storm_runs.append(during)
            window, served, busy, other = summarize_logins(samples, start, end)
            served_rates.append(len(served) / (end - start))
            busy_max.append(max((s[1] for s in busy), default=0.0))
            p99s.append(during.p99_ms)
            others.append(len(other))
            counts.append((len(window), len(served), len(busy), len(other),
                           percentile(sorted(s[1] for s in served), 50) * 1000 if served else 0.0,
                           percentile(sorted(s[1] for s in busy), 50) * 1000 if busy else 0.0))
            log(f"  round {round_index + 1}/{ctx.options.rounds}: checkpw capacity {capacity:.1f}/s; /me alone "
                f"{alone.rps:.1f} req/s p99 {alone.p99_ms:.1f} ms; during the storm {during.rps:.1f} req/s p99 "
                f"{during.p99_ms:.1f} ms; logins {len(window)}: {len(served)} served ({served_rates[-1]:.2f}/s), "
                f"{len(busy)} 503 (slowest {busy_max[-1] * 1000:.0f} ms), {len(other)} other")
            if other:
                section.notes.append(f"WARNING: round {round_index + 1}: answers other than 200 or a JSON 503 with "
                                     f"Retry-After: {sorted({(s[2], s[4]) for s in other}, key=str)}")
    ctx.databases.drop("storm")
    section.runs = {"GET /me alone": alone_runs, f"GET /me during {STORM_LOGIN_CLIENTS} login loops": storm_runs}
    section.facts += [
        ("raw bcrypt.checkpw/s on all cores (min / median / max)", _triple(capacities, "{:.1f}")),
        ("logins per round: begun / served / 503 / other",
         "; ".join(f"{c[0]} / {c[1]} / {c[2]} / {c[3]}" for c in counts)),
        ("login p50 ms per round: served / 503", "; ".join(f"{c[4]:.0f} / {c[5]:.0f}" for c in counts)),
        ("logins served per second (min / median / max)", _triple(served_rates, "{:.2f}")),
    ]
    section.goals += [
        Goal(f"login storm: me req/s storm/alone [{ctx.dialect}]",
             [b.rps / a.rps if a.rps else float("nan") for a, b in zip(alone_runs, storm_runs)], 0.5),
        Goal(f"login storm: me p99 during the storm [{ctx.dialect}]", p99s, 100.0, higher_is_better=False,
             unit=" ms"),
        Goal(f"login storm: logins served / raw checkpw capacity [{ctx.dialect}]",
             [rate / capacity for rate, capacity in zip(served_rates, capacities)], 0.4),
        Goal(f"login storm: slowest 503 login [{ctx.dialect}]", busy_max, 1.0, higher_is_better=False, unit=" s"),
        Goal(f"login storm: logins answered otherwise (5xx, no JSON, no Retry-After) [{ctx.dialect}]",
             [float(count) for count in others], 0.0, higher_is_better=False, unit=""),
    ]
    check_errors(section)
    return section


def _triple(values, fmt):
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values))) if values else "-"
