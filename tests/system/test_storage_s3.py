"""Attachments in a bucket of a real S3-compatible HTTP server (moto's server mode, one per session):
upload, download, ranges and streaming, a missing object, a bucket that does not answer; then two
gunicorn instances with different local folders serving one attachment from the bucket."""
import base64
import hashlib
import http.client
import io
import os
import uuid

import pytest
from botocore.config import Config
from sqlalchemy import select

from courrier.documents.models import Attachment
from courrier.extensions import db
from courrier.storage import s3
from tests.system.conftest import ADMIN_PASSWORD, Client, free_port, server_env
from tests.test_documents import PDF, assert_error, create_doc, upload

pytestmark = pytest.mark.system

MB = 1024 * 1024
# Over a multipart threshold lowered to 8 MB for the test (two parts of 5 MB), under ATTACHMENT_MAX_BYTES.
PARTED_BYTES = 8 * MB
LARGE = b"%PDF-1.7\n" + bytes(range(256)) * ((PARTED_BYTES + MB) // 256)


@pytest.fixture(scope="module")
def bucket(s3_server):
    return s3_server.new_bucket()


@pytest.fixture
def app_config(s3_server, bucket):
    return {"STORAGE_URL": f"s3://{bucket}/pj", "S3_ENDPOINT_URL": s3_server.endpoint}


@pytest.fixture(autouse=True)
def empty_bucket(s3_server, bucket):
    client = s3_server.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    return client


def multipart(content, filename, content_type="application/pdf"):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def bucket_keys(client, bucket, prefix="pj/"):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def download(client, account, doc, attachment, **headers):
    return client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}",
                      headers={**account.headers, **headers})


def test_an_upload_goes_to_the_bucket_under_its_sha256(app, client, agent, empty_bucket, bucket):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF).json["data"]
    assert bucket_keys(empty_bucket, bucket) == [f"pj/{hashlib.sha256(PDF).hexdigest()}"]
    assert not os.path.exists(app.config["UPLOAD_FOLDER"])
    head = empty_bucket.head_object(Bucket=bucket, Key=f"pj/{attachment['sha256']}", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    with download(client, agent, doc, attachment) as response:
        assert (response.status_code, response.data) == (200, PDF)
        assert response.headers["Content-Disposition"] == "attachment; filename=lettre.pdf"


def test_a_large_file_goes_in_parts_and_comes_back_streamed_and_by_ranges(
        app, client, agent, empty_bucket, bucket, monkeypatch):
    monkeypatch.setattr(s3, "MULTIPART_BYTES", PARTED_BYTES)
    doc = create_doc(client, agent)
    # The body built here: Werkzeug's test client leaves the temporary file of a large multipart body open.
    body, headers = multipart(LARGE, "gros.pdf")
    attachment = client.post(f"/api/documents/{doc['id']}/attachments", data=body,
                             headers={**agent.headers, **headers}).json["data"]
    key = f"pj/{hashlib.sha256(LARGE).hexdigest()}"
    assert empty_bucket.head_object(Bucket=bucket, Key=key, PartNumber=1)["PartsCount"] == 2
    with download(client, agent, doc, attachment) as response:
        assert response.status_code == 200 and response.is_streamed
        assert response.content_length == len(LARGE)
        assert hashlib.sha256(response.data).hexdigest() == attachment["sha256"]
    boundary = s3.PART_BYTES
    with download(client, agent, doc, attachment, Range=f"bytes={boundary - 10}-{boundary + 9}") as response:
        assert (response.status_code, response.data) == (206, LARGE[boundary - 10:boundary + 10])
        assert response.headers["Content-Range"] == f"bytes {boundary - 10}-{boundary + 9}/{len(LARGE)}"


class ReadOnce:
    """A stream that cannot be read twice (no seek), as the body of another store is."""

    def __init__(self, content):
        self._buffer = io.BytesIO(content)

    def read(self, size=-1):
        return self._buffer.read(size)


def test_a_stream_read_once_is_sent_from_a_copy_made_while_hashing(app, empty_bucket, bucket):
    with app.app_context():
        stored = app.extensions["courrier_storage"].put(ReadOnce(PDF))
    assert stored.key == hashlib.sha256(PDF).hexdigest() and stored.size == len(PDF)
    assert empty_bucket.get_object(Bucket=bucket, Key=f"pj/{stored.key}")["Body"].read() == PDF


def test_a_missing_object_is_a_404(client, agent, empty_bucket, bucket):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF).json["data"]
    empty_bucket.delete_object(Bucket=bucket, Key=f"pj/{attachment['sha256']}")
    body = assert_error(download(client, agent, doc, attachment), 404, "not_found")
    assert "introuvable" in body["message"]


@pytest.fixture
def unreachable_bucket(app, monkeypatch):
    """The app's store pointed at a port where nothing listens, tried once."""
    monkeypatch.setattr(s3, "CLIENT_CONFIG", Config(connect_timeout=1, retries={"max_attempts": 1}))
    monkeypatch.setitem(app.extensions, "courrier_storage",
                        s3.S3Store("courrier-absent", "pj", f"http://127.0.0.1:{free_port()}"))


def test_an_upload_to_a_bucket_that_does_not_answer_is_a_503(app, client, agent, unreachable_bucket, caplog):
    doc = create_doc(client, agent)
    assert_error(upload(client, agent, doc["id"], PDF), 503, "service_unavailable")
    with app.app_context():
        assert db.session.scalars(select(Attachment)).all() == []
    assert "store unavailable" in caplog.text
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in caplog.text


def test_a_download_from_a_bucket_that_does_not_answer_is_a_503(app, client, agent, request):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF).json["data"]
    request.getfixturevalue("unreachable_bucket")
    response = download(client, agent, doc, attachment)
    assert_error(response, 503, "service_unavailable")
    assert int(response.headers["Retry-After"]) > 0


# ------------------------------------------------------------------ two instances, one bucket


def fetch(server, path, token, **headers):
    """A GET whose body stays bytes: status, headers (lower-case names), body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}", **headers})
        response = conn.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_two_instances_with_different_folders_serve_one_attachment_from_the_bucket(
        database, servers, s3_server, bucket, tmp_path_factory):
    shared = server_env(database.url_string, tmp_path_factory.mktemp("instances"), **s3_server.env(bucket))
    envs = [{**shared, "UPLOAD_FOLDER": str(tmp_path_factory.mktemp(name) / "uploads")} for name in "ab"]
    admin_email = database.prepare(envs[0])
    a = servers.start("s3-a", envs[0], workers=1)
    b = servers.start("s3-b", envs[1], workers=1)
    admin = Client(a, admin_email, ADMIN_PASSWORD)
    assert admin.login().status == 200
    doc = a.call("POST", "/api/documents", {"type": "entrant", "objet": "Pièce partagée", "expediteur": "Mairie",
                                            "destinataire": "Préfecture"}, token=admin.token)
    assert doc.status == 201, doc.body
    body, headers = multipart(LARGE, "partagee.pdf")
    sent = a.call("POST", f"/api/documents/{doc.data['id']}/attachments", raw=body, headers=headers,
                  token=admin.token)
    assert sent.status == 201, sent.body
    path = f"/api/documents/{doc.data['id']}/attachments/{sent.data['id']}"
    status, _, data = fetch(b, path, admin.token)
    assert status == 200 and hashlib.sha256(data).hexdigest() == sent.data["sha256"]
    status, headers, data = fetch(b, path, admin.token, Range="bytes=0-8")
    assert (status, headers["content-range"], data) == (206, f"bytes 0-8/{len(LARGE)}", LARGE[:9])
    for env in envs:
        assert not os.path.exists(env["UPLOAD_FOLDER"]) or os.listdir(env["UPLOAD_FOLDER"]) == []
