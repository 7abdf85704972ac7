"""Attachments: PDF/PNG/JPEG recognised by content, size limits, content-addressed storage keys, safe
filenames, scope, downloads, and nothing left in the store when an upload is refused or fails."""
import hashlib
import io
import os
import struct
import zlib

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from courrier.documents import service
from courrier.documents.models import Attachment
from courrier.documents.uploads import clean_filename
from courrier.extensions import db
from tests.test_documents import PDF, assert_error, assert_field_error, create_doc, history_actions, upload


def make_png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


PNG = make_png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def stored_files(app):
    """Every file under UPLOAD_FOLDER (recursively), as {name: content}."""
    found = {}
    for root, _, names in os.walk(app.config["UPLOAD_FOLDER"]):
        for name in names:
            with open(os.path.join(root, name), "rb") as handle:
                found[os.path.relpath(os.path.join(root, name), app.config["UPLOAD_FOLDER"])] = handle.read()
    return found


def attachments_of(client, account, doc):
    response = client.get(f"/api/documents/{doc['id']}/attachments", headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


# ------------------------------------------------------------------ accepted types

@pytest.mark.parametrize("content, filename, client_type, detected", [
    (PDF, "lettre.pdf", "application/pdf", "application/pdf"),
    (PNG, "scan.png", "image/png", "image/png"),
    (JPEG, "photo.jpeg", "image/jpeg", "image/jpeg"),
    (PNG, "scan.pdf", "application/pdf", "image/png"),
    (PDF, "sans-extension", "application/octet-stream", "application/pdf"),
])
def test_type_is_decided_by_content(app, client, agent, content, filename, client_type, detected):
    doc = create_doc(client, agent)
    response = upload(client, agent, doc["id"], content, filename, client_type)
    assert response.status_code == 201, response.json
    attachment = response.json["data"]
    assert attachment["content_type"] == detected
    assert attachment["filename"] == filename
    assert attachment["size"] == len(content)
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored_files(app) == {attachment_storage_name(app, attachment["id"]): content}


def attachment_storage_name(app, attachment_id):
    with app.app_context():
        return db.session.get(Attachment, attachment_id).storage_name


def test_stored_under_the_sha256_of_its_bytes(app, client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF, "lettre.pdf").json["data"]
    name = attachment_storage_name(app, attachment["id"])
    assert name == hashlib.sha256(PDF).hexdigest() == attachment["sha256"]
    assert list(stored_files(app)) == [name]


def test_the_same_bytes_twice_are_one_object_for_two_attachments(app, client, agent, validateur):
    doc, other = create_doc(client, agent), create_doc(client, agent)
    first = upload(client, agent, doc["id"], PDF, "lettre.pdf").json["data"]
    second = upload(client, agent, other["id"], PDF, "copie.pdf").json["data"]
    assert first["id"] != second["id"]
    assert list(stored_files(app)) == [hashlib.sha256(PDF).hexdigest()]
    for document, attachment in ((doc, first), (other, second)):
        with client.get(f"/api/documents/{document['id']}/attachments/{attachment['id']}",
                        headers=validateur.headers) as response:
            assert (response.status_code, response.data) == (200, PDF)


def test_a_failed_upload_keeps_the_object_another_attachment_names(app, client, agent, monkeypatch):
    doc = create_doc(client, agent)
    kept = upload(client, agent, doc["id"], PDF, "lettre.pdf").json["data"]

    def broken_record(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(service, "record", broken_record)
    assert_error(upload(client, agent, doc["id"], PDF, "doublon.pdf"), 500, "internal_error")
    monkeypatch.undo()
    assert stored_files(app) == {kept["sha256"]: PDF}
    with client.get(f"/api/documents/{doc['id']}/attachments/{kept['id']}", headers=agent.headers) as response:
        assert (response.status_code, response.data) == (200, PDF)


# ------------------------------------------------------------------ refused content

@pytest.mark.parametrize("content, filename", [
    (b"Ceci n'est pas un PDF.\n", "notes.pdf"),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,", "image.png"),
    (b"<html><script>alert(1)</script></html>", "page.jpg"),
    (b" %PDF-1.4 with a leading space", "lettre.pdf"),
    (b"PK\x03\x04 a zip archive", "archive.pdf"),
    (b"\x89PNG but not the full signature", "scan.png"),
], ids=["text-as-pdf", "gif-as-png", "html-as-jpg", "offset-pdf", "zip-as-pdf", "truncated-png"])
def test_spoofed_content_is_refused_and_not_stored(app, client, agent, content, filename):
    doc = create_doc(client, agent)
    response = upload(client, agent, doc["id"], content, filename, "application/pdf")
    assert_field_error(response, "file")
    assert stored_files(app) == {}
    assert attachments_of(client, agent, doc) == []
    assert history_actions(client, agent, doc["id"]) == ["created"]


def test_empty_file_is_refused(app, client, agent):
    doc = create_doc(client, agent)
    assert_field_error(upload(client, agent, doc["id"], b"", "vide.pdf"), "file")
    assert stored_files(app) == {}


def test_missing_file_field_is_422(client, agent):
    doc = create_doc(client, agent)
    response = client.post(f"/api/documents/{doc['id']}/attachments", headers=agent.headers,
                           data={"document": (io.BytesIO(PDF), "lettre.pdf")}, content_type="multipart/form-data")
    assert_field_error(response, "file")
    response = client.post(f"/api/documents/{doc['id']}/attachments", headers=agent.headers,
                           data={}, content_type="multipart/form-data")
    assert_field_error(response, "file")


def test_a_form_field_beside_the_file_is_an_unknown_field(app, client, agent):
    """As in a JSON body; schemathesis (seed 1643523133) sent one, and the file was stored all the same."""
    doc = create_doc(client, agent)
    response = client.post(f"/api/documents/{doc['id']}/attachments", headers=agent.headers,
                           data={"file": (io.BytesIO(PDF), "lettre.pdf"), "commentaire": "urgent"},
                           content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"commentaire": ["Champ inconnu."]}
    assert stored_files(app) == {}


def test_json_body_on_upload_is_refused(client, agent):
    doc = create_doc(client, agent)
    response = client.post(f"/api/documents/{doc['id']}/attachments", headers=agent.headers, json={"file": "x"})
    assert_field_error(response, "file")


# ------------------------------------------------------------------ size limits

@pytest.mark.parametrize("app_config", [{"ATTACHMENT_MAX_BYTES": 1024}])
def test_file_at_the_limit_is_accepted(client, agent):
    doc = create_doc(client, agent)
    content = PDF + b"%" * (1024 - len(PDF))
    assert upload(client, agent, doc["id"], content).json["data"]["size"] == 1024


@pytest.mark.parametrize("app_config", [{"ATTACHMENT_MAX_BYTES": 1024}])
@pytest.mark.parametrize("size", [1025, 4096, 200_000], ids=["one-byte-over", "small-body", "body-over-limit"])
def test_file_over_the_limit_is_413_and_not_stored(app, client, agent, size):
    doc = create_doc(client, agent)
    content = PDF + b"%" * (size - len(PDF))
    assert_error(upload(client, agent, doc["id"], content), 413, "payload_too_large")
    assert stored_files(app) == {}
    assert attachments_of(client, agent, doc) == []


@pytest.mark.parametrize("app_config", [{"ATTACHMENT_MAX_BYTES": 1024, "MAX_JSON_BYTES": 512}])
def test_json_limit_does_not_apply_to_uploads(client, agent):
    doc = create_doc(client, agent, description=None)
    assert upload(client, agent, doc["id"], PDF + b"%" * 800).status_code == 201


# ------------------------------------------------------------------ filenames

@pytest.mark.parametrize("client_name, expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/absolute/path/lettre.pdf", "lettre.pdf"),
    ("facture\u202efdp.pdf", "facturefdp.pdf"),
    ("lettre\tdu\x7fmaire.pdf", "lettredumaire.pdf"),
    ("..", "piece-jointe.pdf"),
    ("", "piece-jointe.pdf"),
    (".cache.pdf", "cache.pdf"),
    ("Courrier reçu.pdf", "Courrier reçu.pdf"),
])
def test_filename_is_sanitised_metadata(app, client, agent, client_name, expected):
    doc = create_doc(client, agent)
    response = upload(client, agent, doc["id"], PDF, client_name)
    assert response.status_code == 201, response.json
    assert response.json["data"]["filename"] == expected
    assert list(stored_files(app)) == [attachment_storage_name(app, response.json["data"]["id"])]


@pytest.mark.parametrize("client_name, expected", [
    # Werkzeug's multipart parser already unescapes backslashes; the cleaner still cuts them.
    ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
    ("C:\\Users\\claire\\Documents\\Courrier reçu.pdf", "Courrier reçu.pdf"),
    ("lettre\r\nX-Injected: 1.pdf", "lettreX-Injected: 1.pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("   ", "piece-jointe.png"),
    ("e\u0301te\u0301.png", "\u00e9t\u00e9.png"),
])
def test_clean_filename(client_name, expected):
    assert clean_filename(client_name, "image/png") == expected


def test_path_traversal_stays_inside_the_upload_folder(app, client, agent):
    doc = create_doc(client, agent)
    response = upload(client, agent, doc["id"], PDF, "../../etc/passwd.pdf")
    assert response.status_code == 201
    assert response.json["data"]["filename"] == "passwd.pdf"
    lock_dir = app.config["PASSWORD_HASHING_LOCK_DIR"]  # the bcrypt slots' lock files live there too
    app_files = os.path.dirname(app.config["UPLOAD_FOLDER"])  # the database, the uploads, the bcrypt slots
    on_disk = [os.path.join(root, name) for root, _, names in os.walk(app_files) for name in names
               if not name.startswith(("test.sqlite", "jobs.sqlite")) and root != lock_dir]
    stored_as = attachment_storage_name(app, response.json["data"]["id"])
    assert on_disk == [os.path.join(app.config["UPLOAD_FOLDER"], stored_as)]


def test_long_filename_is_cut_to_255_keeping_its_extension():
    name = clean_filename("a" * 400 + ".pdf", "application/pdf")
    assert len(name) == 255 and name.endswith(".pdf")


# ------------------------------------------------------------------ who may upload, and when

def test_upload_allowed_for_creator_and_admin_only(client, agent, validateur, admin, auth):
    doc = create_doc(client, agent)
    assert upload(client, agent, doc["id"]).status_code == 201
    assert upload(client, admin, doc["id"], PNG, "annexe.png").status_code == 201
    assert_error(upload(client, validateur, doc["id"]), 403, "forbidden")
    assert_error(upload(client, auth.account("agent"), doc["id"]), 404, "not_found")
    assert len(attachments_of(client, validateur, doc)) == 2


@pytest.mark.parametrize("decision, body", [("validate", None), ("reject", {"motif": "Incomplet"})])
def test_upload_after_decision_is_409_and_not_stored(app, client, agent, validateur, admin, decision, body):
    doc = create_doc(client, agent)
    assert client.post(f"/api/documents/{doc['id']}/{decision}", json=body,
                       headers=validateur.headers).status_code == 200
    for account in (agent, admin):
        assert_error(upload(client, account, doc["id"]), 409, "conflict")
    assert stored_files(app) == {}
    assert attachments_of(client, agent, doc) == []


def test_upload_records_history(client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF, "lettre.pdf").json["data"]
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers).json["data"]
    assert [e["action"] for e in entries] == ["created", "attachment_added"]
    assert entries[-1]["details"]["attachment_id"] == attachment["id"]
    assert entries[-1]["details"]["filename"] == "lettre.pdf"


def test_failed_database_write_removes_the_stored_file(app, client, agent, monkeypatch):
    doc = create_doc(client, agent)

    def broken_record(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(service, "record", broken_record)
    assert_error(upload(client, agent, doc["id"]), 500, "internal_error")
    monkeypatch.undo()
    assert stored_files(app) == {}
    assert attachments_of(client, agent, doc) == []
    with app.app_context():
        assert db.session.scalars(select(Attachment)).all() == []


# ------------------------------------------------------------------ listing and downloading

def test_list_attachments_in_upload_order(client, agent, validateur):
    doc = create_doc(client, agent)
    first = upload(client, agent, doc["id"], PDF, "un.pdf").json["data"]
    second = upload(client, agent, doc["id"], PNG, "deux.png").json["data"]
    listed = attachments_of(client, validateur, doc)
    assert [a["id"] for a in listed] == [first["id"], second["id"]]
    assert {"id", "filename", "content_type", "size", "sha256"} <= set(listed[0])


def test_download_returns_the_file_as_an_attachment(client, agent, validateur):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PNG, "scan.png").json["data"]
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}",
                    headers=validateur.headers) as response:
        assert response.status_code == 200
        assert response.data == PNG
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"] == "attachment; filename=scan.png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]


def test_download_name_is_quoted_safely(client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF, "Réponse urgente; x=1, été.pdf").json["data"]
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}", headers=agent.headers) as response:
        disposition = response.headers["Content-Disposition"]
    kind, options = parse_options_header(disposition)
    assert kind == "attachment"
    assert options["filename"] == "Réponse urgente; x=1, été.pdf"  # from the RFC 5987 filename*
    assert "filename*=UTF-8''R%C3%A9ponse%20urgente%3B%20x%3D1%2C%20%C3%A9t%C3%A9.pdf" in disposition


def test_attachment_is_reachable_only_through_its_document(client, agent, auth):
    doc, other = create_doc(client, agent), create_doc(client, agent)
    attachment = upload(client, agent, doc["id"]).json["data"]
    assert_error(client.get(f"/api/documents/{other['id']}/attachments/{attachment['id']}", headers=agent.headers),
                 404, "not_found")
    assert_error(client.get(f"/api/documents/{doc['id']}/attachments/00000000-0000-4000-8000-000000000000",
                            headers=agent.headers), 404, "not_found")
    stranger = auth.account("agent")
    base = f"/api/documents/{doc['id']}/attachments"
    for path in (base, f"{base}/{attachment['id']}"):
        assert_error(client.get(path, headers=stranger.headers), 404, "not_found")


def test_missing_file_on_disk_is_404(app, client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"]).json["data"]
    os.remove(os.path.join(app.config["UPLOAD_FOLDER"], attachment_storage_name(app, attachment["id"])))
    assert_error(client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}", headers=agent.headers),
                 404, "not_found")


def test_a_file_stored_before_keys_were_hashes_is_still_served(app, client, agent):
    """An older installation's rows name uuid4 hex files of UPLOAD_FOLDER: they are read as they are."""
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PNG, "scan.png").json["data"]
    old_name = "0123456789abcdef0123456789abcdef"
    folder = app.config["UPLOAD_FOLDER"]
    os.rename(os.path.join(folder, attachment["sha256"]), os.path.join(folder, old_name))
    with app.app_context():
        db.session.get(Attachment, attachment["id"]).storage_name = old_name
        db.session.commit()
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}", headers=agent.headers) as response:
        assert (response.status_code, response.data) == (200, PNG)
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}", headers={
            **agent.headers, "Range": "bytes=0-7"}) as response:
        assert (response.status_code, response.data) == (206, PNG[:8])


def test_download_answers_a_range(client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"], PDF, "lettre.pdf").json["data"]
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}",
                    headers={**agent.headers, "Range": "bytes=2-5"}) as response:
        assert (response.status_code, response.data) == (206, PDF[2:6])
        assert response.headers["Content-Range"] == f"bytes 2-5/{len(PDF)}"
        assert response.headers["Content-Disposition"] == "attachment; filename=lettre.pdf"


def test_upload_folder_is_created_when_missing(app, client, agent):
    assert not os.path.exists(app.config["UPLOAD_FOLDER"])
    doc = create_doc(client, agent)
    assert upload(client, agent, doc["id"]).status_code == 201
    assert os.path.isdir(app.config["UPLOAD_FOLDER"])
