"""Load generators: wrk (with a generated Lua script) when on PATH, else threaded http.client.

Both run on the load core for a fixed duration against one server and return a `LoadResult`.
"""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from bench.servers import LOAD_CORE, pinned


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int = 0  # non-2xx answers plus socket errors
    details: dict = field(default_factory=dict)
    rss_kb: int | None = None
    cpu_seconds: float | None = None  # the server worker's CPU time during the run

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self):
        """Worker CPU per request: much steadier than req/s when other processes share the core."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds * 1000 / self.requests


@dataclass
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


def percentile(sorted_values, pct):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, int(round(pct / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def _lua_string(value):
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this input


LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %.1f, "p99_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def wrk_script(request):
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    for name, value in request.headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if request.body is not None:
        lines.append(f"wrk.body = {_lua_string(request.body.decode())}")
    return "\n".join(lines) + "\n" + LUA_DONE


def have_wrk():
    return shutil.which("wrk") is not None


def run_wrk(port, request, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(wrk_script(request))
        script = handle.name
    try:
        seconds = max(1, round(duration))  # wrk takes whole seconds
        command = pinned(LOAD_CORE, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
                                     "-s", script, f"http://127.0.0.1:{port}{request.path}"])
        completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON "):])
            break
    else:
        raise RuntimeError(f"wrk printed no result (exit {completed.returncode}):\n{completed.stdout}\n"
                           f"{completed.stderr}")
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return LoadResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000, errors=data["status"] + socket_errors,
        details={"generator": "wrk", "non_2xx": data["status"], "socket_errors": socket_errors})


def run_python(port, request, duration, connections):
    """Threaded http.client load (one connection per thread, reopened when the server closes it)."""
    deadline = time.perf_counter() + duration
    latencies = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[index]
        while True:
            started = time.perf_counter()
            if started >= deadline:
                break
            try:
                conn.request(request.method, request.path, body=request.body, headers=request.headers)
                response = conn.getresponse()
                response.read()
                if not 200 <= response.status < 400:
                    errors[index] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - started)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    values = sorted(value for chunk in latencies for value in chunk)
    return LoadResult(
        requests=len(values), seconds=elapsed, p50_ms=percentile(values, 50) * 1000,
        p99_ms=percentile(values, 99) * 1000, max_ms=(values[-1] * 1000 if values else 0.0),
        errors=sum(errors), details={"generator": "python"})


def run_load(port, request, duration, connections, generator="auto"):
    use_wrk = generator == "wrk" or (generator == "auto" and have_wrk())
    if use_wrk:
        return run_wrk(port, request, duration, connections)
    return run_python(port, request, duration, connections)
