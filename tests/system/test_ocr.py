"""One real OCR: a scanned word, uploaded, read by the `texte.extraction` job with ocrmypdf and Tesseract's French.

Skipped only when Tesseract (with `fra`), Ghostscript or ocrmypdf is not installed (CI installs them). One small
image, one OCR run: OCR is the slowest thing CI does.
"""
import io
import os

import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader

from courrier.search import index, ocr
from tests.test_documents import create_doc, upload
from tests.conftest import drain
from tests.test_text_extraction import stored_attachment

pytestmark = pytest.mark.system

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORD = "Réclamation"


def ocr_missing():
    try:
        ocr.available(ocr.Settings())
    except ocr.OcrUnavailable as reason:
        return str(reason)
    return None


def font(size):
    """DejaVu Sans (Debian's fonts-dejavu-core), else Pillow's own scalable font."""
    return ImageFont.truetype(FONT, size) if os.path.exists(FONT) else ImageFont.load_default(size)


def scanned_word():
    """« Réclamation » in big letters, as a 150 dpi greyscale scan."""
    image = Image.new("L", (700, 160), 255)
    ImageDraw.Draw(image).text((30, 40), WORD, font=font(64), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(150, 150))
    return buffer.getvalue()


@pytest.mark.skipif(ocr_missing() is not None, reason=ocr_missing() or "")
def test_a_scanned_word_is_recognised_and_its_searchable_pdf_stored(
        app, client, agent, huey, monkeypatch):  # noqa: F811
    indexed = []
    monkeypatch.setattr(index, "index_document", indexed.append)
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], scanned_word(), "scan.png", "image/png").json["data"]
    assert drain(huey) == 1
    attachment = stored_attachment(app, created["id"])
    assert (attachment.texte_etat, attachment.texte_motif) == ("reconnu", None)
    assert WORD in attachment.texte and indexed == [doc["id"]]
    listed = client.get(f"/api/documents/{doc['id']}/attachments", headers=agent.headers).json["data"][0]
    assert listed["texte"]["etat"] == "reconnu"
    with client.get(listed["ocr"], headers=agent.headers) as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        searchable = PdfReader(io.BytesIO(response.data))
    assert len(searchable.pages) == 1 and WORD in searchable.pages[0].extract_text()
