"""The mail register in the browser: registering a letter (its date of receipt following the type, its
routing with copies), the four-eyes workflow, attachments (what they are, who added them), filters and
pagination, and data that looks like markup staying text."""
import datetime
import hashlib
import os
import re
import shutil
import struct
import uuid
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]


def tiny_png():
    """A valid 1×1 PNG, built here so that the upload is checked by content like a real scan."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def paris_today():
    return datetime.datetime.now(ZoneInfo("Europe/Paris")).date()


def open_document(page, document):
    page.goto(f"/#/documents/{document['id']}")
    expect(page.get_by_test_id("detail-reference")).to_have_text(document["reference"])


def test_an_agent_registers_a_letter_and_attaches_its_scan(new_page, agent_user, e2e):
    page = e2e.login(new_page(bypass_csp=True), agent_user)
    page.click("#new-document-button")
    expect(page.locator("#document-form")).to_be_visible()
    e2e.assert_labelled(page)
    page.select_option("#doc-type", "entrant")
    page.select_option("#doc-priorite", "urgente")
    page.get_by_label("Objet").fill("Demande de raccordement au réseau d'eau")
    page.get_by_label("Expéditeur").fill("Société des eaux du Rhône")
    page.get_by_label("Destinataire").fill("Direction technique")
    page.fill("#doc-date-courrier", "2026-11-20")
    page.fill("#doc-description", "Reçu par voie postale.\nDeux pages.")
    page.click("#document-submit")

    expect(page.get_by_test_id("detail-reference")).to_have_text(re.compile(r"^ENT-\d{4}-\d{6}$"))
    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré sous la référence ENT-")
    expect(page.get_by_test_id("detail-statut")).to_have_text("En attente")
    expect(page.get_by_test_id("detail-priorite")).to_have_text("Urgente")
    expect(page.get_by_test_id("detail-created-by")).to_contain_text(agent_user.full_name)
    expect(page.locator("#validate-button")).to_have_count(0)
    expect(page.locator("[data-testid=history-item][data-action=created]")).to_have_count(1)

    png = tiny_png()
    page.set_input_files("#attachment-file", files=[{"name": "scan.png", "mimeType": "image/png", "buffer": png}])
    page.click("#attachment-submit")
    expect(page.get_by_test_id("attachment-name")).to_have_text("scan.png")
    # What the file is, its size and who added it when; the fingerprint whole, folded, never a bare prefix.
    facts = page.get_by_test_id("attachment-facts")
    expect(facts).to_contain_text(f"PNG · {len(png)} o · ajoutée par {agent_user.full_name} le ")
    expect(facts).to_have_text(re.compile(r"le \d{2}/\d{2}/\d{4}"))
    fingerprint = page.get_by_test_id("attachment-sha256")
    expect(fingerprint).to_be_hidden()
    page.get_by_text("Empreinte SHA-256").click()
    expect(fingerprint).to_have_text(hashlib.sha256(png).hexdigest())
    e2e.assert_accessible(page, "le détail d'un courrier, une pièce jointe et son empreinte")
    expect(page.locator("[data-testid=history-item][data-action=attachment_added]")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_test_id("attachment-download").click()
    assert Path(download.value.path()).read_bytes() == png
    assert download.value.suggested_filename == "scan.png"
    e2e.assert_labelled(page)
    e2e.screenshot(page, "document-detail")

    page.click("text=← Retour au registre")
    expect(page.get_by_test_id("document-row").first).to_contain_text("Demande de raccordement au réseau d'eau")


def test_the_date_of_receipt_follows_the_type_of_letter(new_page, agent_user, e2e):
    """Today (in Paris) for an incoming letter; cleared for an outgoing or internal one; a typed date is kept."""
    page = e2e.login(new_page(), agent_user, then="/documents/new")
    received = page.locator("#doc-date-reception")
    today = paris_today().isoformat()
    expect(page.locator("#doc-type")).to_have_value("entrant")
    expect(received).to_have_value(today)
    expect(page.locator("#doc-date-reception-hint")).to_contain_text("Aujourd'hui par défaut")
    page.select_option("#doc-type", "sortant")
    expect(received).to_have_value("")
    expect(page.locator("#doc-date-reception-hint")).to_contain_text("Facultative pour un courrier sortant")
    page.select_option("#doc-type", "entrant")
    expect(received).to_have_value(today)
    page.fill("#doc-date-reception", "2026-01-05")
    page.select_option("#doc-type", "interne")
    expect(received).to_have_value("2026-01-05")  # typed by the user: theirs to clear

    page.select_option("#doc-type", "entrant")
    page.fill("#doc-date-reception", "")
    page.select_option("#doc-type", "sortant")
    page.select_option("#doc-type", "entrant")
    expect(received).to_have_value(today)
    page.get_by_label("Objet").fill("Courrier reçu aujourd'hui")
    page.get_by_label("Expéditeur").fill("Mairie de Caluire")
    page.get_by_label("Destinataire").fill("Direction générale")
    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(page.get_by_test_id("detail-date-reception")).to_have_text(paris_today().strftime("%d/%m/%Y"))


def test_a_letter_is_registered_with_its_service_and_copies(new_page, agent_user, make_account, live_server, e2e):
    """The registration form routes with copies (services and people) in the same request as /assign would."""
    api = live_server.api
    admin_token = api.token(live_server.admin)
    word = uuid.uuid4().hex[:6].upper()
    treating, copied = (api.ok("POST", "/api/services", {"code": f"{code}{word}", "nom": f"{name} {word}"}, admin_token,
                               expected=(201,))["data"] for code, name in (("URB", "Urbanisme"), ("VOI", "Voirie")))
    member = make_account("agent", "Roux", f"Inès{word}")
    memberships = {"services": [copied["id"]], "primary": copied["id"]}
    api.ok("PUT", f"/api/users/{member.id}/services", memberships, admin_token)

    page = e2e.login(new_page(bypass_csp=True), agent_user, then="/documents/new")
    page.get_by_label("Objet").fill(f"Permis de construire {word}")
    page.get_by_label("Expéditeur").fill("Cabinet d'architectes Lumière")
    page.get_by_label("Destinataire").fill("Service urbanisme")
    page.select_option("#doc-service", treating["id"])
    page.locator(f"#doc-copy-services input[value='{copied['id']}']").check()
    page.select_option("#doc-copy-user-service", copied["id"])
    pick = page.locator("#doc-copy-user-pick")
    expect(pick).to_be_enabled()
    pick.select_option(member.id)
    page.click("#doc-copy-user-add")
    person = page.locator(f"#doc-copy-users input[value='{member.id}']")
    expect(person).to_be_checked()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "le formulaire d'enregistrement, service traitant et copies choisis")
    e2e.screenshot(page, "letter-form-copies")
    page.click("#document-submit")

    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(page.get_by_test_id("detail-service")).to_contain_text(f"Urbanisme {word}")
    expect(page.get_by_test_id("detail-copies")).to_contain_text(f"Voirie {word}")
    expect(page.get_by_test_id("detail-copies")).to_contain_text(member.full_name)
    expect(page.locator("[data-testid=history-item][data-action=assigned]")).to_have_count(1)
    letter_id = page.evaluate("() => window.location.hash").rsplit("/", 1)[-1]
    letter = api.ok("GET", f"/api/documents/{letter_id}", token=api.token(agent_user))["data"]
    assert [service["id"] for service in letter["copies"]["services"]] == [copied["id"]]
    assert [user["id"] for user in letter["copies"]["users"]] == [member.id]


def test_a_file_that_is_not_pdf_png_or_jpeg_is_refused(new_page, agent_user, live_server, e2e):
    document = live_server.api.create_document(live_server.api.token(agent_user), objet="Pièce jointe refusée")
    page = e2e.login(new_page(), agent_user)
    open_document(page, document)
    page.set_input_files("#attachment-file", files=[
        {"name": "facture.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf at all"}])
    page.click("#attachment-submit")
    expect(page.locator("#attachment-error")).to_be_visible()
    expect(page.get_by_test_id("attachment")).to_have_count(0)


def test_a_validateur_validates_in_another_browser_what_an_agent_registered(new_page, agent_user, validateur_user,
                                                                            live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet="Convocation au conseil municipal")
    agent_page = e2e.login(new_page(), agent_user)
    validateur_page = e2e.login(new_page(), validateur_user)

    open_document(validateur_page, document)
    validateur_page.click("#validate-button")
    validateur_page.click("#validate-confirm")
    expect(validateur_page.get_by_test_id("detail-statut")).to_have_text("Validé")
    expect(validateur_page.locator("#document-message")).to_have_text("Courrier validé.")
    expect(validateur_page.get_by_test_id("detail-validated-by")).to_contain_text(validateur_user.full_name)
    expect(validateur_page.locator("#validate-button")).to_have_count(0)
    expect(validateur_page.locator("[data-testid=history-item][data-action=validated]")).to_have_count(1)

    open_document(agent_page, document)
    expect(agent_page.get_by_test_id("detail-statut")).to_have_text("Validé")
    expect(agent_page.locator("#edit-document-button")).to_have_count(0)


def test_a_validateur_rejects_with_a_motif(new_page, agent_user, validateur_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet="Facture sans bon de commande", type="sortant")
    page = e2e.login(new_page(), validateur_user)
    open_document(page, document)
    page.click("#reject-button")
    e2e.assert_labelled(page)
    page.click("#reject-confirm")
    expect(page.locator("#reject-motif-error")).to_have_text("Indiquez le motif du rejet.")
    page.fill("#reject-motif", "Bon de commande manquant.")
    page.click("#reject-confirm")
    expect(page.get_by_test_id("detail-statut")).to_have_text("Rejeté")
    expect(page.get_by_test_id("detail-motif-rejet")).to_have_text("Bon de commande manquant.")


def test_nobody_sees_the_decision_buttons_on_their_own_letter(new_page, validateur_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(validateur_user), objet="Note interne du validateur", type="interne")
    page = e2e.login(new_page(), validateur_user)
    open_document(page, document)
    expect(page.get_by_test_id("detail-statut")).to_have_text("En attente")
    expect(page.locator("#edit-document-button")).to_be_visible()
    expect(page.locator("#validate-button")).to_have_count(0)
    expect(page.locator("#reject-button")).to_have_count(0)


def test_an_agent_does_not_see_the_validate_button(new_page, agent_user, validateur_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet="Accusé de réception")
    page = e2e.login(new_page(), agent_user)
    open_document(page, document)
    expect(page.get_by_test_id("detail-objet")).to_have_text("Accusé de réception")
    expect(page.get_by_test_id("decision-panel")).to_have_count(0)
    expect(page.locator("#validate-button")).to_have_count(0)


def test_the_creator_edits_a_pending_letter(new_page, agent_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet="Objet à corriger")
    page = e2e.login(new_page(), agent_user)
    open_document(page, document)
    page.click("#edit-document-button")
    page.get_by_label("Objet").fill("Objet corrigé")
    page.click("#document-submit")
    expect(page.get_by_test_id("detail-objet")).to_have_text("Objet corrigé")
    expect(page.get_by_test_id("flash")).to_have_text("Modifications enregistrées.")
    expect(page.locator("[data-testid=history-item][data-action=updated]")).to_contain_text(
        "Objet : « Objet à corriger » → « Objet corrigé »")


def test_filters_and_pagination_follow_the_meta_of_the_api(new_page, make_account, live_server, e2e):
    account = make_account("agent", "Petit", "Louise")
    api = live_server.api
    token = api.token(account)
    for number in range(20):
        api.create_document(token, objet=f"Abonnement n°{number}", expediteur="Éditions du Midi")
    for number in range(3):
        api.create_document(token, objet=f"Relance fournisseur n°{number}", type="sortant", priorite="urgente",
                            expediteur="Service achats", destinataire="Papeterie Durand")

    page = e2e.login(new_page(), account)
    rows = page.get_by_test_id("document-row")
    expect(rows).to_have_count(20)
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 sur 2 — 23 résultats")
    e2e.assert_labelled(page)
    e2e.screenshot(page, "documents")

    page.get_by_test_id("page-next").click()
    e2e.shown(page, "/documents?page=2")
    expect(page.get_by_test_id("page-status")).to_have_text("Page 2 sur 2 — 23 résultats")
    expect(rows).to_have_count(3)

    page.select_option("#document-filters-type", "sortant")
    page.click("#document-filters-submit")
    e2e.shown(page, "/documents?type=sortant")
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 sur 1 — 3 résultats")
    expect(rows.first).to_contain_text("Relance fournisseur")

    page.fill("#document-filters-q", "Papeterie")
    page.select_option("#document-filters-priorite", "urgente")
    page.click("#document-filters-submit")
    e2e.shown(page, "/documents?q=Papeterie&type=sortant&priorite=urgente")
    expect(rows).to_have_count(3)
    expect(page.locator("#document-filters-priorite")).to_have_value("urgente")

    page.select_option("#document-filters-statut", "valide")
    page.click("#document-filters-submit")
    e2e.shown(page, "/documents?q=Papeterie&statut=valide&type=sortant&priorite=urgente")
    expect(page.get_by_test_id("documents-table-empty")).to_be_visible()

    page.click("#document-filters-reset")
    e2e.shown(page, "/documents")
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 sur 2 — 23 résultats")


def horizontal_overflow(page):
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_the_register_is_usable_on_a_phone(new_page, agent_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet="Courrier consulté sur téléphone",
                                   description="Une description assez longue pour passer à la ligne " * 3)
    page = e2e.login(new_page(viewport={"width": 390, "height": 844}), agent_user)
    expect(page.get_by_test_id("document-row").first).to_be_visible()
    assert horizontal_overflow(page) <= 0, "no horizontal scrolling on a phone"
    e2e.screenshot(page, "documents-mobile")

    open_document(page, document)
    assert horizontal_overflow(page) <= 0
    e2e.screenshot(page, "document-detail-mobile")


XSS_OBJET = "<img src=x onerror=alert(1)>"
XSS_EXPEDITEUR = '<script>alert("expediteur")</script>'
XSS_DESCRIPTION = '"><svg onload=alert(3)><b>gras</b>'


def test_markup_in_a_letter_is_shown_as_text_and_never_runs(new_page, agent_user, live_server, e2e):
    api = live_server.api
    document = api.create_document(api.token(agent_user), objet=XSS_OBJET, expediteur=XSS_EXPEDITEUR,
                                   description=XSS_DESCRIPTION)
    page = new_page()
    e2e.login(page, agent_user)

    row = page.locator(f"[data-testid=document-row][data-id='{document['id']}']")
    expect(row.get_by_test_id("document-objet")).to_have_text(XSS_OBJET)
    expect(row).to_contain_text(XSS_EXPEDITEUR)
    expect(page.get_by_text(XSS_OBJET, exact=True)).to_be_visible()

    row.get_by_test_id("document-link").click()
    expect(page.get_by_test_id("detail-objet")).to_have_text(XSS_OBJET)
    expect(page.get_by_test_id("detail-expediteur")).to_have_text(XSS_EXPEDITEUR)
    expect(page.get_by_test_id("detail-description")).to_have_text(XSS_DESCRIPTION)
    expect(page.locator("#page-title")).to_contain_text(XSS_OBJET)

    e2e.shown(page, f"/documents/{document['id']}")  # the screen settled: nothing left to insert or run
    assert page.locator("main img, main svg, main script, main b").count() == 0
    assert page.watch.dialogs == []
