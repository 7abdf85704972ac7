"""The disk store and the download of a stored object: content-addressed keys, hashes checked on the
way in, ranges, and clean errors for a missing object or a store that does not answer."""
import hashlib
import io
import os

import pytest

from courrier import storage
from courrier.errors import ApiError
from courrier.storage import references
from courrier.storage.disk import DiskStore
from courrier.storage.stores import configured_url, store_from_url

CONTENT = bytes(range(256)) * 1200  # 300 KB: more than one chunk
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def store(tmp_path):
    return DiskStore(str(tmp_path / "objets"))


def test_put_stores_the_bytes_under_their_sha256(store):
    stored = store.put(io.BytesIO(CONTENT))
    assert stored == storage.StoredObject(SHA, len(CONTENT), SHA)
    assert os.listdir(store.folder) == [SHA]
    with store.open(SHA) as stream:
        assert stream.read() == CONTENT


def test_the_same_bytes_are_stored_once(store):
    assert store.put(io.BytesIO(CONTENT)).key == store.put(io.BytesIO(CONTENT)).key
    assert os.listdir(store.folder) == [SHA]


def test_a_put_with_the_wrong_expected_hash_stores_nothing(store):
    with pytest.raises(storage.CorruptObject):
        store.put(io.BytesIO(CONTENT), sha256="0" * 64)
    assert os.listdir(store.folder) == []


def test_a_failing_source_leaves_no_partial_file(store):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise OSError("lecture interrompue")
            return super().read(size)

    with pytest.raises(OSError):
        store.put(Broken(CONTENT))
    assert os.listdir(store.folder) == []


def test_open_a_span(store):
    store.put(io.BytesIO(CONTENT))
    with store.open(SHA, 1000, 1010) as stream:
        assert stream.read() == CONTENT[1000:1010]
        assert stream.read() == b""


@pytest.mark.parametrize("key", ["0" * 64, "../../etc/passwd", "", "A" * 64, "0" * 63])
def test_missing_or_invalid_keys_are_missing_objects(store, key):
    with pytest.raises(storage.ObjectMissing):
        store.open(key)
    assert not store.exists(key)
    store.delete(key)  # nothing to remove, no error


def test_an_old_uuid_named_file_is_read_under_its_name(store):
    os.makedirs(store.folder)
    name = "0123456789abcdef0123456789abcdef"
    with open(os.path.join(store.folder, name), "wb") as handle:
        handle.write(b"%PDF-ancien")
    with store.open(name) as stream:
        assert stream.read() == b"%PDF-ancien"
    store.delete(name)
    assert not store.exists(name)


@pytest.mark.parametrize("url, folder", [
    ("file://instance/uploads", "{project}/instance/uploads"),
    ("file:///srv/courrier/objets", "/srv/courrier/objets"),
    ("file://../ailleurs/", "{parent}/ailleurs"),
])
def test_file_urls_are_relative_to_the_project(url, folder):
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    expected = folder.format(project=project, parent=os.path.dirname(project))
    assert store_from_url(url).folder == expected


def test_without_storage_url_the_store_is_upload_folder(app):
    assert configured_url({"UPLOAD_FOLDER": "/srv/pj"}) == "file:///srv/pj"
    assert configured_url({"UPLOAD_FOLDER": "/srv/pj", "STORAGE_URL": "s3://b/p"}) == "s3://b/p"
    assert app.extensions["courrier_storage"].folder == app.config["UPLOAD_FOLDER"]


@pytest.mark.parametrize("url", ["ftp://serveur/dossier", "file://", "s3://", "/chemin/sans/schema"])
def test_a_wrong_storage_url_stops_the_app_at_start(url):
    with pytest.raises(ValueError):
        store_from_url(url)


# ------------------------------------------------------------------ downloads

def send(app, headers=None, key=SHA, size=len(CONTENT), filename="lettre.pdf"):
    with app.test_request_context(headers=headers or {}):
        response = storage.send(key, filename=filename, content_type="application/pdf", size=size)
        return response.status_code, dict(response.headers), b"".join(response.response)


def test_send_streams_the_whole_object(app):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    status, headers, body = send(app)
    assert (status, body) == (200, CONTENT)
    assert headers["Content-Length"] == str(len(CONTENT))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Disposition"] == "attachment; filename=lettre.pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("header, span", [
    ("bytes=0-99", (0, 100)),
    ("bytes=1000-", (1000, len(CONTENT))),
    ("bytes=-10", (len(CONTENT) - 10, len(CONTENT))),
    ("bytes=5-5", (5, 6)),
    ("bytes=307000-999999999", (307000, len(CONTENT))),
])
def test_a_range_is_answered_206_with_that_span(app, header, span):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    status, headers, body = send(app, {"Range": header})
    assert status == 206
    assert body == CONTENT[span[0]:span[1]]
    assert headers["Content-Range"] == f"bytes {span[0]}-{span[1] - 1}/{len(CONTENT)}"
    assert headers["Content-Length"] == str(span[1] - span[0])


@pytest.mark.parametrize("headers", [
    {"Range": "bytes=0-9,20-29"}, {"Range": "octets=0-9"}, {"Range": "bytes=0-9", "If-Range": '"autre"'},
], ids=["several-spans", "malformed", "if-range-of-another-version"])
def test_other_ranges_get_the_whole_file(app, headers):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    status, _, body = send(app, headers)
    assert (status, len(body)) == (200, len(CONTENT))


def test_if_range_with_the_objects_etag_gets_the_span(app):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    status, headers, body = send(app, {"Range": "bytes=0-9"})
    status, _, body = send(app, {"Range": "bytes=0-9", "If-Range": headers["ETag"]})
    assert (status, body) == (206, CONTENT[:10])


def test_a_range_past_the_end_is_416(app):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    status, headers, _ = send(app, {"Range": f"bytes={len(CONTENT)}-"})
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_a_missing_object_is_a_404_logged(app, caplog):
    with pytest.raises(ApiError) as raised:
        send(app)
    assert (raised.value.status, raised.value.code) == (404, "not_found")
    assert "introuvable" in raised.value.message
    assert f"object {SHA} missing" in caplog.text


def test_a_store_that_does_not_answer_is_a_503(app, monkeypatch):
    def unreadable(key, start=0, stop=None):
        raise storage.StorageUnavailable("disque illisible")

    monkeypatch.setattr(app.extensions["courrier_storage"], "open", unreadable)
    with pytest.raises(ApiError) as raised:
        send(app)
    assert (raised.value.status, raised.value.code) == (503, "service_unavailable")
    assert raised.value.headers["Retry-After"]


def test_a_non_ascii_filename_gets_an_rfc5987_name(app):
    with app.app_context():
        storage.current().put(io.BytesIO(CONTENT))
    _, headers, _ = send(app, filename="Réponse été.pdf")
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Reponse ete.pdf\"; filename*=UTF-8''R%C3%A9ponse%20%C3%A9t%C3%A9.pdf")


# ------------------------------------------------------------------ objects shared by rows

def stored_in(app):
    with app.app_context():
        return storage.current().put(io.BytesIO(CONTENT))


def test_discard_removes_an_object_no_row_names(app):
    stored = stored_in(app)
    with app.app_context():
        storage.discard(stored, io.BytesIO(CONTENT))
        assert not storage.current().exists(SHA)


def test_discard_keeps_an_object_a_row_names(app, monkeypatch):
    stored = stored_in(app)
    monkeypatch.setattr(references, "is_referenced", lambda key: True)
    with app.app_context():
        storage.discard(stored, io.BytesIO(CONTENT))
        assert storage.current().exists(SHA)


def test_discard_puts_the_object_back_when_a_row_naming_it_committed_meanwhile(app, monkeypatch):
    """Another upload of the same bytes committed between the check and the removal."""
    stored = stored_in(app)
    answers = iter([False, True])
    monkeypatch.setattr(references, "is_referenced", lambda key: next(answers))
    with app.app_context():
        storage.discard(stored, io.BytesIO(CONTENT))
        with storage.current().open(SHA) as stream:
            assert stream.read() == CONTENT


def test_ensure_puts_back_an_object_a_failed_upload_removed(app):
    stored = stored_in(app)
    with app.app_context():
        storage.current().delete(SHA)
        storage.ensure(stored, io.BytesIO(CONTENT))
        assert storage.current().exists(SHA)


def test_attachments_are_a_registered_reference(app):
    assert "pièces jointes" in {reference.label for reference in references.registered()}
