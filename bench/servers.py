"""Starting and stopping gunicorn servers pinned to a core, and reading their worker's memory."""
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
SERVER_CORE = "0"
LOAD_CORE = "1"

# The app's configuration variables (API.md section 8): never inherited from the caller's shell,
# so every run measures the same configuration unless `--env` says otherwise.
APP_VARIABLES = (
    "APP_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "BCRYPT_ROUNDS", "JWT_ACCESS_TOKEN_EXPIRES",
    "JWT_REFRESH_TOKEN_EXPIRES", "SESSION_IDLE_TIMEOUT", "SESSION_TRACKING", "AUTH_RATE_LIMIT",
    "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "TRUSTED_PROXIES", "CORS_ORIGINS", "REGISTRATION_OPEN",
    "MAX_JSON_BYTES", "ATTACHMENT_MAX_BYTES", "UPLOAD_FOLDER", "WEB_CONCURRENCY", "PORT", "HOST",
    "GUNICORN_CMD_ARGS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_ACCESS_LOG", "GUNICORN_LOG_LEVEL",
    "PASSWORD_HASHING_SLOTS", "PASSWORD_HASHING_WAIT_MS", "PASSWORD_HASHING_LOCK_DIR", "MFA_REQUIRED_ROLES",
    "STORAGE_URL", "S3_ENDPOINT_URL",
)


def tool(name):
    """A program of the venv (gunicorn, flask), else from PATH."""
    candidate = os.path.join(VENV_BIN, name)
    return candidate if os.path.exists(candidate) else (shutil.which(name) or name)


def pinned(core, argv):
    """`taskset -c CORE argv` when taskset exists and the core does."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > int(core):
        return ["taskset", "-c", core, *argv]
    return list(argv)


def pin_self(core):
    """Pin this process (and the threads and children it starts from now on) to one core."""
    try:
        os.sched_setaffinity(0, {int(core)})
    except (AttributeError, OSError, ValueError):
        pass


class AppEnvironment:
    """The environment of the real app for one run: production mode, random strong secrets."""

    def __init__(self, bcrypt_rounds=10, extra=None):
        self.secret_key = secrets.token_urlsafe(48)
        self.jwt_secret_key = secrets.token_urlsafe(48)
        self.bcrypt_rounds = bcrypt_rounds
        self.extra = dict(extra or {})

    def for_database(self, database_url, **overrides):
        env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
        env.update(
            APP_ENV="production",
            SECRET_KEY=self.secret_key,
            JWT_SECRET_KEY=self.jwt_secret_key,
            DATABASE_URL=database_url,
            BCRYPT_ROUNDS=str(self.bcrypt_rounds),
            AUTH_RATE_LIMIT="1000000 per minute",
            RATELIMIT_STORAGE_URI="memory://",
            # The bench's administrateur logs in with a password only: a full session, as before issue 15.
            MFA_REQUIRED_ROLES="none",
            # A run lasts longer than the default 15 minutes of an access token.
            JWT_ACCESS_TOKEN_EXPIRES="86400",
            FLASK_APP="wsgi",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra)
        env.update(overrides)
        return env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(port, method, path, body=None, headers=None, timeout=30):
    """One request; returns (status, parsed JSON body or raw text, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = dict(headers or {})
    if payload is not None:
        all_headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    try:
        data = json.loads(raw)
    except ValueError:
        data = raw.decode("utf-8", "replace")
    return response.status, data, elapsed


class Server:
    """One gunicorn master with a single sync worker, pinned to the server core."""

    def __init__(self, name, app_spec, env, log_dir):
        self.name = name
        self.app_spec = app_spec
        self.env = env
        self.port = free_port()
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process = None

    def command(self):
        # `-c /dev/null`: the project's gunicorn.conf.py (production worker count...) is not read.
        return pinned(SERVER_CORE, [
            tool("gunicorn"), "-c", "/dev/null", "--workers", "1", "--worker-class", "sync",
            "--bind", f"127.0.0.1:{self.port}", "--backlog", "2048", "--timeout", "300",
            "--graceful-timeout", "5", "--limit-request-field_size", "17408", "--log-level", "warning",
            "--error-logfile", "-", self.app_spec,
        ])

    def start(self, timeout=60):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), cwd=PROJECT_ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}; "
                                   f"see {self.log_path}:\n{self.log_tail()}")
            try:
                status, _, _ = http_request(self.port, "GET", "/api/health", timeout=5)
                if status == 200 and self.worker_pid():
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name}: not ready after {timeout}s; see {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def worker_pid(self):
        """The pid of the (single) worker: the child of the gunicorn master."""
        if self.process is None:
            return None
        master = self.process.pid
        try:
            with open(f"/proc/{master}/task/{master}/children") as handle:
                children = handle.read().split()
            if children:
                return int(children[0])
        except OSError:
            pass
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/status") as handle:
                        for line in handle:
                            if line.startswith("PPid:"):
                                if int(line.split()[1]) == master:
                                    return int(entry)
                                break
                except OSError:
                    continue
        return None

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def read_status_kb(pid, field):
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def read_cpu_seconds(pid):
    """User + system CPU time a process has used so far (from /proc/<pid>/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return None


class RssSampler:
    """Samples a worker's VmRSS every `interval` seconds in a thread; `peak_kb` is the highest seen."""

    def __init__(self, pid, interval=0.1):
        self.pid = pid
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            value = read_status_kb(self.pid, "VmRSS")
            if value is not None:
                self.samples.append(value)
            self._stop.wait(self.interval)

    @property
    def peak_kb(self):
        return max(self.samples) if self.samples else None

    def __enter__(self):
        if self.pid:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
