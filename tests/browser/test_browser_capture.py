"""Capture and find, in Chromium (issue 25): a letter registered with its files and read in the viewer (pdf.js under
the strict CSP, Trusted Types included; pages and zoom with the keyboard); a message captured from Dovecot with a
scan, qualified on its screen, found by a word only its OCR'd scan holds (with the passage), the scan opened in
the viewer; scans dropped in bulk on « Numériser / déposer ». axe-core on each screen."""
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PHONE = {"width": 390, "height": 844}
# The worker starts with the first test that needs it; OCR of one page takes a few seconds on a loaded machine.
JOB_TIMEOUT_MS = 60000


def page_image(*lines, size=(1240, 620)):
    """A white page with `lines` in large black letters (PIL's own font), as a PIL image."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=72)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((80, 100 + 140 * number), line, font=font, fill=0)
    return image


def pdf_of(*pages):
    """An image-only PDF (a scan: no text layer), one page per image."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=list(pages[1:]))
    return buffer.getvalue()


def png_of(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_letter_registered_with_its_files_is_read_in_the_viewer(new_page, live_server, e2e):
    admin = live_server.admin
    scan = pdf_of(page_image("Page une"), page_image("Page deux"))
    photo = png_of(page_image("Photo", size=(600, 300)))

    # The files chosen in the registration form are attached once the letter exists.
    page = e2e.login(new_page(), admin, then="/documents/new")
    page.get_by_label("Objet").fill("Dossier de permis de construire")
    page.get_by_label("Expéditeur").fill("Cabinet Leroy architectes")
    page.get_by_label("Destinataire").fill("Service urbanisme")
    page.set_input_files("#doc-files", files=[
        {"name": "plans.pdf", "mimeType": "application/pdf", "buffer": scan},
        {"name": "photo.png", "mimeType": "image/png", "buffer": photo},
    ])
    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_have_text(
        re.compile(r"^Courrier enregistré sous la référence ENT-\d{4}-\d{6}\.$"))
    expect(page.get_by_test_id("attachment-name")).to_have_text(["plans.pdf", "photo.png"])

    # The PDF drawn by pdf.js (this page enforces the CSP: the new_page fixture fails on any violation).
    viewer = page.get_by_test_id("viewer")
    page.get_by_test_id("attachment").filter(has_text="plans.pdf").get_by_test_id("attachment-show").click()
    expect(viewer).to_have_attribute("data-etat", "affiche")
    expect(page.get_by_test_id("viewer-status")).to_have_text("plans.pdf : page 1 sur 2.")
    canvas = page.get_by_test_id("viewer-canvas")
    expect(canvas).to_have_attribute("aria-label", "Page 1 sur 2 de plans.pdf")
    # Something was drawn: the page is not blank white.
    assert page.evaluate("""() => {
        const canvas = document.querySelector('[data-testid=viewer-canvas]');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) return true;
        return false;
    }""")
    width = canvas.bounding_box()["width"]

    # Pages and zoom with the keyboard, in the viewer's area; the buttons say the same.
    page.get_by_test_id("viewer-stage").focus()
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-page", "2")
    expect(page.get_by_test_id("viewer-next")).to_be_disabled()
    page.keyboard.press("+")
    expect(page.get_by_test_id("viewer-zoom")).to_have_text("125 %")
    expect(canvas).to_have_attribute("aria-label", "Page 2 sur 2 de plans.pdf")
    assert page.get_by_test_id("viewer-canvas").bounding_box()["width"] > width * 1.2
    page.keyboard.press("Home")
    expect(viewer).to_have_attribute("data-page", "1")
    page.get_by_test_id("viewer-zoom-reset").click()
    expect(page.get_by_test_id("viewer-zoom")).to_have_text("100 %")

    # An image as an image; the download stays.
    page.get_by_test_id("attachment").filter(has_text="photo.png").get_by_test_id("attachment-show").click()
    expect(page.get_by_test_id("viewer-image")).to_have_attribute("alt", "Image jointe : photo.png")
    expect(viewer).to_have_attribute("data-etat", "affiche")
    expect(page.get_by_test_id("viewer-previous")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id("attachment").filter(has_text="photo.png").get_by_test_id("attachment-download").click()
    assert download.value.suggested_filename == "photo.png"
    letter_url = page.url

    # axe-core (its page bypasses the CSP to take the injected script), laptop then phone.
    checked = new_page(bypass_csp=True)
    e2e.login(checked, admin, then=None)
    checked.goto(letter_url)
    checked.get_by_test_id("attachment").filter(has_text="plans.pdf").get_by_test_id("attachment-show").click()
    expect(checked.get_by_test_id("viewer")).to_have_attribute("data-etat", "affiche")
    e2e.assert_accessible(checked, "le courrier et sa pièce jointe dans la visionneuse")
    checked.set_viewport_size(PHONE)
    e2e.assert_no_horizontal_overflow(checked)
    e2e.screenshot(checked, "viewer")


def text_read(live_server, live_worker, token, document_id, filename):
    """The attachment `filename` of the letter once its text is read (en_attente no more), through the API."""
    deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
    while True:
        attachments = live_server.api.ok("GET", f"/api/documents/{document_id}/attachments", token=token)["data"]
        attachment = next(item for item in attachments if item["filename"] == filename)
        if attachment["texte"]["etat"] != "en_attente":
            return attachment
        if time.monotonic() > deadline:
            pytest.fail(f"le texte de {filename} est resté en attente :\n{live_worker.log_tail()}", pytrace=False)
        time.sleep(0.2)


def qualified_found_and_read(new_page, live_server, live_worker, e2e, draft_of, scan_name, word):
    """A draft qualified on its screen, then found by `word` (only its scan `scan_name` holds it, once OCR has
    read it) with the passage, and its scan read in the viewer. `draft_of()` gives the draft once it exists
    (called after the login, which it may overlap). Returns the page (which enforces the CSP) showing the letter."""
    admin = live_server.admin
    page = e2e.login(new_page(bypass_csp=True), admin, then=None)
    draft = draft_of()
    draft_id, sender = draft["id"], draft["expediteur"]
    queue = page.locator("[data-testid=bannette][data-code=a_qualifier]")
    expect(queue).to_contain_text("À qualifier")
    queue.click()
    e2e.shown(page, "/documents?bannette=a_qualifier")
    page.locator(f"[data-testid=document-row][data-id='{draft_id}']").get_by_test_id("document-link").click()
    e2e.shown(page, f"/documents/{draft_id}/qualifier")

    # Its files beside the form: the scan drawn by pdf.js at once; the form prefilled from the capture.
    viewer = page.get_by_test_id("viewer")
    expect(viewer).to_have_attribute("data-etat", "affiche")
    expect(page.get_by_test_id("viewer-status")).to_have_text(f"{scan_name} : page 1 sur 1.")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "un brouillon à qualifier et son scan")
    e2e.screenshot(page, "qualify")
    expect(page.get_by_label("Expéditeur")).to_have_value(sender)
    page.get_by_label("Destinataire").fill("Direction générale")
    page.click("#qualify-submit")
    expect(page.get_by_test_id("flash")).to_have_text(
        re.compile(r"^Courrier enregistré au registre sous la référence ENT-\d{4}-\d{6}\.$"))
    reference = page.get_by_test_id("detail-reference").inner_text()

    # Found by a word that only the OCR'd scan holds, with the passage (the word marked); sorted by date on demand.
    token = live_server.api.token(admin)
    scan = text_read(live_server, live_worker, token, draft_id, scan_name)
    assert scan["texte"]["etat"] == "reconnu", scan
    page.goto(f"/#/documents?q={word.lower()}")
    e2e.shown(page, f"/documents?q={word.lower()}")
    row = page.locator(f"[data-testid=document-row][data-id='{draft_id}']")
    expect(row.get_by_test_id("document-link")).to_have_text(reference)
    expect(row.get_by_test_id("document-extrait").locator("mark")).to_have_text([re.compile(word, re.I)])
    expect(page.get_by_test_id("document-filters-tri")).to_have_value("")
    e2e.assert_accessible(page, "une recherche dans le texte des pièces jointes")
    e2e.screenshot(page, "search")
    page.select_option("[data-testid=document-filters-tri]", "date")
    page.click("#document-filters-submit")
    e2e.shown(page, f"/documents?q={word.lower()}&tri=date")
    expect(row).to_have_count(1)

    # The letter's scan in the viewer, its text recognised, its searchable PDF offered; on a page enforcing the CSP.
    strict = e2e.login(new_page(), admin, then=f"/documents/{draft_id}")
    item = strict.get_by_test_id("attachment").filter(has_text=scan_name)
    expect(item.get_by_test_id("attachment-texte")).to_have_text("Texte reconnu (OCR)")
    expect(item.get_by_test_id("attachment-ocr")).to_be_visible()
    item.get_by_test_id("attachment-show").click()
    expect(strict.get_by_test_id("viewer")).to_have_attribute("data-etat", "affiche")
    expect(strict.get_by_test_id("viewer-canvas")).to_have_attribute("aria-label", f"Page 1 sur 1 de {scan_name}")
    # Shown through its searchable PDF: the page's recognised text is there to read beside its picture.
    expect(strict.locator("#viewer-title")).to_have_text(f"Aperçu : {scan_name} (PDF cherchable)")
    strict.get_by_test_id("viewer-page-text").locator("summary").click()
    expect(strict.get_by_test_id("viewer-page-text")).to_contain_text(word)
    return strict


def test_scans_dropped_in_bulk_become_drafts_to_qualify(new_page, live_server, e2e):
    admin = live_server.admin
    page = e2e.login(new_page(bypass_csp=True), admin, then=None)
    e2e.open_nav(page, "nav-scans")
    e2e.shown(page, "/numeriser")
    e2e.assert_labelled(page)
    page.click("#scan-submit")
    expect(page.locator("#scan-files-input-error")).to_have_text("Choisissez ou déposez au moins un fichier.")

    first, second = png_of(page_image("Avis", size=(400, 200))), pdf_of(page_image("Relance", size=(400, 200)))
    page.set_input_files("#scan-files-input", files=[
        {"name": "avis_de_passage.png", "mimeType": "image/png", "buffer": first},
        {"name": "relance.pdf", "mimeType": "application/pdf", "buffer": second},
    ])
    expect(page.get_by_test_id("scan-files").locator("li")).to_have_count(2)
    page.click("#scan-submit")
    drafts = page.get_by_test_id("scan-draft")
    expect(drafts).to_have_text(["avis de passage", "relance"])
    expect(page.locator("#scan-made-title")).to_be_focused()
    e2e.assert_accessible(page, "« Numériser / déposer » et les brouillons créés")
    e2e.screenshot(page, "scans")

    # Each one a draft on its qualify screen; this one set aside with its motif, out of the queue.
    drafts.first.click()
    expect(page.get_by_test_id("qualify-page")).to_be_visible()
    expect(page.get_by_test_id("viewer-image")).to_have_attribute("alt", "Image jointe : avis_de_passage.png")
    expect(page.locator("#doc-objet")).to_have_value("avis de passage")
    page.click("#discard-button")
    expect(page.locator("#discard-motif")).to_be_focused()
    page.fill("#discard-motif", "Doublon du courrier de la veille")
    page.click("#discard-confirm")
    e2e.shown(page, "/documents?bannette=a_qualifier")
    expect(page.get_by_test_id("flash")).to_have_text("Courrier « avis de passage » écarté.")
    expect(page.get_by_test_id("document-objet").filter(has_text="avis de passage")).to_have_count(0)
    expect(page.get_by_test_id("document-objet").filter(has_text="relance")).to_have_count(1)

    # The other one's screen on a phone: the viewer above the form, nothing wider than the screen.
    page.set_viewport_size(PHONE)
    page.get_by_test_id("document-objet").filter(has_text="relance").locator("xpath=ancestor::tr").get_by_test_id(
        "document-link").click()
    expect(page.get_by_test_id("viewer")).to_have_attribute("data-etat", "affiche")
    e2e.assert_no_horizontal_overflow(page)


@pytest.fixture(scope="module")
def mailbox():
    """Dovecot on loopback with its own configuration and maildir (tests/dovecot.py), for this file's capture."""
    from tests import dovecot

    if not dovecot.available():
        pytest.skip("Dovecot absent (apt-get install dovecot-imapd)")
    server = dovecot.Dovecot().start()
    try:
        yield server
    finally:
        server.stop()


def test_a_captured_message_is_qualified_found_by_its_scan_and_read(new_page, live_server, live_worker, mailbox, e2e):
    from tests import dovecot

    if not (shutil.which("ocrmypdf") and shutil.which("tesseract")):
        pytest.skip("OCR absent (apt-get install ocrmypdf tesseract-ocr-fra)")
    word = "Ornithorynque"  # in the scan's pixels only: not in the subject, the body or any name
    scan = pdf_of(page_image("Demande de salle", word))
    subject = "Demande de salle pour l'assemblée du quartier"
    mailbox.append(dovecot.message(subject=subject, sender="Jean Dupré <jean.dupre@example.fr>",
                                   attachments=[("scan.pdf", scan, "application/pdf")]))
    # One pass of the capture (`flask capture imap`), while the browser logs in.
    capture = subprocess.Popen([str(BIN / "flask"), "capture", "imap"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**live_server.env, "CAPTURE_IMAP_URL": mailbox.url()})

    def captured_draft():
        output, _ = capture.communicate(timeout=120)
        assert capture.returncode == 0, output
        token = live_server.api.token(live_server.admin)
        queue = live_server.api.ok("GET", "/api/documents?bannette=a_qualifier&per_page=100", token=token)["data"]
        draft = next(doc for doc in queue if doc["objet"] == subject)
        assert draft["reference"] is None and draft["origine"] == "courriel"
        assert draft["expediteur_propose"] == {"nom": "Jean Dupré", "email": "jean.dupre@example.fr"}
        return draft

    page = qualified_found_and_read(new_page, live_server, live_worker, e2e, captured_draft, "scan.pdf", word)

    # The message itself, as the text the server read from it: its headers and its body.
    page.get_by_test_id("attachment").filter(has_text="message.eml").get_by_test_id("attachment-show").click()
    expect(page.get_by_test_id("viewer")).to_have_attribute("data-etat", "affiche")
    expect(page.get_by_test_id("viewer-text")).to_contain_text(f"Objet : {subject}")
    expect(page.get_by_test_id("viewer-text")).to_contain_text("Jean Dupré <jean.dupre@example.fr>")
    expect(page.get_by_test_id("viewer-text")).to_contain_text("Bonjour,\nveuillez trouver ma demande.")
