"""`python -m bench`: options, the run of the chosen scenarios, the tables."""
import argparse
import os
import platform
import shutil
import sys
import time
import traceback

from bench import report
from bench.database import Databases
from bench.jobs import scenario_jobs
from bench.load import have_wrk
from bench.scenarios import ADMIN, SCENARIOS as BASE_SCENARIOS, Context, log
from bench.servers import LOAD_CORE, PROJECT_ROOT, AppEnvironment, pin_self
from bench.rss import scenario_worker_rss
from bench.statistics import scenario_statistics
from bench.ocr import scenario_ocr
from bench.search import scenario_search
from bench.storage import scenario_storage
from bench.storm import scenario_login_storm

SCENARIOS = {**BASE_SCENARIOS, "login-storm": scenario_login_storm, "rss": scenario_worker_rss,
             "statistiques": scenario_statistics, "jobs": scenario_jobs, "storage": scenario_storage,
             "ocr": scenario_ocr, "search": scenario_search}
DEFAULT_ORDER = ["me", "login", "login-storm", "sessions-scale", "documents", "services", "bannettes", "registre",
                 "statistiques", "prune", "rss", "jobs", "storage", "ocr", "search"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="courrier benchmarks (issue 7): the real app vs a stateless baseline, A/B in one run.")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds per comparison (default 3)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per load run (default 5)")
    parser.add_argument("--warmup", type=float, default=1, help="warm-up seconds per server (default 1)")
    parser.add_argument("--connections", type=int, default=2,
                        help="concurrent connections of the load generator (default 2; documents use 1)")
    parser.add_argument("--only", "--scenarios", dest="only", default=",".join(DEFAULT_ORDER),
                        help=f"comma-separated scenarios among {','.join(DEFAULT_ORDER)} (default: all)")
    parser.add_argument("--database-url", default=None,
                        help="default: temporary SQLite files; a postgresql+psycopg:// URL: the bench creates "
                             "(and drops) its own databases on that server, never touching the named one")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator (auto: wrk when on PATH)")
    parser.add_argument("--bcrypt-rounds", type=int, default=10, help="BCRYPT_ROUNDS of the app (default 10)")
    parser.add_argument("--sessions-small", type=int, default=1_000)
    parser.add_argument("--sessions-large", type=int, default=1_000_000)
    parser.add_argument("--documents-small", type=int, default=1_000)
    parser.add_argument("--documents-large", type=int, default=100_000)
    parser.add_argument("--documents-query", default="per_page=50&statut=en_attente&q=facture",
                        help="query string of the documents listing")
    parser.add_argument("--services-small", type=int, default=1_000, help="letters of the small services data set")
    parser.add_argument("--services-large", type=int, default=100_000, help="letters of the large services data set")
    parser.add_argument("--services-count", type=int, default=50, help="services of the services scenario")
    parser.add_argument("--services-users", type=int, default=500, help="users (agents) of the services scenario")
    parser.add_argument("--services-query", default="per_page=20",
                        help="query string of the listing of the services scenario (default per_page=20)")
    parser.add_argument("--bannettes-small", type=int, default=1_000,
                        help="letters of the small bannettes data set (services and users: --services-count/-users)")
    parser.add_argument("--bannettes-large", type=int, default=100_000, help="letters of the large bannettes data set")
    parser.add_argument("--registre-letters", type=int, default=100_000,
                        help="letters of the registre scenario (one type, this year)")
    parser.add_argument("--registre-type", choices=("entrant", "sortant", "interne"), default="entrant")
    parser.add_argument("--statistiques-letters", type=int, default=1_000_000,
                        help="letters of the dashboard's data set (statistiques scenario, two years)")
    parser.add_argument("--statistiques-small", type=int, default=1_000,
                        help="letters of the small data set measured beside it")
    parser.add_argument("--rss-requests", type=int, default=10_000,
                        help="GET /api/auth/me each worker answers before its VmRSS is read (rss scenario)")
    parser.add_argument("--search-letters", type=int, default=1_000_000,
                        help="letters of the search scenario's large data set (issue 25)")
    parser.add_argument("--search-small", type=int, default=10_000, help="letters of its small data set")
    parser.add_argument("--search-attachments-share", type=float, default=0.2,
                        help="share of the letters with an attachment's text (default 0.2: 200,000 of 1,000,000)")
    parser.add_argument("--search-query", default="subvention lefevre",
                        help="the two words searched: a subject and a correspondent, without accent (default: "
                             "subvention lefevre)")
    parser.add_argument("--search-broad-query", default="demande subvention",
                        help="two common words, measured once on the large data set (a fact, not a goal)")
    parser.add_argument("--prune-rows", type=int, default=1_000_000)
    parser.add_argument("--prune-timeout", type=float, default=240,
                        help="interrupt the prune after that many seconds and report it (default 240)")
    parser.add_argument("--jobs-count", type=int, default=1_000, help="no-op jobs per round (jobs scenario)")
    parser.add_argument("--jobs-workers", type=int, default=4, help="worker threads of both consumers (jobs)")
    parser.add_argument("--jobs-redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
                        help="the Redis of the jobs scenario (queues of their own, removed after)")
    parser.add_argument("--storage-files", type=int, default=4,
                        help="10 MB files each side uploads then downloads per round (storage scenario)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the real app (repeatable), e.g. SESSION_TRACKING=false")
    parser.add_argument("--json", default=None, help="write the results there (default bench/results/<time>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases and logs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal fails")
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    options.scenarios = [name for name in DEFAULT_ORDER if name in chosen]
    if options.rounds < 1 or options.duration <= 0:
        parser.error("--rounds must be ≥ 1 and --duration > 0")
    options.extra_env = {}
    for item in options.env:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--env expects KEY=VALUE, got {item!r}")
        options.extra_env[key] = value
    return options


def main(argv=None):
    options = parse_args(argv)
    # Servers run on core 0 (taskset); this process, its threads and the load generator on core 1.
    pin_self(LOAD_CORE)
    os.chdir(PROJECT_ROOT)
    databases = Databases(options.database_url, keep=options.keep)
    app_env = AppEnvironment(options.bcrypt_rounds, options.extra_env)
    generator = options.generator if options.generator != "auto" else ("wrk" if have_wrk() else "python")
    log(f"courrier bench: {', '.join(options.scenarios)} on {databases.label}, {options.rounds} rounds × "
        f"{options.duration:g} s, {options.connections} connections, generator {generator}, "
        f"BCRYPT_ROUNDS={options.bcrypt_rounds}, cpus {os.cpu_count()}")
    if os.cpu_count() and os.cpu_count() < 2:
        log("warning: one CPU only: server and load generator share it, ratios are less meaningful")
    log_dir = os.path.join(databases.tmpdir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    sections, errors = [], []
    started = time.monotonic()
    try:
        log("creating the template database (flask db upgrade, flask create-admin)…")
        databases.create_template(app_env, ADMIN)
        ctx = Context(options, databases, app_env, log_dir)
        for name in options.scenarios:
            log(f"scenario {name}")
            try:
                sections.append(SCENARIOS[name](ctx))
            except Exception as error:  # noqa: BLE001 - one broken scenario must not hide the others
                traceback.print_exc()
                errors.append((name, error))
                ctx.handover.clear()
                for leftover in [n for n in databases.created if n != "template"]:
                    databases.drop(leftover)
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        errors.append(("setup", error))
    finally:
        kept = databases.cleanup()
        if not options.keep:
            shutil.rmtree(log_dir, ignore_errors=True)
    total = time.monotonic() - started

    print()
    print(f"# courrier bench — {time.strftime('%Y-%m-%d %H:%M:%S')} — {databases.label}, {options.rounds} rounds × "
          f"{options.duration:g} s, generator {generator}, 1 sync gunicorn worker on core 0, load on core 1, "
          f"BCRYPT_ROUNDS={options.bcrypt_rounds}, total {total:.0f} s")
    for section in sections:
        print()
        print(report.format_section(section))
    print()
    print(report.format_summary(sections, errors))
    if kept:
        print("\nkept databases: " + ", ".join(kept) + f"\nlogs: {log_dir}")

    path = options.json or os.path.join(PROJECT_ROOT, "bench", "results",
                                        f"{time.strftime('%Y%m%d-%H%M%S')}-{databases.label}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    meta = {"database": databases.label, "rounds": options.rounds, "duration": options.duration,
            "connections": options.connections, "generator": generator, "bcrypt_rounds": options.bcrypt_rounds,
            "python": sys.version.split()[0], "platform": platform.platform(), "seconds": total,
            "scenarios": options.scenarios, "extra_env": options.extra_env}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(report.to_json(sections, errors, meta))
    print(f"\nresults: {os.path.relpath(path, PROJECT_ROOT)}")

    if errors:
        return 2
    if options.strict and any(goal.passed is False for section in sections for goal in section.goals):
        return 1
    return 0
