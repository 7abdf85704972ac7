"""Attachments on an S3 server: 10 MB uploads and downloads through the API against the same transfers made
by boto3 directly, side by side in rounds, on one S3 server (moto's server mode, a process of its own).

Each round, each side moves `--storage-files` files of 10 MB (distinct bytes: nothing is deduplicated)
up, then down, the two sides taking turns file by file: the API side with POST
/api/documents/<id>/attachments (multipart) and GET …/<attachment id> (the body read to its end), through
one gunicorn sync worker on the server core; the boto3 side with upload_fileobj and get_object from this
process. The ratio is the API's throughput over boto3's (goal ≥ 0.7×). The worker's VmRSS is read after a
warm-up transfer and after the last round: the growth (goal < 30 MiB) says whether a transfer leaves
memory behind, or ever holds a whole file.
"""
import http.client
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid

from bench.scenarios import Goal, Section, bearer, log, login
from bench.servers import PROJECT_ROOT, Server, free_port, http_request, read_status_kb

FILE_BYTES = 10 * 1024 * 1024
GOAL_RATIO = 0.7
GOAL_GROWTH_MIB = 30
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "courrier-bench", "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16),
               "AWS_DEFAULT_REGION": "us-east-1"}


class MotoServer:
    """`python -m moto.server` on a free port of the loopback, stopped at the end."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(log_dir, "moto.log")
        self.process = None

    def __enter__(self):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        cwd=PROJECT_ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start (see {self.log_path})")
                time.sleep(0.1)

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)
        self._log.close()


def distinct_files(count, base):
    """`count` files of FILE_BYTES, each with bytes of its own (a PDF header, then `base` with its own prefix)."""
    for _ in range(count):
        yield b"%PDF-1.7\n" + uuid.uuid4().bytes + base[:FILE_BYTES - 25]


def multipart(content):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def api_call(port, method, path, token, body=None, content_type=None):
    """One request on a new connection; (status, size of the body, its first 64 KiB), read in chunks."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = bearer(token)
    if content_type:
        headers["Content-Type"] = content_type
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        size, head = 0, b""
        while chunk := response.read(256 * 1024):
            head = head or chunk[:64 * 1024]
            size += len(chunk)
        return response.status, size, head
    finally:
        conn.close()


def api_upload(server, token, document_id, content):
    """The id of the attachment made of `content`."""
    body, content_type = multipart(content)
    status, _, head = api_call(server.port, "POST", f"/api/documents/{document_id}/attachments", token, body,
                               content_type)
    if status != 201:
        raise RuntimeError(f"upload answered {status}: {head[:300]!r}")
    return json.loads(head)["data"]["id"]


def api_download(server, token, document_id, attachment_id):
    status, size, _ = api_call(server.port, "GET", f"/api/documents/{document_id}/attachments/{attachment_id}",
                               token)
    if status != 200 or size != FILE_BYTES:
        raise RuntimeError(f"download answered {status} with {size} bytes")


def boto3_client(endpoint):
    import boto3

    session = boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                    region_name=CREDENTIALS["AWS_DEFAULT_REGION"])
    return session.client("s3", endpoint_url=endpoint)


def boto3_download(client, bucket, key):
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    size = 0
    while chunk := body.read(256 * 1024):
        size += len(chunk)
    if size != FILE_BYTES:
        raise RuntimeError(f"boto3 read {size} bytes")


def run_round(app, token, document_id, client, bucket, count, base):
    """The seconds each side spent on `count` uploads then `count` downloads, the two sides taking turns
    file by file (a machine busier for a moment slows both alike)."""
    seconds = dict.fromkeys(("API upload", "boto3 upload", "API download", "boto3 download"), 0.0)
    attachments, keys = [], []
    for api_file, direct_file in zip(distinct_files(count, base), distinct_files(count, base)):
        started = time.perf_counter()
        attachments.append(api_upload(app, token, document_id, api_file))
        middle = time.perf_counter()
        keys.append(f"direct/{uuid.uuid4().hex}")
        client.upload_fileobj(io.BytesIO(direct_file), bucket, keys[-1])
        seconds["API upload"] += middle - started
        seconds["boto3 upload"] += time.perf_counter() - middle
    for attachment, key in zip(attachments, keys):
        started = time.perf_counter()
        api_download(app, token, document_id, attachment)
        middle = time.perf_counter()
        boto3_download(client, bucket, key)
        seconds["API download"] += middle - started
        seconds["boto3 download"] += time.perf_counter() - middle
    return seconds


def scenario_storage(ctx):
    count = ctx.options.storage_files
    section = Section(f"attachments on S3 (moto server) — {count} × 10 MB up and down, API vs boto3 directly "
                      f"[{ctx.dialect}]")
    url = ctx.databases.clone("storage")
    base = os.urandom(FILE_BYTES)
    mib = FILE_BYTES * count / (1024 * 1024)
    rates = {"API upload": [], "boto3 upload": [], "API download": [], "boto3 download": []}
    try:
        with MotoServer(ctx.log_dir) as moto:
            client = boto3_client(moto.endpoint)
            bucket = f"courrier-bench-{uuid.uuid4().hex[:8]}"
            client.create_bucket(Bucket=bucket)
            env = ctx.app_env.for_database(url, STORAGE_URL=f"s3://{bucket}/pj", S3_ENDPOINT_URL=moto.endpoint,
                                           **CREDENTIALS)
            with Server("app-storage", "wsgi:app", env, ctx.log_dir) as app:
                token = login(app)
                status, body, _ = http_request(app.port, "POST", "/api/documents", {
                    "type": "entrant", "objet": "Banc des pièces jointes", "expediteur": "Banc",
                    "destinataire": "Courrier"}, bearer(token))
                document_id = body["data"]["id"]
                warm = api_upload(app, token, document_id, next(distinct_files(1, base)))
                api_download(app, token, document_id, warm)
                pid = app.worker_pid()
                start_kb = read_status_kb(pid, "VmRSS")
                for round_index in range(ctx.options.rounds):
                    seconds = run_round(app, token, document_id, client, bucket, count, base)
                    for label, value in seconds.items():
                        rates[label].append(mib / value)
                    log(f"  round {round_index + 1}/{ctx.options.rounds}: upload API {rates['API upload'][-1]:.0f} / "
                        f"boto3 {rates['boto3 upload'][-1]:.0f} MiB/s, download API "
                        f"{rates['API download'][-1]:.0f} / boto3 {rates['boto3 download'][-1]:.0f} MiB/s")
                end_kb = read_status_kb(pid, "VmRSS")
                hwm_kb = read_status_kb(pid, "VmHWM")
    finally:
        ctx.databases.drop("storage")
    for label, values in rates.items():
        ordered = sorted(values)
        figures = (ordered[0], ordered[len(ordered) // 2], ordered[-1])
        section.facts.append((f"{label}, MiB/s min/med/max", " / ".join(f"{value:.1f}" for value in figures)))
    section.facts.append(("worker VmRSS after the warm-up / after the last round / VmHWM",
                          f"{start_kb / 1024:.1f} / {end_kb / 1024:.1f} / {hwm_kb / 1024:.1f} MiB"))
    for kind in ("upload", "download"):
        section.goals.append(Goal(f"10 MB {kind}s, API / boto3 directly [{ctx.dialect}]",
                                  [a / b for a, b in zip(rates[f"API {kind}"], rates[f"boto3 {kind}"])], GOAL_RATIO))
    section.goals.append(Goal(f"worker VmRSS growth over {ctx.options.rounds * count * 2} transfers of 10 MB, MiB",
                              [(end_kb - start_kb) / 1024], GOAL_GROWTH_MIB, higher_is_better=False, unit=" MiB"))
    return section
