"""The scenarios of issue 7; each returns a `Section` (runs per variant, goals with per-round values)."""
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

import bcrypt

from bench import baseline_app
from bench.database import (
    Seeder, count_rows, pin_database_backends, seed_documents, seed_register, seed_services, seed_sessions,
)
from bench.load import Request, percentile, run_load
from bench.servers import (
    APP_VARIABLES, LOAD_CORE, PROJECT_ROOT, SERVER_CORE, RssSampler, Server, http_request, pin_self, pinned,
    read_cpu_seconds, read_status_kb, tool,
)

ADMIN = {"email": "bench-admin@example.com", "nom": "Banc", "prenom": "Essai",
         "password": "Tournesol-Quai-Brume-42-banc"}
# The password of the agent the services scenario logs in as (a seeded user, hashed at the bench's cost).
SERVICES_AGENT_PASSWORD = "Lanterne-Givre-Osier-17-banc"


@dataclass
class Goal:
    name: str
    values: list  # one per round (or a single measurement)
    target: float
    higher_is_better: bool = True
    unit: str = "×"
    cpu_values: list = field(default_factory=list)  # the same ratio from worker CPU time per request

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    @property
    def cpu_median(self):
        values = [v for v in self.cpu_values if v is not None]
        return statistics.median(values) if values else None

    @property
    def passed(self):
        if self.median is None:
            return None
        return self.median >= self.target if self.higher_is_better else self.median <= self.target


@dataclass
class Section:
    title: str
    runs: dict = field(default_factory=dict)  # variant label -> [LoadResult]
    goals: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    facts: list = field(default_factory=list)  # (label, value) lines printed under the table
    skipped: str | None = None


class Context:
    """What every scenario needs: options, databases, the app environment and a log folder."""

    def __init__(self, options, databases, app_env, log_dir):
        self.options = options
        self.databases = databases
        self.app_env = app_env
        self.log_dir = log_dir
        self.handover = {}  # data sets one scenario leaves to a later one

    @property
    def dialect(self):
        return self.databases.dialect

    def app_server(self, name, database_url):
        return Server(name, "wsgi:app", self.app_env.for_database(database_url), self.log_dir)

    def baseline_server(self, name):
        env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
        env.update(JWT_SECRET_KEY=self.app_env.jwt_secret_key, PYTHONUNBUFFERED="1")
        return Server(name, "bench.baseline_app:app", env, self.log_dir)

    def load(self, server, request, connections=None, duration=None):
        """One load run against `server`, sampling its worker's RSS meanwhile."""
        pid = server.worker_pid()
        cpu_before = read_cpu_seconds(pid)
        with RssSampler(pid) as sampler:
            result = run_load(server.port, request, duration or self.options.duration,
                              connections or self.options.connections, self.options.generator)
        cpu_after = read_cpu_seconds(pid)
        result.rss_kb = sampler.peak_kb
        if cpu_before is not None and cpu_after is not None:
            result.cpu_seconds = cpu_after - cpu_before
        return result

    def warm(self, server, request, connections=None):
        if self.options.warmup > 0:
            self.load(server, request, connections, duration=self.options.warmup)
        database_url = server.env.get("DATABASE_URL", "")
        if database_url.startswith("postgresql"):
            # After the warm-up, the worker's connection exists: its backend joins it on the server core.
            pin_database_backends(database_url, SERVER_CORE)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def login(server, email=ADMIN["email"], password=ADMIN["password"]):
    status, body, _ = http_request(server.port, "POST", "/api/auth/login", {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"{server.name}: login answered {status}: {body}")
    return body["data"]["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def expect_ok(server, request):
    """The request answers 2xx before it is measured; returns the parsed body."""
    status, body, _ = http_request(server.port, request.method, request.path, request.body and json.loads(request.body),
                                   {k: v for k, v in request.headers.items() if k != "Content-Type"})
    if not 200 <= status < 300:
        raise RuntimeError(f"{server.name}: {request.method} {request.path} answered {status}: {body}")
    return body


def alternate(ctx, variants, connections=None):
    """A/B/A/B: for each round, one run of each variant in turn. `variants`: [(label, server, request)]."""
    runs = {label: [] for label, _, _ in variants}
    for label, server, request in variants:
        ctx.warm(server, request, connections)
    for round_index in range(ctx.options.rounds):
        for label, server, request in variants:
            result = ctx.load(server, request, connections)
            runs[label].append(result)
            log(f"  round {round_index + 1}/{ctx.options.rounds} {label}: {result.rps:.1f} req/s, "
                f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}")
    return runs


def ratios(numerators, denominators, attribute="rps"):
    return [getattr(a, attribute) / getattr(b, attribute) if getattr(b, attribute) else float("nan")
            for a, b in zip(numerators, denominators)]


def cpu_ratios(faster, slower):
    """Throughput ratio implied by worker CPU per request: cpu(slower side) / cpu(other side)."""
    values = []
    for a, b in zip(faster, slower):
        x, y = a.cpu_ms_per_request, b.cpu_ms_per_request
        values.append(y / x if x and y else None)
    return values


def check_errors(section):
    for label, results in section.runs.items():
        errors = sum(result.errors for result in results)
        if errors:
            section.notes.append(f"WARNING: {label}: {errors} non-2xx or socket errors during the runs")


# -- GET /api/auth/me: full session check vs the stateless baseline ------------------------------------------
def scenario_me(ctx):
    """Throughput of GET /me against the baseline; the peak RSS of the runs is printed (the goal: `rss`)."""
    target = 0.85 if ctx.dialect == "sqlite" else 0.75
    section = Section(f"GET /api/auth/me — session check vs stateless baseline [{ctx.dialect}]")
    url = ctx.databases.clone("me")
    with ctx.app_server("app-me", url) as app, ctx.baseline_server("baseline") as base:
        token = login(app)
        app_request = Request("GET", "/api/auth/me", bearer(token))
        user = expect_ok(app, app_request)["data"]
        base_request = Request("GET", "/api/auth/me", bearer(baseline_app.mint_token(ctx.app_env.jwt_secret_key, user)))
        base_user = expect_ok(base, base_request)["data"]
        section.facts.append(("Authorization token length app / baseline (the baseline's carries the user)",
                              f"{len(token)} / {len(base_request.headers['Authorization']) - 7} bytes"))
        if base_user != user:
            section.notes.append(f"baseline user differs from the app's: {base_user} != {user}")
        runs = alternate(ctx, [("baseline (stateless JWT)", base, base_request),
                               ("app (session check)", app, app_request)])
    ctx.databases.drop("me")
    section.runs = runs
    base_runs, app_runs = runs["baseline (stateless JWT)"], runs["app (session check)"]
    section.goals.append(Goal(f"me req/s app/baseline [{ctx.dialect}]", ratios(app_runs, base_runs), target,
                              cpu_values=cpu_ratios(app_runs, base_runs)))
    check_errors(section)
    return section


# -- Login vs raw bcrypt.checkpw ------------------------------------------------------------------------
def checkpw_rate(password_hash, password, duration):
    """bcrypt.checkpw calls per second in this process, pinned to the server core (idle meanwhile)."""
    pin_self(SERVER_CORE)
    try:
        count, started, cpu_started = 0, time.perf_counter(), time.thread_time()
        while True:
            bcrypt.checkpw(password, password_hash)
            count += 1
            elapsed = time.perf_counter() - started
            if elapsed >= duration:
                return count / elapsed, (time.thread_time() - cpu_started) * 1000 / count
    finally:
        pin_self(LOAD_CORE)


def scenario_login(ctx):
    rounds = ctx.app_env.bcrypt_rounds
    section = Section(f"POST /api/auth/login vs raw bcrypt.checkpw (cost {rounds}) [{ctx.dialect}]")
    password = ADMIN["password"].encode()
    password_hash = bcrypt.hashpw(password, bcrypt.gensalt(rounds))
    url = ctx.databases.clone("login")
    body = json.dumps({"email": ADMIN["email"], "password": ADMIN["password"]}).encode()
    request = Request("POST", "/api/auth/login", {"Content-Type": "application/json"}, body)
    rates, cpu_per_check = [], []
    with ctx.app_server("app-login", url) as app:
        expect_ok(app, request)
        ctx.warm(app, request)
        checkpw_rate(password_hash, password, min(1.0, ctx.options.duration))
        logins = []
        for round_index in range(ctx.options.rounds):
            rate, cpu_ms = checkpw_rate(password_hash, password, ctx.options.duration)
            rates.append(rate)
            cpu_per_check.append(cpu_ms)
            log(f"  round {round_index + 1}/{ctx.options.rounds} bcrypt.checkpw: {rate:.1f}/s, "
                f"{cpu_ms:.1f} ms CPU each")
            result = ctx.load(app, request)
            logins.append(result)
            log(f"  round {round_index + 1}/{ctx.options.rounds} login: {result.rps:.1f} req/s, "
                f"p50 {result.p50_ms:.1f} ms, errors {result.errors}")
    ctx.databases.drop("login")
    section.runs = {"POST /api/auth/login": logins}
    section.facts.append(("bcrypt.checkpw/s in process (min / median / max)",
                          " / ".join(f"{v:.1f}" for v in (min(rates), statistics.median(rates), max(rates)))))
    section.facts.append(("bcrypt.checkpw CPU ms each (min / median / max)",
                          " / ".join(f"{v:.1f}" for v in (min(cpu_per_check), statistics.median(cpu_per_check),
                                                          max(cpu_per_check)))))
    section.goals.append(Goal(f"login req/s / bcrypt.checkpw/s [{ctx.dialect}]",
                              [r.rps / rate for r, rate in zip(logins, rates)], 0.9,
                              cpu_values=[cpu / r.cpu_ms_per_request if r.cpu_ms_per_request else None
                                          for r, cpu in zip(logins, cpu_per_check)]))
    check_errors(section)
    return section


# -- /me with 1,000 vs 1,000,000 session rows -------------------------------------------------------------
def scenario_sessions_scale(ctx):
    """Both tables hold dead sessions (expired or revoked, like a table nobody pruned) plus the live one
    the bench logs in with. The large one is then handed to the prune scenario when it runs too."""
    small, large = ctx.options.sessions_small, ctx.options.sessions_large
    section = Section(f"GET /api/auth/me with {small:,} vs {large:,} session rows [{ctx.dialect}]")
    datasets = []
    for count in (small, large):
        name = f"sessions{count}"
        url = ctx.databases.clone(name)
        log(f"  seeding {count:,} dead sessions…")
        seconds = seed_sessions(url, count, dead_only=True)
        section.facts.append((f"seeding {count:,} sessions (+1,000 users)", f"{seconds:.1f} s"))
        if count >= 1_000_000:
            section.goals.append(Goal(f"bench: seeding {count:,} sessions [{ctx.dialect}]", [seconds], 60.0,
                                      higher_is_better=False, unit=" s"))
        datasets.append((f"{count:,} sessions", name, url))
    variants = []
    servers = []
    try:
        for label, name, url in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            request = Request("GET", "/api/auth/me", bearer(login(server)))
            expect_ok(server, request)
            variants.append((label, server, request))
        section.runs = alternate(ctx, variants)
    finally:
        for server in servers:
            server.stop()
    for _, name, url in datasets:
        section.facts.append((f"rows in sessions ({name})", f"{count_rows(url, 'sessions'):,}"))
    ctx.databases.drop(datasets[0][1])
    large_name, large_url = datasets[1][1], datasets[1][2]
    if "prune" in ctx.options.scenarios and large == ctx.options.prune_rows:
        ctx.handover["prune"] = (large_name, large_url)
    else:
        ctx.databases.drop(large_name)
    small_runs, large_runs = section.runs[datasets[0][0]], section.runs[datasets[1][0]]
    section.goals.insert(0, Goal(f"me req/s {large:,}/{small:,} sessions [{ctx.dialect}]",
                                 ratios(large_runs, small_runs), 0.95, cpu_values=cpu_ratios(large_runs, small_runs)))
    check_errors(section)
    return section


# -- GET /api/documents with 1,000 vs 100,000 documents ----------------------------------------------------
def scenario_documents(ctx):
    small, large = ctx.options.documents_small, ctx.options.documents_large
    query = ctx.options.documents_query
    section = Section(f"GET /api/documents?{query} with {small:,} vs {large:,} documents [{ctx.dialect}]")
    path = f"/api/documents?{query}"
    probe_url = ctx.databases.clone("documents-probe")
    try:
        with ctx.app_server("app-documents-probe", probe_url) as probe:
            status, body, _ = http_request(probe.port, "GET", path, headers=bearer(login(probe)))
    finally:
        ctx.databases.drop("documents-probe")
    if status in (404, 405) or (status == 200 and not isinstance(body, dict)):
        section.skipped = f"GET /api/documents is not implemented yet (answered {status})"
        return section
    datasets = []
    for count in (small, large):
        name = f"documents{count}"
        url = ctx.databases.clone(name)
        log(f"  seeding {count:,} documents…")
        seconds = seed_documents(url, count)
        section.facts.append((f"seeding {count:,} documents", f"{seconds:.1f} s"))
        datasets.append((f"{count:,} documents", name, url))
    variants, servers = [], []
    try:
        for label, name, url in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            request = Request("GET", path, bearer(login(server)))
            body = expect_ok(server, request)
            meta = body.get("meta", {}) if isinstance(body, dict) else {}
            section.facts.append((f"{label}: matches (meta.total) / rows returned",
                                  f"{meta.get('total')} / {len(body.get('data') or [])}"))
            variants.append((label, server, request))
        # One connection: p50 is the service time, not queueing behind a second client.
        section.runs = alternate(ctx, variants, connections=1)
    finally:
        for server in servers:
            server.stop()
    for _, name, _ in datasets:
        ctx.databases.drop(name)
    small_runs, large_runs = section.runs[datasets[0][0]], section.runs[datasets[1][0]]
    section.goals.append(Goal(f"documents p50 {large:,}/{small:,} [{ctx.dialect}]",
                              ratios(large_runs, small_runs, "p50_ms"), 2.0, higher_is_better=False))
    check_errors(section)
    return section


# -- GET /api/documents as an agent of one service, 1,000 vs 100,000 letters over 50 services ---------------
def scenario_services(ctx):
    """Issue 12: the register filtered by visibility (registered, responsable, treating service, copies),
    for an agent member of one service out of 50, with 500 users; p50 on one connection."""
    small, large = ctx.options.services_small, ctx.options.services_large
    services, users = ctx.options.services_count, ctx.options.services_users
    query = ctx.options.services_query
    section = Section(f"GET /api/documents?{query} as an agent of 1 of {services} services, {small:,} vs "
                      f"{large:,} letters, {users} users [{ctx.dialect}]")
    path = f"/api/documents?{query}"
    seeder = Seeder(ctx.databases.template_url)
    try:
        missing = [t for t in ("services", "service_members", "document_copy_services", "document_copy_users")
                   if t not in seeder.metadata.tables]
        has_columns = {"service_id", "responsable_id"} <= set(seeder.metadata.tables["documents"].columns.keys())
    finally:
        seeder.close()
    if missing or not has_columns:
        section.skipped = f"no services schema yet (missing tables {missing}, documents.service_id: {has_columns})"
        return section
    password_hash = bcrypt.hashpw(SERVICES_AGENT_PASSWORD.encode(), bcrypt.gensalt(ctx.app_env.bcrypt_rounds)).decode()
    datasets = []
    for count in (small, large):
        name = f"services{count}"
        url = ctx.databases.clone(name)
        log(f"  seeding {services} services, {users} users, {count:,} letters…")
        seeded = seed_services(url, count, services, users, agent_password_hash=password_hash)
        section.facts.append((f"seeding {count:,} letters ({services} services, {users} users, copies "
                              f"services / users {seeded['copies'][0]:,} / {seeded['copies'][1]:,})",
                              f"{seeded['seconds']:.1f} s"))
        datasets.append((f"{count:,} letters", name, url, seeded))
    variants, servers = [], []
    try:
        for label, name, url, seeded in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            request = Request("GET", path, bearer(login(server, seeded["agent_email"], SERVICES_AGENT_PASSWORD)))
            body = expect_ok(server, request)
            meta = body.get("meta", {}) if isinstance(body, dict) else {}
            section.facts.append((f"{label}: visible to the agent of {seeded['agent_service']} (meta.total) / "
                                  f"expected from the seeded rows / rows returned",
                                  f"{meta.get('total')} / {seeded['visible']} / {len(body.get('data') or [])}"))
            if meta.get("total") != seeded["visible"]:
                section.notes.append(f"WARNING: {label}: meta.total {meta.get('total')} but the seeded rows give "
                                     f"{seeded['visible']} letters visible to that agent")
            variants.append((label, server, request))
        # One connection: p50 is the service time, not queueing behind a second client.
        section.runs = alternate(ctx, variants, connections=1)
    finally:
        for server in servers:
            server.stop()
    for _, name, _, _ in datasets:
        ctx.databases.drop(name)
    small_runs, large_runs = section.runs[datasets[0][0]], section.runs[datasets[1][0]]
    # On SQLite the queries run in the worker, so its CPU per request is the (steadier) service time; on
    # PostgreSQL the backend does the work and the worker's CPU says nothing about it.
    cpu = cpu_ratios(small_runs, large_runs) if ctx.dialect == "sqlite" else []
    section.goals.append(Goal(f"documents by service p50 {large:,}/{small:,} [{ctx.dialect}]",
                              ratios(large_runs, small_runs, "p50_ms"), 2.0, higher_is_better=False, cpu_values=cpu))
    check_errors(section)
    return section


# -- GET /api/bannettes as an agent and as a validateur, 1,000 vs 100,000 letters ----------------------------
# (who, key of their email, key of their service) in what seed_services returns.
BANNETTES_CALLERS = (("agent", "agent_email", "agent_service"),
                     ("validateur", "validateur_email", "validateur_service"))


def scenario_bannettes(ctx):
    """Issue 13: the caller's work queues counted in one statement over the letters they may see, for an
    agent of one service and a validateur of one direction (its subtree); p50 on one connection."""
    small, large = ctx.options.bannettes_small, ctx.options.bannettes_large
    services, users = ctx.options.services_count, ctx.options.services_users
    section = Section(f"GET /api/bannettes as an agent of 1 of {services} services and a validateur of a direction, "
                      f"{small:,} vs {large:,} letters, {users} users [{ctx.dialect}]")
    seeder = Seeder(ctx.databases.template_url)
    try:
        missing = [t for t in ("services", "service_members", "document_copy_services", "document_copy_users",
                               "document_reads") if t not in seeder.metadata.tables]
        columns = set(seeder.metadata.tables["documents"].columns.keys())
        has_columns = {"service_id", "responsable_id", "echeance", "traitement_etat"} <= columns
    finally:
        seeder.close()
    if missing or not has_columns:
        section.skipped = (f"no treatment schema yet (missing tables {missing}, documents.echeance and "
                           f"traitement_etat: {has_columns})")
        return section
    password_hash = bcrypt.hashpw(SERVICES_AGENT_PASSWORD.encode(), bcrypt.gensalt(ctx.app_env.bcrypt_rounds)).decode()
    datasets = []
    for count in (small, large):
        name = f"bannettes{count}"
        url = ctx.databases.clone(name)
        log(f"  seeding {services} services, {users} users, {count:,} letters with statut, deadline, treatment…")
        seeded = seed_services(url, count, services, users, agent_password_hash=password_hash, treatment=True)
        if "validateur_email" not in seeded:
            raise RuntimeError(f"--services-users {users} leaves the first direction without a member")
        section.facts.append((f"seeding {count:,} letters ({services} services, {users} users, copies services / "
                              f"users {seeded['copies'][0]:,} / {seeded['copies'][1]:,}, reads {seeded['reads']:,})",
                              f"{seeded['seconds']:.1f} s"))
        datasets.append((count, name, url, seeded))
    variants, servers, labels = [], [], {}
    try:
        for count, name, url, seeded in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            for who, email_key, service_key in BANNETTES_CALLERS:
                label = f"{who}, {count:,} letters"
                labels[(who, count)] = label
                request = Request("GET", "/api/bannettes", bearer(login(server, seeded[email_key],
                                                                        SERVICES_AGENT_PASSWORD)))
                body = expect_ok(server, request)
                counts = {item["code"]: item["count"] for item in (body.get("data") or [])}
                expected = dict(seeded["expected"][who])
                visible = expected.pop("visible")
                section.facts.append((f"{label}: counts ({who} of {seeded[service_key]}"
                                      + (f", subtree of {seeded['validateur_subtree']} services" if who == "validateur"
                                         else "") + f", {visible:,} letters visible)",
                                      ", ".join(f"{code} {value:,}" for code, value in counts.items())))
                if counts != expected:
                    section.notes.append(f"WARNING: {label}: GET /api/bannettes gave {counts}, the seeded rows give "
                                         f"{expected} (as of {seeded['today']}, Europe/Paris)")
                variants.append((label, server, request))
        # One connection: p50 is the service time, not queueing behind a second client.
        section.runs = alternate(ctx, variants, connections=1)
    finally:
        for server in servers:
            server.stop()
    for _, name, _, _ in datasets:
        ctx.databases.drop(name)
    for who, _, _ in BANNETTES_CALLERS:
        small_runs, large_runs = section.runs[labels[(who, small)]], section.runs[labels[(who, large)]]
        # As in `services`: on SQLite the worker's CPU per request is the service time, not on PostgreSQL.
        cpu = cpu_ratios(small_runs, large_runs) if ctx.dialect == "sqlite" else []
        section.goals.append(Goal(f"bannettes p50 {large:,}/{small:,} ({who}) [{ctx.dialect}]",
                                  ratios(large_runs, small_runs, "p50_ms"), 2.0, higher_is_better=False,
                                  cpu_values=cpu))
    check_errors(section)
    return section


# -- GET /api/registre?format=pdf of 100,000 letters: elapsed time and the worker's memory growth -----------
def download(server, path, headers, timeout=600):
    """One GET read to the end; returns (status, headers, body bytes, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), body, time.perf_counter() - started
    finally:
        conn.close()


def scenario_registre(ctx):
    """Issue 14: the register of one type and year as a PDF, from a real gunicorn worker, as an
    administrateur. One request: its elapsed time, and the worker's peak VmRSS (sampled every 100 ms)
    minus its VmRSS just before, after a login and a warm-up request."""
    count, kind = ctx.options.registre_letters, ctx.options.registre_type
    section = Section(f"GET /api/registre?type={kind}&format=pdf with {count:,} letters [{ctx.dialect}]")
    seeder = Seeder(ctx.databases.template_url)
    try:
        columns = set(seeder.metadata.tables["documents"].columns.keys())
        has_columns = {"nature", "service_id", "traitement_etat"} <= columns
    finally:
        seeder.close()
    if not has_columns:
        section.skipped = "no documents.nature yet (issue 14 schema)"
        return section
    name = f"registre{count}"
    url = ctx.databases.clone(name)
    log(f"  seeding {count:,} {kind} letters of this year…")
    seeded = seed_register(url, count, kind)
    section.facts.append((f"seeding {count:,} letters", f"{seeded['seconds']:.1f} s"))
    path = f"/api/registre?type={kind}&format=pdf"
    try:
        with ctx.app_server(f"app-{name}", url) as server:
            headers = bearer(login(server))
            warm = expect_ok(server, Request("GET", "/api/auth/me", headers))
            if not warm.get("success"):
                raise RuntimeError(f"warm-up request failed: {warm}")
            database_url = server.env.get("DATABASE_URL", "")
            if database_url.startswith("postgresql"):
                pin_database_backends(database_url, SERVER_CORE)
            pid = server.worker_pid()
            before_kb = read_status_kb(pid, "VmRSS")
            cpu_before = read_cpu_seconds(pid)
            log(f"  GET {path} (worker VmRSS {before_kb / 1024:.1f} MB)…")
            with RssSampler(pid) as sampler:
                status, response_headers, body, seconds = download(server, path, headers)
            cpu_after = read_cpu_seconds(pid)
            after_kb = read_status_kb(pid, "VmRSS")
    finally:
        ctx.databases.drop(name)
    if status != 200 or not body.startswith(b"%PDF-"):
        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
    peak_kb = max(sampler.peak_kb or 0, after_kb or 0)
    growth_mb = (peak_kb - before_kb) / 1024
    pages = len(re.findall(rb"/Type /Page\b", body))
    log(f"  {seconds:.1f} s, {len(body) / 1e6:.1f} MB, {pages:,} pages, worker RSS +{growth_mb:.1f} MB")
    cpu = (cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else float("nan")
    section.facts += [
        ("response", f"{len(body) / 1e6:.1f} MB, {pages:,} pages, {response_headers.get('Content-Disposition')}"),
        ("elapsed (client) / worker CPU", f"{seconds:.1f} s / {cpu:.1f} s"),
        ("worker VmRSS before / peak / after", f"{before_kb / 1024:.1f} / {peak_kb / 1024:.1f} / "
                                               f"{(after_kb or 0) / 1024:.1f} MB"),
    ]
    section.goals.append(Goal(f"registre PDF {count:,} letters seconds [{ctx.dialect}]", [seconds], 60.0,
                              higher_is_better=False, unit=" s"))
    section.goals.append(Goal(f"registre PDF worker RSS growth MB [{ctx.dialect}]", [growth_mb], 100.0,
                              higher_is_better=False, unit=" MB"))
    return section


# -- flask sessions prune of 1,000,000 dead rows while requests keep coming ----------------------------------
class Poller:
    """Sends one request after another (with a pause) in a thread, recording (start, latency, status)."""

    def __init__(self, port, method, path, headers=None, body=None, pause=0.01):
        self.port, self.method, self.path = port, method, path
        self.headers, self.body, self.pause = headers or {}, body, pause
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _, elapsed = http_request(self.port, self.method, self.path, self.body, self.headers,
                                                  timeout=60)
            except OSError:
                status, elapsed = 0, time.monotonic() - started
            self.samples.append((started, elapsed, status))
            self._stop.wait(self.pause)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def between(self, start, end):
        """Latencies (s) of the requests that overlapped [start, end], and how many failed."""
        chosen = [(lat, status) for began, lat, status in self.samples if began <= end and began + lat >= start]
        return sorted(lat for lat, _ in chosen), sum(1 for _, status in chosen if not 200 <= status < 300)


def scenario_prune(ctx):
    rows = ctx.options.prune_rows
    section = Section(f"flask sessions prune of {rows:,} dead sessions under traffic [{ctx.dialect}]")
    env = ctx.app_env.for_database(ctx.databases.template_url)
    helptext = subprocess.run([tool("flask"), "sessions", "prune", "--help"], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True)
    if helptext.returncode != 0 or "--older-than" not in helptext.stdout:
        section.skipped = f"`flask sessions prune --help` has no --older-than:\n{helptext.stdout}{helptext.stderr}"
        return section
    if "prune" in ctx.handover:
        # The large table of sessions-scale: `rows` dead sessions, and the live ones its runs opened.
        name, url = ctx.handover.pop("prune")
        section.facts.append(("data set", f"the {rows:,} dead sessions of the sessions-scale scenario"))
    else:
        name, url = "prune", ctx.databases.clone("prune")
        log(f"  seeding {rows:,} dead sessions…")
        seconds = seed_sessions(url, rows, dead_only=True, seed=13)
        section.facts.append((f"seeding {rows:,} dead sessions (+1,000 users)", f"{seconds:.1f} s"))
    before = count_rows(url, "sessions")
    login_body = {"email": ADMIN["email"], "password": ADMIN["password"]}
    with ctx.app_server("app-prune", url) as app:
        me = Poller(app.port, "GET", "/api/auth/me", bearer(login(app))).start()
        logins = Poller(app.port, "POST", "/api/auth/login", body=login_body, pause=0.5).start()
        time.sleep(2)
        command = pinned(LOAD_CORE, [tool("flask"), "sessions", "prune", "--older-than", "0"])
        started = time.monotonic()
        completed, timed_out = run_with_timeout(command, ctx.app_env.for_database(url), ctx.options.prune_timeout)
        ended = time.monotonic()
        time.sleep(1)
        me.stop()
        logins.stop()
    remaining = count_rows(url, "sessions")
    ctx.databases.drop(name)
    if timed_out:
        section.notes.append(f"prune stopped after --prune-timeout {ctx.options.prune_timeout:g} s: "
                             f"{before - remaining:,} of {before:,} rows deleted by then")
    elif completed.returncode != 0:
        raise RuntimeError(f"prune failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr[-2000:]}")
    elapsed = ended - started
    measured = elapsed
    if timed_out:
        # The goal is judged on the projected time for all rows at the rate observed before the stop.
        deleted_so_far = before - remaining
        measured = elapsed * before / deleted_so_far if deleted_so_far > 0 else float("inf")
        section.facts.append(("projected time for all rows at the observed rate", f"{measured:.0f} s"))
    me_before, _ = me.between(started - 2, started - 0.05)
    me_during, me_failed = me.between(started, ended)
    login_before, _ = logins.between(started - 2, started - 0.05)
    login_during, login_failed = logins.between(started, ended)
    deleted = re.findall(r"(\d[\d\s,.\u202f]*) session", completed.stdout)
    section.facts += [
        ("prune output", completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "(none)"),
        ("deleted (parsed) / rows left (live sessions)", f"{deleted[-1].strip() if deleted else '?'} / {remaining:,}"),
        ("prune elapsed", f"{elapsed:.1f} s"),
        ("GET /me before prune: p50 / max", _ms(me_before, 50) + " / " + _ms(me_before, 100)),
        ("GET /me during prune: n / p50 / p99 / max / failed",
         f"{len(me_during)} / {_ms(me_during, 50)} / {_ms(me_during, 99)} / {_ms(me_during, 100)} / {me_failed}"),
        ("POST /login before prune: p50 / max", _ms(login_before, 50) + " / " + _ms(login_before, 100)),
        ("POST /login during prune: n / p50 / max / failed",
         f"{len(login_during)} / {_ms(login_during, 50)} / {_ms(login_during, 100)} / {login_failed}"),
    ]
    section.goals.append(Goal(f"prune {rows:,} rows {'PROJECTED (timeout)' if timed_out else 'elapsed'} "
                              f"[{ctx.dialect}]", [measured], 60.0,
                              higher_is_better=False, unit=" s"))
    worst = max(me_during[-1] if me_during else 0, login_during[-1] if login_during else 0)
    section.goals.append(Goal(f"max request latency during prune (me, login) [{ctx.dialect}]", [worst], 1.0,
                              higher_is_better=False, unit=" s"))
    if me_failed or login_failed:
        section.notes.append(f"WARNING: {me_failed + login_failed} requests failed during the prune")
    return section


def run_with_timeout(command, env, timeout):
    """Run a command; past `timeout` seconds it is interrupted (SIGINT, then SIGKILL). Returns (result, timed_out)."""
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), True


def _ms(sorted_seconds, pct):
    if not sorted_seconds:
        return "-"
    value = sorted_seconds[-1] if pct >= 100 else percentile(sorted_seconds, pct)
    return f"{value * 1000:.1f} ms"


SCENARIOS = {
    "me": scenario_me,
    "login": scenario_login,
    "sessions-scale": scenario_sessions_scale,
    "documents": scenario_documents,
    "services": scenario_services,
    "bannettes": scenario_bannettes,
    "registre": scenario_registre,
    "prune": scenario_prune,
}
