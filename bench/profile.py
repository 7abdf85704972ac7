"""Where a gunicorn worker spends its time under load: `python -m bench.profile me` (needs py-spy).

Starts the server like the bench does (one sync worker on core 0), loads it with the bench's load
generator on core 1, samples the worker with `py-spy record --format raw`, and prints the functions
with the largest share of the worker's samples (inclusive, then self). Targets:

    me         GET /api/auth/me on the real app (session check)
    baseline   GET /api/auth/me on the stateless baseline
    login      POST /api/auth/login on the real app
    documents  GET /api/documents?<--documents-query> with --documents documents seeded

`pip install py-spy` first (ptrace: run as root or with CAP_SYS_PTRACE).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from bench import baseline_app
from bench.database import Databases, seed_documents
from bench.load import Request, run_load
from bench.scenarios import ADMIN, bearer, expect_ok, login
from bench.servers import (
    APP_VARIABLES, LOAD_CORE, VENV_BIN, AppEnvironment, Server, http_request, pin_self, read_cpu_seconds,
)

SITE = "site-packages/"


def frame_key(frame):
    """'function (package/module.py)' from a py-spy raw frame 'function (path/file.py:line)'."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    if SITE in path:
        path = path.split(SITE, 1)[1]
    elif "/work/" in path or path.startswith("/"):
        path = os.path.relpath(path, os.getcwd()) if path.startswith(os.getcwd()) else os.path.basename(path)
    return f"{name} ({path})"


def summarize(raw_path, top):
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    with open(raw_path) as handle:
        for line in handle:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            count = int(count)
            total += count
            keys = [frame_key(frame) for frame in stack.split(";")]
            for key in set(keys):
                inclusive[key] += count
            own[keys[-1]] += count
    lines = [f"{total} samples"]
    lines += ["", "inclusive share of samples:"]
    lines += [f"{100 * n / total:6.1f}%  {key}" for key, n in inclusive.most_common(top)]
    lines += ["", "self share of samples:"]
    lines += [f"{100 * n / total:6.1f}%  {key}" for key, n in own.most_common(top // 2)]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("me", "baseline", "login", "documents"))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=10, help="sampling time (default 10)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default 250)")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--documents-query", default="per_page=50&statut=en_attente&q=facture")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--raw", default=None, help="keep py-spy's raw (collapsed) stacks there")
    options = parser.parse_args(argv)
    py_spy = os.path.join(VENV_BIN, "py-spy")
    if not os.path.exists(py_spy):
        py_spy = shutil.which("py-spy")
    if not py_spy:
        parser.error("py-spy is not installed: .venv/bin/pip install py-spy")

    pin_self(LOAD_CORE)
    databases = Databases(options.database_url)
    app_env = AppEnvironment()
    log_dir = os.path.join(databases.tmpdir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    servers = []
    try:
        databases.create_template(app_env, ADMIN)
        url = databases.clone("profile")
        if options.target == "documents":
            seed_documents(url, options.documents)
        app = Server("app", "wsgi:app", app_env.for_database(url), log_dir).start()
        servers.append(app)
        token = login(app)
        if options.target == "baseline":
            user = http_request(app.port, "GET", "/api/auth/me", headers=bearer(token))[1]["data"]
            env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
            env["JWT_SECRET_KEY"] = app_env.jwt_secret_key
            server = Server("baseline", "bench.baseline_app:app", env, log_dir).start()
            servers.append(server)
            request = Request("GET", "/api/auth/me",
                              bearer(baseline_app.mint_token(app_env.jwt_secret_key, user)))
        elif options.target == "login":
            server = app
            body = json.dumps({"email": ADMIN["email"], "password": ADMIN["password"]}).encode()
            request = Request("POST", "/api/auth/login", {"Content-Type": "application/json"}, body)
        elif options.target == "documents":
            server = app
            request = Request("GET", f"/api/documents?{options.documents_query}", bearer(token))
        else:
            server = app
            request = Request("GET", "/api/auth/me", bearer(token))
        expect_ok(server, request)
        run_load(server.port, request, 1, options.connections)  # warm-up
        pid = server.worker_pid()
        raw = options.raw or tempfile.mktemp(suffix=".txt", prefix="py-spy-")
        results = {}
        load = threading.Thread(target=lambda: results.setdefault(
            "load", run_load(server.port, request, options.seconds + 2, options.connections)))
        cpu_before = read_cpu_seconds(pid)
        load.start()
        time.sleep(1)
        spy = subprocess.run([py_spy, "record", "-p", str(pid), "-d", str(int(options.seconds)), "-r",
                              str(options.rate), "--format", "raw", "-o", raw], capture_output=True, text=True)
        load.join()
        cpu = read_cpu_seconds(pid) - cpu_before
        if spy.returncode != 0 or not os.path.exists(raw):
            raise SystemExit(f"py-spy failed:\n{spy.stdout}\n{spy.stderr}")
        result = results["load"]
        print(f"{options.target}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, worker CPU "
              f"{cpu * 1000 / max(result.requests, 1):.2f} ms/request, errors {result.errors}")
        print(summarize(raw, options.top))
        if options.raw:
            print(f"\nraw stacks: {raw}")
        else:
            os.unlink(raw)
    finally:
        for server in servers:
            server.stop()
        databases.cleanup()
        shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
