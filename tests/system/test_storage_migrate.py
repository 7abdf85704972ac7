"""`flask storage migrate --to s3://…` and `flask storage check`, from the disk store to a bucket of a
real S3-compatible server (moto's server mode): every file copied with its hash checked, a corrupt one
listed and left as it was, an old uuid-named file given its SHA-256 key, a run resumed after the bucket
failed without copying anything twice."""
import os

import pytest
from sqlalchemy import select

from courrier import storage
from courrier.documents.models import Attachment
from courrier.extensions import db
from courrier.storage import s3
from tests.test_documents import PDF, create_doc, upload

pytestmark = pytest.mark.system

OLD_NAME = "0123456789abcdef0123456789abcdef"
OLD, SOUND, DAMAGED = b"%PDF-1.4 ancien", b"%PDF-1.4 sain", b"%PDF-1.4 abime"


@pytest.fixture(scope="module")
def bucket(s3_server):
    return s3_server.new_bucket()


@pytest.fixture
def app_config(s3_server):
    """The disk store (the default), and the S3 server a destination `s3://` URL names."""
    return {"S3_ENDPOINT_URL": s3_server.endpoint}


@pytest.fixture
def attachments(app, client, agent):
    """Five attachments on disk: one under an old uuid name, two sharing their bytes, one sound, and one
    whose file was damaged after it was stored."""
    doc = create_doc(client, agent)
    rows = [upload(client, agent, doc["id"], content).json["data"] for content in (OLD, PDF, PDF, SOUND, DAMAGED)]
    folder = app.config["UPLOAD_FOLDER"]
    os.rename(os.path.join(folder, rows[0]["sha256"]), os.path.join(folder, OLD_NAME))
    with app.app_context():
        db.session.get(Attachment, rows[0]["id"]).storage_name = OLD_NAME
        db.session.commit()
    return rows


def damage(app, row):
    with open(os.path.join(app.config["UPLOAD_FOLDER"], row["sha256"]), "wb") as handle:
        handle.write(b"%PDF-1.4 ABIME")


def storage_names(app):
    with app.app_context():
        return dict(db.session.execute(select(Attachment.id, Attachment.storage_name)).all())


def keys_in(s3_server, bucket, prefix):
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
    return sorted(item["Key"].split("/", 1)[1] for item in listed)


def flask_storage(app, s3_server, *args):
    return app.test_cli_runner().invoke(args=["storage", *args], env=s3_server.credentials)


def test_migrate_copies_every_file_checked_and_leaves_a_corrupt_one_as_it_was(app, attachments, s3_server, bucket):
    damage(app, attachments[4])
    before = storage_names(app)
    target = f"s3://{bucket}/migre"
    result = flask_storage(app, s3_server, "migrate", "--to", target)
    assert result.exit_code == 1, result.output
    assert "corrompu dans la source" in result.output and attachments[4]["id"] in result.output
    assert keys_in(s3_server, bucket, "migre") == sorted({row["sha256"] for row in attachments[:4]})
    names = storage_names(app)
    assert names[attachments[0]["id"]] == attachments[0]["sha256"]  # the old name became its hash
    assert {row_id: names[row_id] for row_id in names if row_id != attachments[0]["id"]} == {
        row_id: name for row_id, name in before.items() if row_id != attachments[0]["id"]}
    folder = app.config["UPLOAD_FOLDER"]
    assert not os.path.exists(os.path.join(folder, OLD_NAME))
    with app.app_context():  # the running app still serves it, from the disk, under its new key
        with storage.current().open(attachments[0]["sha256"]) as stream:
            assert stream.read() == OLD
    check = flask_storage(app, s3_server, "check", "--store", target)
    assert check.exit_code == 1
    assert f"manquant : pièces jointes {attachments[4]['id']}" in check.output
    assert "4 fichier(s) intact(s), 1 manquant(s) ou corrompu(s)" in check.output
    local = flask_storage(app, s3_server, "check")
    assert local.exit_code == 1 and "corrompu (" in local.output and attachments[4]["id"] in local.output


def test_migrate_resumes_after_the_bucket_failed_and_copies_each_file_once(
        app, attachments, s3_server, bucket, monkeypatch):
    uploads, real_call = [], s3.S3Store._call

    def failing_second_upload(self, method, *args, **kwargs):
        if method.__name__ in ("put_object", "upload_file"):
            if len(uploads) == 1 and not failing_second_upload.done:
                failing_second_upload.done = True
                raise storage.StorageUnavailable("panne simulée")
            uploads.append(kwargs["Key"] if method.__name__ == "put_object" else args[2])
        return real_call(self, method, *args, **kwargs)

    failing_second_upload.done = False
    monkeypatch.setattr(s3.S3Store, "_call", failing_second_upload)
    target = f"s3://{bucket}/reprise"
    first = flask_storage(app, s3_server, "migrate", "--to", target)
    assert first.exit_code == 2 and "relancez" in first.output
    assert len(keys_in(s3_server, bucket, "reprise")) == 1
    second = flask_storage(app, s3_server, "migrate", "--to", target)
    assert second.exit_code == 0, second.output
    distinct = sorted({row["sha256"] for row in attachments})
    assert keys_in(s3_server, bucket, "reprise") == distinct
    assert sorted(name.split("/", 1)[1] for name in uploads) == distinct  # each object uploaded once
    assert flask_storage(app, s3_server, "check", "--store", target).exit_code == 0


def test_check_finds_an_object_changed_in_the_bucket(app, attachments, s3_server, bucket):
    target = f"s3://{bucket}/controle"
    assert flask_storage(app, s3_server, "migrate", "--to", target).exit_code == 0
    s3_server.client().put_object(Bucket=bucket, Key=f"controle/{attachments[3]['sha256']}", Body=b"%PDF-1.4 autre")
    check = flask_storage(app, s3_server, "check", "--store", target)
    assert check.exit_code == 1
    assert "corrompu (14 octets" in check.output and attachments[3]["id"] in check.output


@pytest.mark.parametrize("args, message", [
    (["--to", "ftp://ailleurs"], "file:// ou s3://"),
    (["--to", "file://{folder}"], "la destination est le stockage source"),
])
def test_migrate_refuses_a_wrong_destination(app, s3_server, args, message):
    args = [arg.format(folder=app.config["UPLOAD_FOLDER"]) for arg in args]
    result = flask_storage(app, s3_server, "migrate", *args)
    assert result.exit_code == 2 and message in result.output
