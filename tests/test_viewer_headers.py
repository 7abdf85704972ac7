"""The files the viewer reads can never run as a page: the attachment's route and its searchable PDF's (/ocr)
answer with `Content-Security-Policy: … sandbox` and `X-Content-Type-Options: nosniff`, as a download, whatever
the file's type (a captured e-mail may bring HTML or SVG); and the pdf.js the client serves is the one npm
installed."""
import filecmp
import io
from pathlib import Path

import pytest
from werkzeug.http import parse_options_header

from courrier import storage
from courrier.documents.models import Attachment
from courrier.extensions import db
from tests.test_documents import PDF, create_doc, upload

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = {
    "text/html": b"<!doctype html><script>fetch('/api/auth/me')</script>",
    "image/svg+xml": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "application/pdf": PDF,
}


def csp_directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_never_a_page(response):
    directives = csp_directives(response.headers["Content-Security-Policy"])
    assert directives["sandbox"] == []  # no allow-scripts, no allow-same-origin: an opaque origin, nothing runs
    assert directives["default-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert parse_options_header(response.headers["Content-Disposition"])[0] == "attachment"


def stored_as(app, attachment_id, content, content_type, column="storage_name"):
    """Make the attachment hold `content` (stored now) as `content_type`, or its searchable PDF (`column`)."""
    with app.app_context():
        stored = storage.current().put(io.BytesIO(content))
        attachment = db.session.get(Attachment, attachment_id)
        setattr(attachment, column, stored.key)
        if column == "storage_name":
            attachment.content_type, attachment.size = content_type, stored.size
        else:
            attachment.ocr_size = stored.size
        db.session.commit()


@pytest.mark.parametrize("content_type", sorted(HOSTILE))
def test_an_attachment_is_sent_sandboxed_whatever_its_type(app, client, agent, content_type):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"]).json["data"]
    stored_as(app, attachment["id"], HOSTILE[content_type], content_type)
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}", headers=agent.headers) as response:
        assert response.status_code == 200
        assert response.mimetype == content_type and response.data == HOSTILE[content_type]
        assert_never_a_page(response)


def test_the_searchable_pdf_is_sent_sandboxed(app, client, agent):
    doc = create_doc(client, agent)
    attachment = upload(client, agent, doc["id"]).json["data"]
    stored_as(app, attachment["id"], HOSTILE["text/html"], None, column="ocr_storage_name")
    with client.get(f"/api/documents/{doc['id']}/attachments/{attachment['id']}/ocr",
                    headers=agent.headers) as response:
        assert response.status_code == 200
        assert response.data == HOSTILE["text/html"]
        assert_never_a_page(response)


@pytest.mark.parametrize("name", ["pdf.min.mjs", "pdf.worker.min.mjs"])
def test_the_vendored_pdfjs_is_the_installed_one(name):
    vendored = ROOT / "courrier" / "web" / "static" / "vendor" / "pdfjs" / name
    installed = ROOT / "node_modules" / "pdfjs-dist" / "build" / name
    assert vendored.is_file()
    if not installed.is_file():
        pytest.skip("node_modules/pdfjs-dist is not installed (npm ci)")
    assert filecmp.cmp(installed, vendored, shallow=False)
