"""Real servers for the system tests: gunicorn processes on loopback, their database and Redis.

- A module gets its own database: a SQLite file, or with TEST_DATABASE_URL a PostgreSQL database
  created for it (random name) and dropped at the end, so that it never meets the in-process
  tests, which drop the public schema of TEST_DATABASE_URL's own database.
- Servers run `gunicorn -w 2 wsgi:app` from the project root (so gunicorn.conf.py applies) with
  APP_ENV=production and random 64-character secrets, after `flask db upgrade` and
  `flask create-admin`.
- `TcpProxy` forwards a local port to PostgreSQL or Redis; stopping it is how a test takes a
  dependency down without touching the shared servers.
"""
import http.client
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.environment import APP_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
ADMIN_PASSWORD = "Systeme-Falaise-Orage-93"
STRONG_PASSWORD = "Tournesol-Quai-Brume-42"


needs_postgres = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set TEST_REDIS_URL")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def report(request, text_):
    """Print a figure to the terminal even when pytest captures output."""
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(text_)


# ----------------------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int
    body: object
    headers: dict
    seconds: float

    @property
    def code(self):
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def data(self):
        return self.body.get("data") if isinstance(self.body, dict) else None

    def is_json(self):
        return self.headers.get("content-type", "").startswith("application/json")


def call(port, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
    """One request on a new connection (gunicorn's sync workers close it after each response)."""
    all_headers = {"User-Agent": "courrier-system-tests", **(headers or {})}
    payload = raw
    if body is not None:
        payload = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        conn.close()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data.decode("utf-8", "replace")
    return Reply(response.status, parsed, reply_headers, elapsed)


# ------------------------------------------------------------------------------------ databases


def postgres_admin_engine():
    url = make_url(TEST_DATABASE_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)


class Database:
    """One database for one test module: a SQLite file, or a PostgreSQL database of its own."""

    def __init__(self, tmp_path, kind):
        self.kind = kind
        if kind == "postgresql":
            self.name = f"courrier_system_{uuid.uuid4().hex[:12]}"
            engine = postgres_admin_engine()
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            engine.dispose()
            self.url = make_url(TEST_DATABASE_URL).set(database=self.name)
        else:
            self.name = str(tmp_path / "system.sqlite")
            self.url = make_url(f"sqlite:///{self.name}")
        self._engine = None
        self.admin_email = None

    def prepare(self, env):
        """Migrate and seed an administrateur once per database; returns the administrateur's email."""
        if self.admin_email is None:
            self.admin_email = prepare_database({**env, "DATABASE_URL": self.url_string}, unique_email("admin"))
        return self.admin_email

    @property
    def url_string(self):
        return self.url.render_as_string(hide_password=False)

    def via(self, port):
        """The same PostgreSQL database, reached through a local port (a TcpProxy)."""
        return self.url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)

    @property
    def engine(self):
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    def scalar(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def drop(self):
        if self._engine is not None:
            self._engine.dispose()
        if self.kind == "postgresql":
            engine = postgres_admin_engine()
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            engine.dispose()


# -------------------------------------------------------------------------------------- servers


def server_env(database_url, tmp_path, **overrides):
    """A production environment: strong random secrets, cheap bcrypt, a high login limit by default."""
    env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        JWT_SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        BCRYPT_ROUNDS="4",
        MFA_REQUIRED_ROLES="none",
        # Accounts created through POST /api/users log in at once, as the contract's suite runs.
        PASSWORD_CHANGE_ON_FIRST_LOGIN="false",
        REGISTRATION_OPEN="true",
        AUTH_RATE_LIMIT="100000 per minute",
        RATELIMIT_STORAGE_URI="memory://",
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        # The bcrypt slots of this module's servers alone (other test runs on the machine hash too).
        PASSWORD_HASHING_LOCK_DIR=str(tmp_path / "bcrypt-slots"),
        FLASK_APP="wsgi",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def flask_command(args, env):
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    if result.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
                    pytrace=False)
    return result


def prepare_database(env, admin_email):
    """`flask db upgrade`, then `flask create-admin` (scripted, no prompt)."""
    flask_command(["db", "upgrade"], env)
    flask_command(["create-admin", "--email", admin_email, "--nom", "Systeme", "--prenom", "Admin",
                   "--password", ADMIN_PASSWORD], env)
    return admin_email


def gunicorn_extra_args():
    help_text = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True).stdout
    # gunicorn 25+ opens a control socket at one fixed path per user: two servers must not share it.
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


GUNICORN_EXTRA = gunicorn_extra_args()
ACCESS_LINE = re.compile(r'^\S+ "[^"]*" \[[^\]]+\] "')  # gunicorn.conf.py's access_log_format


@dataclass
class Server:
    """A gunicorn master (with its workers) started by this test run, in its own process group."""

    name: str
    env: dict
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen = None

    def start(self, wait_healthy=True, timeout=60):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers), *GUNICORN_EXTRA,
             "--graceful-timeout", "5", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                reply = call(self.port, "GET", "/api/health", timeout=5)
                if reply.status == 200 or (not wait_healthy and reply.status):
                    if len(self.worker_pids()) >= self.workers:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name}: not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def call(self, *args, **kwargs):
        return call(self.port, *args, **kwargs)

    def worker_pids(self):
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as handle:
                return sorted(int(pid) for pid in handle.read().split())
        except OSError:
            return []

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_errors(self):
        """The log's lines other than the access log's (tracebacks, gunicorn's errors), the last 200."""
        return "\n".join([line for line in self.log_text().splitlines() if not ACCESS_LINE.match(line)][-200:])

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()
        self.process = None


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Start servers with `servers.start(name, env)`; all are stopped at the end of the module."""
    started = []
    log_dir = tmp_path_factory.mktemp("logs")

    class Starter:
        def start(self, name, env, workers=2, wait_healthy=True):
            server = Server(name, env, log_dir / f"{name}.log", workers=workers)
            started.append(server)
            return server.start(wait_healthy=wait_healthy)

    yield Starter()
    for server in started:
        server.stop()


def database_kind():
    return "postgresql" if TEST_DATABASE_URL else "sqlite"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("db"), database_kind())
    yield db
    db.drop()


@pytest.fixture(scope="module")
def postgres_database(database):
    """The module's database, for the tests that need PostgreSQL itself (skipped on SQLite)."""
    if database.kind != "postgresql":
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    return database


# ------------------------------------------------------------------------------------ TCP proxy


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `stop()` closes the listener and every connection
    (the dependency is down: connections are refused), `start()` listens again on the same port."""

    def __init__(self, target_host, target_port, port=None):
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._listener = None
        self._sockets = set()
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._thread = None
        self.connections = 0

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        self._running.set()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self):
        while self._running.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self.connections += 1
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        pair = (a, b)
        try:
            while self._running.is_set():
                readable, _, _ = select.select(pair, [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in pair:
                self._close(sock)

    def _close(self, sock):
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def stop(self):
        self._running.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)


@pytest.fixture
def tcp_proxy():
    """`tcp_proxy(host, port)` starts a proxy; every proxy is stopped at the end of the test."""
    proxies = []

    def make(host, port):
        proxy = TcpProxy(host, port).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


# ------------------------------------------------------------------------------------ S3 server


@dataclass
class S3Server:
    """moto's S3 server of this test session, and what a client of it needs."""

    endpoint: str
    credentials: dict

    def client(self):
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint)

    def new_bucket(self):
        name = f"courrier-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket, prefix="pj"):
        """The variables of a courrier server storing in `bucket`."""
        return {**self.credentials, "STORAGE_URL": f"s3://{bucket}/{prefix}", "S3_ENDPOINT_URL": self.endpoint}


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible HTTP server (moto's server mode) on a free port, once per session. Its
    credentials are dummies, put in this process's environment (boto3 reads them there)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    credentials = {"AWS_ACCESS_KEY_ID": "courrier-tests", "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16),
                   "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {name: os.environ.get(name) for name in credentials}
    os.environ.update(credentials)
    yield S3Server(f"http://{host}:{port}", credentials)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


# ------------------------------------------------------------------------------------ IMAP server


@pytest.fixture(scope="session")
def imap_server():
    """Dovecot on a free loopback port with its own configuration and maildir (tests/dovecot.py), once per
    session; skipped only when Dovecot is not installed (CI installs dovecot-imapd)."""
    from tests import dovecot

    if not dovecot.available():
        pytest.skip("needs Dovecot (Debian dovecot-imapd)")
    server = dovecot.Dovecot().start()
    yield server
    server.stop()


# ------------------------------------------------------------------------------------- accounts


class Client:
    """A user of one server: credentials and current tokens."""

    def __init__(self, server, email, password=STRONG_PASSWORD):
        self.server, self.email, self.password = server, email, password
        self.token = self.refresh = self.user_id = None

    def take(self, reply):
        self.token = reply.data["access_token"]
        self.refresh = reply.data["refresh_token"]
        self.user_id = reply.data["user"]["id"]

    def login(self, server=None, headers=None):
        body = {"email": self.email, "password": self.password}
        reply = (server or self.server).call("POST", "/api/auth/login", body, headers=headers)
        if reply.status == 200:
            self.take(reply)
        return reply

    def register(self, server=None, headers=None):
        reply = (server or self.server).call("POST", "/api/auth/register", registration(self.email, self.password),
                                             headers=headers)
        if reply.status == 201:
            self.take(reply)
        return reply


def registration(email, password=STRONG_PASSWORD):
    return {"email": email, "password": password, "password_confirmation": password, "nom": "Martin",
            "prenom": "Claire", "contact": "0102030405"}


def unique_email(prefix="agent"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
