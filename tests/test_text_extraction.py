"""The text of attachments, in process: each format's reader (PDF text layer, DOCX, ODT, plain text, e-mails),
broken and hostile files, the `texte.extraction` job (state, text, the letter's index entry, idempotence), OCR's
absence (`indisponible`) and the searchable PDF's route. The real OCR run is tests/system/test_ocr.py."""
import io
import sys
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import undefer

from courrier import storage
from courrier.background import Job
from courrier.documents.models import Attachment
from courrier.extensions import db
from courrier.search import extraction, index, ocr, text_jobs
from tests.conftest import drain
from tests.test_attachments import PNG, attachments_of
from tests.test_documents import assert_error, create_doc, upload

LETTER = "Objet : réclamation concernant la facture d'eau de l'été dernier, déposée à la mairie."


def text_pdf(*pages):
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def blank_pdf(pages=1):
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 50, 30)  # a drawing, no text: a scan as far as text goes
    return bytes(pdf.output())


def scan_png():
    """A small image (a scan as far as the upload goes), larger than img2pdf's smallest page."""
    buffer = io.BytesIO()
    Image.new("L", (120, 60), 255).save(buffer, "PNG")
    return buffer.getvalue()


def office_zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(body, prolog=""):
    return office_zip({"[Content_Types].xml": "<Types/>", "word/document.xml":
                       f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document {W_NS}><w:body>{body}'
                       f'</w:body></w:document>'})


def odt(body):
    return office_zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        f'{body}</office:text></office:body></office:document-content>')})


@pytest.fixture
def write(tmp_path):
    def write(content, name="fichier"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return str(path)
    return write


# ------------------------------------------------------------------ each format's reader

def test_a_pdf_text_layer_is_extracted_page_by_page(write):
    outcome = extraction.read_text(write(text_pdf(LETTER, "Deuxième page : Jean-François Dupré.")))
    assert outcome.etat == "extrait" and outcome.motif is None
    assert "réclamation concernant la facture" in outcome.texte and "Jean-François Dupré" in outcome.texte


def test_a_long_pdf_is_read_up_to_its_page_bound(write, monkeypatch):
    monkeypatch.setattr(extraction, "MAX_PDF_PAGES", 2)
    outcome = extraction.read_text(write(text_pdf(LETTER, LETTER + " Page deux.", "Page trois jamais lue.")))
    assert outcome.etat == "extrait" and "Page deux" in outcome.texte and "trois" not in outcome.texte
    assert outcome.motif == "Seules les 2 premières pages ont été lues."


def test_a_pdf_without_text_is_a_scan_for_ocr(write):
    assert extraction.read_text(write(blank_pdf(2))).etat == extraction.SCAN


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "TIFF"])
def test_an_image_is_a_scan_for_ocr(write, image_format):
    buffer = io.BytesIO()
    Image.new("L", (40, 20), 255).save(buffer, image_format)
    assert extraction.read_text(write(buffer.getvalue()), "application/octet-stream") == extraction.Outcome("scan")


def test_a_pdf_locked_by_a_password_is_echec_and_says_so(write):
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf(LETTER)))
    writer.encrypt(user_password="secret", owner_password="secret-owner", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    assert extraction.read_text(write(locked.getvalue())) == extraction.Outcome("echec", None, extraction.ENCRYPTED)


def test_a_docx_gives_its_paragraphs_tables_and_tabs_not_its_deleted_text(write):
    body = ('<w:p><w:r><w:t>Madame la </w:t></w:r><w:r><w:t>Maire,</w:t></w:r></w:p>'
            '<w:p><w:r><w:t>Montant</w:t><w:tab/><w:t>120 €</w:t></w:r><w:del><w:r><w:delText>effacé</w:delText>'
            '</w:r></w:del></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>Cellule été</w:t></w:r></w:p></w:tc></w:tr></w:tbl>')
    outcome = extraction.read_text(write(docx(body)), "application/octet-stream", "lettre.docx")
    assert outcome.etat == "extrait"
    assert outcome.texte.splitlines() == ["Madame la Maire,", "Montant 120 €", "Cellule été"]


def test_an_odt_gives_its_headings_paragraphs_and_spaces(write):
    body = ('<text:h>Réclamation</text:h><text:p>Monsieur<text:s text:c="3"/>le Maire,<text:line-break/>'
            'veuillez <text:span>trouver</text:span> ci-joint.</text:p>')
    outcome = extraction.read_text(write(odt(body)))
    assert outcome.etat == "extrait"
    assert outcome.texte.splitlines() == ["Réclamation", "Monsieur le Maire,", "veuillez trouver ci-joint."]


def test_an_office_file_with_a_dtd_is_refused_not_expanded(write):
    laughs = '<!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    outcome = extraction.read_text(write(docx("<w:p><w:r><w:t>&b;</w:t></w:r></w:p>", prolog=laughs)))
    assert outcome.etat == "echec" and outcome.motif == extraction.UNREADABLE["docx"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_plain_text_is_read_in_its_charset(write, encoding):
    path = write("Réclamation : « œuvre » déjà reçue.".replace("œ", "oe" if encoding == "latin-1" else "œ")
                 .encode(encoding), "note.txt")
    outcome = extraction.read_text(path, "text/plain")
    assert outcome.etat == "extrait" and outcome.texte.startswith("Réclamation : « ") and "déjà reçue" in outcome.texte


def eml(html=False):
    message = EmailMessage()
    message["From"] = "Jean-François Dupré <jf.dupre@example.org>"
    message["To"] = "courrier@mairie.example"
    message["Subject"] = "Réclamation facture"
    if html:
        message.set_content("<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
                            "<p>Bonjour,</p><p>ma facture d&#233;passe &lt;100&gt; &euro;.</p></body></html>",
                            subtype="html")
    else:
        message.set_content("Bonjour,\nma facture d'eau est erronée.\n")
    message.add_attachment(b"%PDF-1.4 secret-binary-content", maintype="application", subtype="pdf",
                           filename="facture.pdf")
    return bytes(message)


def test_an_email_gives_its_headers_its_body_and_its_attachments_names(write):
    outcome = extraction.read_text(write(eml(), "message.eml"), "message/rfc822")
    assert outcome.etat == "extrait"
    assert "De : Jean-François Dupré <jf.dupre@example.org>" in outcome.texte
    assert "Objet : Réclamation facture" in outcome.texte and "ma facture d'eau est erronée." in outcome.texte
    assert "Pièces jointes : facture.pdf" in outcome.texte
    assert "secret-binary-content" not in outcome.texte and "JVBER" not in outcome.texte  # not the attachment


def test_an_html_email_is_read_as_text_never_as_markup_or_script(write):
    outcome = extraction.read_text(write(eml(html=True)), None, "message.eml")
    assert "ma facture dépasse <100> €." in outcome.texte and "Bonjour," in outcome.texte
    assert "alert" not in outcome.texte and "color" not in outcome.texte and "<p>" not in outcome.texte


def test_an_html_page_is_read_as_its_text(write):
    page = "<html><body><h1>Avis</h1><script>var x = 1;</script><p>Travaux rue de l'&Eacute;glise</p></body></html>"
    outcome = extraction.read_text(write(page.encode("cp1252")), "text/html", "avis.html")
    assert outcome.etat == "extrait" and outcome.texte.splitlines() == ["Avis", "", "Travaux rue de l'Église"]


@pytest.mark.parametrize("content", [
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    b"%PDF-1.7\n" + bytes(range(256)) * 20,
])
def test_a_broken_pdf_is_echec_with_a_french_reason_not_the_exception(write, content):
    outcome = extraction.read_text(write(content))
    assert outcome == extraction.Outcome("echec", None, "Le PDF est illisible ou endommagé.")


def test_a_broken_docx_is_echec(write):
    outcome = extraction.read_text(write(office_zip({"word/document.xml": "<w:document"})))
    assert outcome.etat == "echec" and outcome.motif == extraction.UNREADABLE["docx"]


def test_a_format_without_text_and_an_empty_file_are_aucun(write):
    assert extraction.read_text(write(b"\x00\x01binary"), "application/zip", "a.zip").etat == "aucun"
    assert extraction.read_text(write(b"  \n\t "), "text/plain") == extraction.Outcome(
        "aucun", None, "Le fichier ne contient aucun texte.")


def test_the_text_kept_is_bounded(write, monkeypatch):
    monkeypatch.setattr(extraction, "MAX_CHARS", 1000)
    outcome = extraction.read_text(write("mot\x01 " * 5000), "text/plain")
    assert outcome.etat == "extrait" and len(outcome.texte) == 1000 and "\x01" not in outcome.texte
    assert outcome.motif.startswith("Texte tronqué")
    assert extraction.clean("a\x00b\r\n\n\n\nc") == ("ab\n\nc", False)  # PostgreSQL refuses NUL in text


# ------------------------------------------------------------------ the OCR process

@pytest.fixture
def fake_ocrmypdf(monkeypatch):
    """ocrmypdf replaced by a Python one-liner (it gets ocrmypdf's arguments and ignores them)."""
    monkeypatch.setattr(ocr, "available", lambda settings: None)

    def use(code):
        monkeypatch.setattr(ocr, "command", lambda: (sys.executable, "-c", code))
    return use


def test_an_ocr_run_over_the_timeout_is_stopped_with_its_children(write, monkeypatch, tmp_path):
    pid_file = tmp_path / "child.pid"  # ocrmypdf's own child (Tesseract) must die with it
    monkeypatch.setattr(ocr, "available", lambda settings: None)
    monkeypatch.setattr(ocr, "command", lambda: ("sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"))
    with pytest.raises(ocr.OcrFailed) as failure:
        ocr.make_searchable(write(blank_pdf()), str(tmp_path / "out.pdf"), ocr.Settings(timeout=0.5), 1)
    assert str(failure.value) == ocr.TIMED_OUT.format(seconds=0.5)
    status = Path(f"/proc/{pid_file.read_text().strip()}/status")

    def alive():
        try:
            return "zombie" not in status.read_text()
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:  # SIGKILL is sent; its delivery takes a moment
        time.sleep(0.01)
    assert not alive()


@pytest.mark.parametrize("exit_code, reason, error", [
    (8, ocr.ENCRYPTED, ocr.OcrFailed), (2, ocr.BAD_INPUT, ocr.OcrFailed), (15, ocr.FAILED, ocr.OcrFailed),
    (3, ocr.NOT_INSTALLED, ocr.OcrUnavailable),
])
def test_ocrmypdf_failures_are_french_reasons_never_its_output(
        write, fake_ocrmypdf, tmp_path, exit_code, reason, error):
    fake_ocrmypdf(f"import sys; sys.stderr.write('/srv/secret/path failed'); sys.exit({exit_code})")
    with pytest.raises(error) as failure:
        ocr.make_searchable(write(blank_pdf()), str(tmp_path / "out.pdf"), ocr.Settings(), 1)
    assert str(failure.value) == reason


@pytest.mark.parametrize("languages", ["--help", "fra;rm", "../fra", "fra+"])
def test_ocr_languages_that_are_not_language_codes_are_refused(languages):
    with pytest.raises(ocr.OcrUnavailable):
        ocr.Settings.from_config({"OCR_LANGUAGES": languages})


def test_only_the_first_pages_of_a_long_scan_are_recognised(write, fake_ocrmypdf, tmp_path):
    fake_ocrmypdf("import sys; open(sys.argv[-2] + '.args', 'w').write(' '.join(sys.argv[1:]))")
    scan = write(blank_pdf())
    assert ocr.make_searchable(scan, str(tmp_path / "out.pdf"), ocr.Settings(), 150) == ocr.PAGES_CUT.format(limit=100)
    with open(scan + ".args") as arguments:
        assert "--pages 1-100" in arguments.read()


# ------------------------------------------------------------------ the job

@pytest.fixture
def indexed(monkeypatch):
    """The letters whose index entry the job rebuilt, and whether the text was there when it did."""
    calls = []

    def index_document(document_id):
        texts = db.session.scalars(select(Attachment.texte).where(Attachment.document_id == document_id)).all()
        calls.append((document_id, texts))

    monkeypatch.setattr(index, "index_document", index_document)
    return calls


def stored_attachment(app, attachment_id):
    with app.app_context():
        attachment = db.session.scalars(select(Attachment).options(undefer(Attachment.texte))
                                        .where(Attachment.id == attachment_id)).one()
        db.session.expunge_all()
        return attachment


def text_jobs_of(app):
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.kind == text_jobs.KIND)).all()
        db.session.expunge_all()
        return jobs


def test_an_upload_is_read_by_a_job_that_stores_the_text_and_indexes_the_letter(app, client, agent, huey, indexed):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], text_pdf(LETTER), "reclamation.pdf").json["data"]
    assert created["texte"] == {"etat": "en_attente", "motif": None} and created["ocr"] is None
    assert "texte_etat" not in created and "contenu" not in created  # the text itself is never in the JSON
    assert indexed == []  # the upload did not wait for the reading
    assert drain(huey) == 1
    attachment = stored_attachment(app, created["id"])
    assert attachment.texte_etat == "extrait" and "réclamation concernant la facture" in attachment.texte
    assert [(document_id, "réclamation concernant" in texts[0]) for document_id, texts in indexed] == [
        (doc["id"], True)]  # indexed in the transaction that stored the text
    [job] = text_jobs_of(app)
    assert job.etat == "termine" and job.message == "Texte extrait de « reclamation.pdf »."
    assert attachments_of(client, agent, doc)[0]["texte"] == {"etat": "extrait", "motif": None}


def test_a_word_only_in_an_attachment_finds_its_letter_once_the_job_has_run(client, agent, auth, huey):
    """The real index, through the API: the job's text reaches the entry it rebuilds in its transaction; the
    text itself is read at the attachment's /texte route, by those who see the letter."""
    doc = create_doc(client, agent, objet="Sans rapport")
    created = upload(client, agent, doc["id"], text_pdf(LETTER), "reclamation.pdf").json["data"]
    text_route = f"/api/documents/{doc['id']}/attachments/{created['id']}/texte"

    def found():
        return [d["id"] for d in client.get("/api/documents?q=facture ete", headers=agent.headers).json["data"]]

    assert found() == []
    assert client.get(text_route, headers=agent.headers).json["data"] == {
        "etat": "en_attente", "motif": None, "texte": None}
    assert drain(huey) == 1
    assert found() == [doc["id"]]
    read = client.get(text_route, headers=agent.headers).json["data"]
    assert read["etat"] == "extrait" and "réclamation concernant la facture" in read["texte"]
    assert_error(client.get(text_route, headers=auth.account("agent").headers), 404, "not_found")


def test_the_job_run_twice_gives_the_same_state(app, client, agent, huey, indexed):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], text_pdf(LETTER)).json["data"]
    drain(huey)
    with app.app_context():
        text_jobs.queue_text_extraction(db.session.get(Attachment, created["id"]))
        db.session.commit()
    assert stored_attachment(app, created["id"]).texte_etat == "en_attente"
    drain(huey)
    attachment = stored_attachment(app, created["id"])
    assert attachment.texte_etat == "extrait" and attachment.texte.count("réclamation concernant") == 1
    assert len(indexed) == 2 and [job.etat for job in text_jobs_of(app)] == ["termine", "termine"]


def test_a_broken_pdf_is_echec_at_once_not_retried(app, client, agent, huey, indexed):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], b"%PDF-1.4\nnot really a pdf\n").json["data"]
    assert drain(huey) == 1
    [job] = text_jobs_of(app)
    assert job.etat == "termine" and job.attempts == 1
    assert attachments_of(client, agent, doc)[0]["texte"] == {
        "etat": "echec", "motif": "Le PDF est illisible ou endommagé."}
    assert stored_attachment(app, created["id"]).texte is None and len(indexed) == 1


def test_a_scan_without_an_ocr_engine_is_indisponible_and_says_why(app, client, agent, huey, indexed, monkeypatch):
    monkeypatch.setattr(ocr, "installed_languages", lambda: None)  # no Tesseract on this machine
    doc = create_doc(client, agent)
    upload(client, agent, doc["id"], PNG, "scan.png", "image/png")
    drain(huey)
    [attachment] = attachments_of(client, agent, doc)
    assert attachment["texte"] == {"etat": "indisponible", "motif": ocr.NOT_INSTALLED} and attachment["ocr"] is None
    assert "n'est pas installée sur le serveur" in ocr.NOT_INSTALLED


def test_a_language_tesseract_lacks_is_indisponible(app, client, agent, huey, indexed, monkeypatch):
    monkeypatch.setattr(ocr, "installed_languages", lambda: frozenset({"eng"}))
    monkeypatch.setattr(ocr, "command", lambda: ("ocrmypdf",))
    doc = create_doc(client, agent)
    upload(client, agent, doc["id"], blank_pdf(), "scan.pdf")
    drain(huey)
    assert attachments_of(client, agent, doc)[0]["texte"] == {
        "etat": "indisponible", "motif": ocr.LANGUAGE_MISSING.format(languages="fra")}


def test_a_file_missing_from_the_store_is_echec(app, client, agent, huey, indexed):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], text_pdf(LETTER)).json["data"]
    with app.app_context():
        attachment = db.session.get(Attachment, created["id"])
        attachment.storage_name = "0" * 64
        db.session.commit()
    drain(huey)
    assert attachments_of(client, agent, doc)[0]["texte"] == {"etat": "echec", "motif": text_jobs.MISSING}


@pytest.fixture
def fake_ocr(monkeypatch):
    """OCR that "recognises" a fixed text: the job's OCR path without Tesseract (the real run is a system test)."""
    runs = []

    def make_searchable(source, output, settings, pages):
        runs.append((settings.languages, pages))
        with open(output, "wb") as handle:
            handle.write(text_pdf(f"Réclamation reconnue par OCR (passage {len(runs)})."))
        return None

    monkeypatch.setattr(ocr, "available", lambda settings: None)
    monkeypatch.setattr(ocr, "make_searchable", make_searchable)
    return runs


def test_a_scan_gets_its_searchable_pdf_and_route_as_the_attachment_is_seen(
        app, client, agent, auth, huey, indexed, fake_ocr):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], scan_png(), "scan.png", "image/png").json["data"]
    base = f"/api/documents/{doc['id']}/attachments/{created['id']}"
    assert_error(client.get(f"{base}/ocr", headers=agent.headers), 404, "not_found")  # not read yet
    drain(huey)
    assert fake_ocr == [("fra", 1)]
    [listed] = attachments_of(client, agent, doc)
    assert listed["texte"] == {"etat": "reconnu", "motif": None} and listed["ocr"] == f"{base}/ocr"
    assert "Réclamation reconnue" in stored_attachment(app, created["id"]).texte
    with client.get(listed["ocr"], headers=agent.headers) as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert response.headers["Content-Disposition"] == 'attachment; filename="scan (texte).pdf"'
    with client.get(base, headers=agent.headers) as original:
        assert original.data == scan_png()  # the original is kept as it was
    stranger = auth.account("agent")
    assert_error(client.get(listed["ocr"], headers=stranger.headers), 404, "not_found")


def test_the_searchable_pdf_of_an_earlier_run_is_not_left_behind(app, client, agent, huey, indexed, fake_ocr):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], scan_png(), "scan.png", "image/png").json["data"]
    drain(huey)
    first = stored_attachment(app, created["id"]).ocr_storage_name
    with app.app_context():
        attachment = db.session.get(Attachment, created["id"])
        text_jobs.queue_text_extraction(attachment)
        db.session.commit()
    drain(huey)  # another run, another searchable PDF (OCR's output is not byte for byte the same)
    second = stored_attachment(app, created["id"]).ocr_storage_name
    with app.app_context():
        assert first != second and storage.current().exists(second)
        assert not storage.current().exists(first)


def test_waiting_attachments_are_sent_to_extraction(app, client, agent, runner, huey, indexed):
    doc = create_doc(client, agent)
    created = upload(client, agent, doc["id"], text_pdf(LETTER)).json["data"]
    huey.flush()  # as if the attachment predated the feature: en_attente, no job
    result = runner.invoke(args=["search", "textes"])
    assert result.exit_code == 0 and "1 pièce(s) jointe(s)" in result.output, result.output
    drain(huey)
    assert stored_attachment(app, created["id"]).texte_etat == "extrait"
    with app.app_context():
        assert text_jobs.queue_waiting_extractions() == 0
        assert text_jobs.queue_waiting_extractions(("indisponible", "echec")) == 0
    result = runner.invoke(args=["search", "textes", "--etat", "extrait"])
    assert "1 pièce(s) jointe(s)" in result.output, result.output
    with app.app_context():
        assert text_jobs.queue_waiting_extractions(None, batch_size=1) == 1  # --tous


@pytest.mark.parametrize("max_attempts, job_etat, texte", [
    (3, "en_attente", {"etat": "en_attente", "motif": None}),  # tried again later
    (1, "termine", {"etat": "echec", "motif": text_jobs.STORE_GAVE_UP}),  # its last try: the attachment says so
])
def test_a_store_that_does_not_answer_is_retried_then_echec(
        app, client, agent, huey, indexed, monkeypatch, max_attempts, job_etat, texte):
    doc = create_doc(client, agent)
    upload(client, agent, doc["id"], text_pdf(LETTER))
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", max_attempts)

    def unavailable(*args, **kwargs):
        raise storage.StorageUnavailable("S3 down")

    with app.app_context():
        monkeypatch.setattr(type(storage.current()), "open", unavailable)
    drain(huey)
    [job] = text_jobs_of(app)
    assert job.etat == job_etat and "S3" not in job.message
    assert attachments_of(client, agent, doc)[0]["texte"] == texte


def test_an_unexpected_error_on_the_last_try_leaves_the_attachment_echec(
        app, client, agent, huey, indexed, monkeypatch):
    doc = create_doc(client, agent)
    upload(client, agent, doc["id"], text_pdf(LETTER))
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 1)

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/courrier: bug")

    monkeypatch.setattr(extraction, "read_text", broken)
    drain(huey)
    assert attachments_of(client, agent, doc)[0]["texte"] == {"etat": "echec", "motif": text_jobs.INTERNAL}
