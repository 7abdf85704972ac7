"""Capture and find, in Chromium (issue 25): a letter registered with its files and read in the viewer (pdf.js under
the strict CSP, Trusted Types included; pages and zoom with the keyboard); a message captured from Dovecot with a
scan, qualified on its screen, found by a word only its OCR'd scan holds (with the passage), the scan opened in
the viewer; scans dropped in bulk on « Numériser / déposer ». axe-core on each screen."""
import io
import os
import re
import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

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
