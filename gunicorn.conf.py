"""Production defaults for `gunicorn wsgi:app` (read automatically from the project root).

Every value can be overridden by the environment below or on the command line
(`gunicorn -c gunicorn.conf.py --workers 3 wsgi:app`); `GUNICORN_CMD_ARGS` works as well.

| variable | default | meaning |
|---|---|---|
| `WEB_CONCURRENCY` | `2 × CPUs + 1` | number of worker processes |
| `GUNICORN_THREADS` | `8` | threads per worker (gthread): requests served at once by one worker |
| `GUNICORN_REQUEST_NICE` | `10` | how much lower than its bcrypt threads a worker's request threads run (Linux) |
| `PORT` | `5000` | port to listen on |
| `HOST` | `127.0.0.1` | address to listen on: `0.0.0.0` only when you set it (behind a proxy, in a container) |
| `GUNICORN_TIMEOUT` | `30` | seconds a request may run before its worker is killed and restarted |
| `GUNICORN_GRACEFUL_TIMEOUT` | `30` | seconds workers get to finish their requests on restart/stop |
| `GUNICORN_KEEPALIVE` | `2` | seconds to wait for a next request on a kept-alive connection |
| `GUNICORN_MAX_REQUESTS` | `0` (off) | recycle a worker after that many requests (with 10 % jitter) |
| `GUNICORN_ACCESS_LOG` | `-` (stdout) | access log file; `off` to disable |
| `GUNICORN_LOG_LEVEL` | `info` | error log level |

The benchmark (`python -m bench`) reads this file only in its `login-storm` scenario; elsewhere it passes `-c /dev/null` and explicit
flags, one worker per server, so that its ratios do not depend on the machine's CPU count.
"""
import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Workers: the classic (2 × cores) + 1, each with a few threads (gthread). Threads, because of bcrypt
# (issue 16): a login's comparison (a quarter of a second at cost 12) releases the GIL, and at most
# PASSWORD_HASHING_SLOTS of them run at once on the machine, the others waiting a bounded time for a
# slot; a sync worker would be held for all of it, so a storm of logins took every worker and /me fell
# from 2,920 to 8 req/s. With threads, the other requests go on being served beside the hashing and the
# waiting. Eight threads, because a worker queues the connections it accepts for its threads: with four,
# the storm could take all of a worker's threads with logins waiting for a slot, and a /me queued behind
# them (p99 320 ms). Each worker keeps its own database pool (5 + 5 connections: one for each thread).
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 8)

# Listen on the loopback unless HOST says otherwise: exposing the port is a deliberate choice.
bind = f"{os.environ.get('HOST', '127.0.0.1').strip() or '127.0.0.1'}:{_int('PORT', 5000)}"

# A worker whose main loop is stuck longer than this is killed and replaced (the app answers 503 within
# 2 s when the database is down, and a login within PASSWORD_HASHING_WAIT_MS plus one hash when bcrypt is
# busy, so a healthy request never comes near it).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 2)

# Recycling workers bounds slow memory growth; off by default.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10 if max_requests else 0

# Request limits. API.md section 2: Authorization headers up to 16 KB must reach the application
# (and be answered in JSON), so one header field may be 16 KB (gunicorn's default is 8190 bytes).
limit_request_field_size = 16 * 1024 + 1024  # gunicorn counts the name and 'Bearer ' too
limit_request_fields = 100
# The request line (method, path and query string): 8 KB is ample for the API's filters.
limit_request_line = 8190

# Logs on stdout/stderr, for the service manager or the container runtime to collect.
_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "-").strip()
accesslog = None if _access_log.lower() in ("off", "none", "") else _access_log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client IP (%(h)s, the proxy's when behind one: see TRUSTED_PROXIES), X-Forwarded-For, time, request
# line, status, bytes, duration in microseconds (%(D)s) and in seconds (%(L)s), user agent.
access_log_format = ('%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(D)sus %(L)ss '
                     '"%(f)s" "%(a)s"')

# Behind a reverse proxy on the same host, trust its X-Forwarded-Proto/For headers
# (the app itself only trusts X-Forwarded-For through TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Temporary files of the worker heartbeat in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


# Login storms (issue 16): the worker's bcrypt threads keep its priority and its request threads run
# GUNICORN_REQUEST_NICE lower, so that the hashing the machine-wide slots allow (half the cores) gets
# its cores when it needs them, and the other requests share the rest.
request_nice = _int("GUNICORN_REQUEST_NICE", 10)


def post_worker_init(worker):
    from courrier.auth.hashing import prioritize_hashing

    prioritize_hashing(worker.wsgi, getattr(worker, "tpool", None), worker.cfg.threads, request_nice)
