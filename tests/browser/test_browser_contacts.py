"""Correspondents, replies, mail nature and the register's export in the browser (issue 14): the
Correspondants screen (create, the duplicate warning and "Créer quand même", search ignoring accents,
edit, CSV export, merge and delete for administrateurs), the contact picker of the letter form, the
registered-mail number, "Répondre" and the links both ways, the acknowledgement of receipt, the
register exported as CSV, and accessibility (axe-core, WCAG 2.1 A/AA) at desktop and phone
widths."""
import datetime
import os
import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 375, "height": 800}


def suffix():
    """A word no other test of the session uses, to keep names (and the duplicate guard) apart."""
    return uuid.uuid4().hex[:6].upper()


def paris_today():
    return datetime.datetime.now(ZoneInfo("Europe/Paris")).date()


@pytest.fixture(scope="module")
def admin_token(live_server):
    return live_server.api.token(live_server.admin)


@pytest.fixture(scope="module")
def scene(live_server, admin_token):
    """Setting the scene through the API."""
    api = live_server.api

    class Scene:
        @staticmethod
        def contact(token=admin_token, **fields):
            return api.ok("POST", "/api/contacts?force=true", fields, token, expected=(201,))["data"]

        @staticmethod
        def mail_office():
            """The session's one mail office, created the first time it is needed."""
            services = api.ok("GET", "/api/services", token=admin_token)["data"]
            found = next((service for service in services if service["is_mail_office"]), None)
            if found:
                return found
            body = {"code": f"BC-{suffix()}", "nom": "Bureau du courrier", "is_mail_office": True}
            return api.ok("POST", "/api/services", body, admin_token, expected=(201,))["data"]

        @staticmethod
        def join(account, *services):
            body = {"services": [service["id"] for service in services], "primary": services[0]["id"]}
            return api.ok("PUT", f"/api/users/{account.id}/services", body, admin_token)["data"]

    return Scene


def contact_row(page, contact_id):
    return page.locator(f"[data-testid=contact-row][data-id='{contact_id}']")


def created_id(page):
    """The id of the contact (or letter) whose screen is on display, from the fragment."""
    return page.evaluate("() => window.location.hash").rsplit("/", 1)[-1]


def fill_person(page, nom, prenom, code_postal, commune, civilite="M."):
    page.select_option("#contact-type", "personne")
    page.select_option("#contact-civilite", civilite)
    page.fill("#contact-nom", nom)
    page.fill("#contact-prenom", prenom)
    page.fill("#contact-adresse-numero", "12")
    page.fill("#contact-adresse-voie", "rue de la République")
    page.fill("#contact-adresse-code-postal", code_postal)
    page.fill("#contact-adresse-commune", commune)


def test_contacts_are_created_searched_without_accents_edited_and_exported(new_page, live_server, agent_user, e2e):
    api = live_server.api
    token = api.token(agent_user)
    nom = f"Lefèvre {suffix()}"
    page = e2e.login(new_page(bypass_csp=True), agent_user)
    page.click("[data-testid=nav-contacts]")
    e2e.shown(page, "/contacts")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "l'écran des correspondants")

    # Create one; the server's address rule is shown under the postcode.
    page.click("#new-contact-button")
    e2e.shown(page, "/contacts/new")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "le formulaire d'un nouveau correspondant")
    fill_person(page, nom, "François", "4200", "Saint-Étienne")
    page.click("#contact-form-submit")
    expect(page.locator("#contact-adresse-code-postal-error")).to_contain_text("5 chiffres")
    expect(page.locator("#contact-adresse-code-postal")).to_have_attribute("aria-invalid", "true")
    page.fill("#contact-adresse-code-postal", "42000")
    page.click("#contact-form-submit")
    expect(page.get_by_test_id("flash")).to_have_text(f"Correspondant « M. François {nom} » créé.")
    expect(page.locator("#page-title")).to_have_text(f"M. François {nom}")
    expect(page.get_by_test_id("contact-detail-adresse")).to_have_text("12 rue de la République, 42000 Saint-Étienne")
    first_id = created_id(page)

    # The same name and postcode again: the probable duplicate is named, "Créer quand même" creates it.
    page.goto("/#/contacts/new")
    e2e.shown(page, "/contacts/new")
    fill_person(page, nom.upper(), "Francois", "42000", "Saint-Étienne")
    page.click("#contact-form-submit")
    warning = page.get_by_test_id("contact-duplicate")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Un correspondant semblable existe déjà")
    expect(warning).to_contain_text(f"M. François {nom}")
    expect(warning.get_by_test_id("contact-duplicate-link")).to_have_attribute("href", f"#/contacts/{first_id}")
    expect(warning).to_be_focused()
    e2e.assert_accessible(page, "l'avertissement de doublon")
    assert api.ok("GET", f"/api/contacts?q={nom.split()[1]}", token=token)["meta"]["total"] == 1
    page.get_by_test_id("contact-force").click()
    expect(page.get_by_test_id("flash")).to_contain_text("créé")
    second_id = created_id(page)
    assert second_id != first_id

    # "francois" finds "François" (and "FRANCOIS"); "lefevre" finds "Lefèvre".
    page.goto("/#/contacts")
    e2e.shown(page, "/contacts")
    page.fill("#contact-filters-q", "francois")
    page.click("#contact-filters-submit")
    e2e.shown(page, "/contacts?q=francois")
    expect(contact_row(page, first_id)).to_be_visible()
    expect(contact_row(page, second_id)).to_be_visible()
    expect(contact_row(page, first_id).get_by_test_id("contact-link")).to_have_text(f"M. François {nom}")
    query = f"lefevre {nom.split()[1].lower()}"
    page.fill("#contact-filters-q", query)
    page.select_option("#contact-filters-type", "personne")
    page.click("#contact-filters-submit")
    # Each search's own screen (the previous one also showed two rows).
    e2e.shown(page, "/contacts?" + urlencode({"q": query, "type": "personne"}))
    expect(page.get_by_test_id("contact-row")).to_have_count(2)
    page.select_option("#contact-filters-type", "organisation")
    page.click("#contact-filters-submit")
    e2e.shown(page, "/contacts?" + urlencode({"q": query, "type": "organisation"}))
    expect(page.get_by_test_id("contacts-table-empty")).to_be_visible()
    page.select_option("#contact-filters-type", "personne")
    page.click("#contact-filters-submit")
    e2e.shown(page, "/contacts?" + urlencode({"q": query, "type": "personne"}))
    expect(page.get_by_test_id("contact-row")).to_have_count(2)
    e2e.assert_accessible(page, "la recherche de correspondants")
    e2e.screenshot(page, "contacts")

    # The CSV export of the search.
    with page.expect_download() as download:
        page.get_by_test_id("contacts-export-csv").click()
    assert download.value.suggested_filename == "correspondants.csv"
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert text.count(nom) + text.count(nom.upper()) == 2, text

    # Edit one: its telephone and its commune.
    contact_row(page, first_id).get_by_test_id("contact-link").click()
    e2e.shown(page, f"/contacts/{first_id}")
    page.click("#contact-edit-button")
    expect(page.locator("#contact-edit-button")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#contact-type")).to_be_focused()
    e2e.assert_accessible(page, "la fiche d'un correspondant, en modification")
    page.fill("#contact-telephone", "04 77 00 00 00")
    page.click("#contact-edit-form-submit")
    expect(page.get_by_test_id("flash")).to_have_text("Correspondant modifié.")
    expect(page.get_by_test_id("contact-detail-telephone")).to_have_text("04 77 00 00 00")
    assert api.ok("GET", f"/api/contacts/{first_id}", token=token)["data"]["telephone"] == "04 77 00 00 00"
    expect(page.get_by_test_id("contact-letters-empty")).to_be_visible()
    expect(page.get_by_test_id("merge-panel")).to_have_count(0)  # an agent neither merges nor deletes
    expect(page.get_by_test_id("contact-delete-panel")).to_have_count(0)


def test_a_filter_changed_while_a_search_is_answered_is_kept(new_page, live_server, agent_user, e2e):
    """The answer to a search rebuilds the screen: the type chosen meanwhile stays chosen, and is the one sent."""
    page = e2e.login(new_page(), agent_user, then="/contacts")

    def choose_organisation_meanwhile(route):
        """The search's request waits until the user has chosen another type on the screen still shown."""
        page.select_option("#contact-filters-type", "organisation")
        route.continue_()

    page.route("**/api/contacts?*", choose_organisation_meanwhile, times=1)
    page.select_option("#contact-filters-type", "personne")
    page.click("#contact-filters-submit")
    e2e.shown(page, "/contacts?type=personne")
    expect(page.locator("#contact-filters-type")).to_have_value("organisation")
    page.click("#contact-filters-submit")
    e2e.shown(page, "/contacts?type=organisation")
    expect(page.locator("#contact-filters-type")).to_have_value("organisation")


def test_the_contacts_screens_fit_a_phone(new_page, live_server, agent_user, scene, e2e):
    organisation = f"Communauté d'agglomération du Grand Besançon {suffix()}"
    contact = scene.contact(type="organisation", organisation=organisation,
                            email="contact.tres.long.pour.un.petit.ecran@grandbesancon-metropole.example.org",
                            adresse={"voie": "4 rue Gabriel Plançon", "code_postal": "25000", "commune": "Besançon"})
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), agent_user, then="/contacts")
    e2e.assert_no_horizontal_overflow(page)
    for route in ("/contacts?q=besancon", "/contacts/new", f"/contacts/{contact['id']}"):
        page.goto(f"/#{route}")
        e2e.shown(page, route)
        e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "la fiche d'un correspondant sur un téléphone")


def test_a_letter_is_registered_with_the_picker_as_registered_mail_and_its_receipt_recorded(
        new_page, live_server, agent_user, scene, e2e):
    api = live_server.api
    token = api.token(agent_user)
    name = f"Préfecture du Rhône {suffix()}"
    contact = scene.contact(type="organisation", organisation=name,
                            adresse={"numero": "18", "voie": "rue de Bonnel", "code_postal": "69003",
                                     "commune": "Lyon"})
    scene.contact(type="organisation", organisation=f"{name}, sous-préfecture de Villefranche",
                  adresse={"code_postal": "69400", "commune": "Villefranche-sur-Saône"})
    objet = f"Arrêté {suffix()}"

    page = e2e.login(new_page(bypass_csp=True), agent_user)
    page.click("#new-document-button")
    e2e.shown(page, "/documents/new")
    page.get_by_label("Objet").fill(objet)

    # Type a few letters, without the accent: the picker suggests both, arrows and Enter choose one.
    sender = page.locator("#doc-expediteur")
    expect(sender).to_have_attribute("role", "combobox")
    expect(sender).to_have_attribute("aria-expanded", "false")
    sender.press_sequentially(f"prefecture du rhone {name.split()[-1].lower()}", delay=20)
    expect(sender).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    options = page.get_by_test_id("expediteur-picker-suggestions").get_by_role("option")
    expect(options).to_have_count(3)  # the two namesakes, then « Créer le correspondant « … » »
    expect(options.last).to_have_attribute("data-testid", "expediteur-picker-create")
    expect(sender).to_have_attribute("aria-expanded", "true")
    expect(sender).to_have_attribute("aria-controls", "doc-expediteur-suggestions")
    expect(page.get_by_test_id("expediteur-picker-status")).to_contain_text("2 correspondants suggérés")
    sender.press("ArrowDown")
    sender.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    sender.press("ArrowUp")
    first = options.first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(options.nth(1)).to_have_attribute("aria-selected", "false")
    expect(sender).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    assert first.get_attribute("data-id") == contact["id"]  # alphabetical: the shorter name first
    expect(first).to_contain_text("69003 Lyon")
    e2e.assert_accessible(page, "le formulaire d'enregistrement, suggestions de correspondants ouvertes")
    e2e.screenshot(page, "letter-form-contact-picker")
    sender.press("Enter")
    expect(sender).to_have_attribute("aria-expanded", "false")
    expect(sender).to_have_value(name)
    chosen = page.get_by_test_id("expediteur-picker-chosen")
    expect(chosen).to_be_visible()
    expect(chosen).to_have_attribute("data-id", contact["id"])
    # The text stays editable: what the letter says, the contact stays linked.
    sender.fill(f"{name}, service des étrangers")
    expect(chosen).to_have_attribute("data-id", contact["id"])
    page.get_by_label("Destinataire").fill("Direction générale")

    # A registered letter needs its number; the field appears with the nature.
    number = page.locator("#doc-numero-recommande")
    expect(number).to_be_hidden()
    page.get_by_label("Nature du pli").select_option("recommande_ar")
    expect(number).to_be_visible()
    e2e.assert_labelled(page)
    page.click("#document-submit")
    expect(page.locator("#doc-numero-recommande-error")).to_be_visible()
    expect(number).to_have_attribute("aria-invalid", "true")
    number.fill("1A 123 456 789 0")
    page.click("#document-submit")
    expect(page.locator("#doc-numero-recommande-error")).to_contain_text("13 caractères")
    number.fill("1A 123 456 789 01")
    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(page.get_by_test_id("detail-expediteur-text")).to_have_text(f"{name}, service des étrangers")
    expect(page.get_by_test_id("detail-expediteur-contact")).to_have_attribute("href", f"#/contacts/{contact['id']}")
    expect(page.get_by_test_id("detail-nature")).to_have_text("Recommandé avec accusé de réception")
    expect(page.get_by_test_id("detail-numero-recommande")).to_have_text("1A12345678901")
    expect(page.get_by_test_id("detail-accuse-reception")).to_have_text("Pas encore revenu")
    document_id = created_id(page)
    document = api.ok("GET", f"/api/documents/{document_id}", token=token)["data"]
    assert document["expediteur_contact"]["id"] == contact["id"]
    assert document["expediteur"] == f"{name}, service des étrangers"
    assert document["nature"] == "recommande_ar"
    assert document["numero_recommande"] == "1A12345678901"

    # The acknowledgement of receipt: not in the future, then recorded, shown and in the history.
    panel = page.get_by_test_id("ack-panel")
    expect(panel.get_by_test_id("ack-state")).to_contain_text("Pas encore enregistré")
    e2e.assert_accessible(page, "le détail d'un recommandé avec AR")
    tomorrow = paris_today() + datetime.timedelta(days=1)
    page.fill("#ack-date", tomorrow.isoformat())
    page.click("#ack-submit")
    expect(page.locator("#ack-date-error")).to_be_visible()
    day = paris_today() - datetime.timedelta(days=1)
    page.fill("#ack-date", day.isoformat())
    page.click("#ack-submit")
    shown_day = day.strftime("%d/%m/%Y")
    expect(page.locator("#document-message")).to_have_text(f"Accusé de réception du {shown_day} enregistré.")
    expect(page.get_by_test_id("detail-accuse-reception")).to_have_text(f"Revenu le {shown_day}")
    item = page.locator("[data-testid=history-item][data-action=acknowledged]")
    expect(item).to_contain_text("Accusé de réception")
    expect(item).to_contain_text(f"Date : {shown_day}")
    document = api.ok("GET", f"/api/documents/{document_id}", token=token)["data"]
    assert document["date_accuse_reception"] == day.isoformat()

    # The letter is on the contact's card.
    page.get_by_test_id("detail-expediteur-contact").click()
    e2e.shown(page, f"/contacts/{contact['id']}")
    expect(page.locator(f"[data-testid=contact-letter][data-id='{document_id}']")).to_contain_text(objet)


def test_a_correspondent_is_created_from_the_picker_and_linked(new_page, live_server, agent_user, scene, e2e):
    """Nothing matches: the picker offers « Créer le correspondant « … » », a dialog asks the minimum (French errors
    under their fields), and the contact created is linked; a probable duplicate offers the existing one."""
    api = live_server.api
    word = suffix()
    name = f"Association Les Amis du Parc {word}"
    page = e2e.login(new_page(bypass_csp=True), agent_user, then="/documents/new")
    page.get_by_label("Objet").fill(f"Demande de salle {word}")
    sender = page.locator("#doc-expediteur")
    sender.press_sequentially(name, delay=10)
    expect(sender).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    options = page.get_by_test_id("expediteur-picker-suggestions").get_by_role("option")
    expect(options).to_have_count(1)
    create = page.get_by_test_id("expediteur-picker-create")
    expect(create).to_have_text(re.compile(f"Créer le correspondant « {name} »"))
    expect(page.get_by_test_id("expediteur-picker-status")).to_contain_text("Aucun correspondant ne correspond")
    expect(sender).to_have_attribute("aria-expanded", "true")
    e2e.assert_accessible(page, "le sélecteur de correspondants proposant d'en créer un")

    # Keyboard only: the option, Enter, the dialog with the typed name; Escape gives the focus back.
    sender.press("ArrowDown")
    expect(create).to_have_attribute("aria-selected", "true")
    sender.press("Enter")
    dialog = page.get_by_test_id("expediteur-picker-create-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#doc-expediteur-create-type")).to_be_focused()
    expect(page.locator("#doc-expediteur-create-nom")).to_have_value(name)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(sender).to_be_focused()
    expect(page.get_by_test_id("expediteur-picker-chosen")).to_be_hidden()

    sender.press("End")
    sender.press("Backspace")
    sender.press_sequentially(name[-1], delay=10)
    expect(sender).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    expect(create).to_be_visible()
    create.click()
    expect(dialog).to_be_visible()
    # An organisation: the typed text moves to the organisation's name, a person's rows (nom, prénom) go away.
    page.select_option("#doc-expediteur-create-type", "organisation")
    expect(page.locator("#doc-expediteur-create-organisation")).to_have_value(name)
    expect(page.locator("#doc-expediteur-create-nom")).to_have_value("")
    expect(page.locator("#doc-expediteur-create-nom")).to_be_hidden()
    expect(page.locator("#doc-expediteur-create-prenom")).to_be_hidden()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "la création d'un correspondant depuis le formulaire d'un courrier")
    e2e.screenshot(page, "letter-form-new-contact")
    page.fill("#doc-expediteur-create-organisation", "")
    page.get_by_test_id("expediteur-picker-create-submit").click()
    expect(page.locator("#doc-expediteur-create-organisation-error")).to_have_text("Obligatoire pour une organisation.")
    expect(page.locator("#doc-expediteur-create-organisation")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#doc-expediteur-create-organisation")).to_be_focused()
    page.fill("#doc-expediteur-create-organisation", name)
    page.fill("#doc-expediteur-create-code-postal", "6900")
    page.get_by_test_id("expediteur-picker-create-submit").click()
    expect(page.locator("#doc-expediteur-create-code-postal-error")).to_contain_text("5 chiffres")
    e2e.assert_accessible(page, "la création d'un correspondant, erreurs affichées")
    page.fill("#doc-expediteur-create-code-postal", "69004")
    page.fill("#doc-expediteur-create-commune", "Lyon")
    page.get_by_test_id("expediteur-picker-create-submit").click()

    expect(dialog).to_have_count(0)
    expect(sender).to_be_focused()
    expect(sender).to_have_value(name)
    chosen = page.get_by_test_id("expediteur-picker-chosen")
    expect(chosen).to_be_visible()
    expect(page.get_by_test_id("expediteur-picker-status")).to_contain_text(f"Correspondant lié : {name}")
    contact_id = chosen.get_attribute("data-id")
    contact = api.ok("GET", f"/api/contacts/{contact_id}", token=api.token(agent_user))["data"]
    adresse = contact["adresse"]
    assert (contact["type"], contact["organisation"], adresse["code_postal"], adresse["commune"]) == \
        ("organisation", name, "69004", "Lyon")

    # The same name again as the recipient: the existing one is suggested; creating it anyway is a probable
    # duplicate, and « Choisir le correspondant existant » links the one found.
    recipient = page.locator("#doc-destinataire")
    recipient.press_sequentially(name, delay=10)
    expect(recipient).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    suggestions = page.get_by_test_id("destinataire-picker-suggestions").get_by_role("option")
    expect(suggestions).to_have_count(2)
    expect(suggestions.first).to_have_attribute("data-id", contact_id)
    page.get_by_test_id("destinataire-picker-create").click()
    page.select_option("#doc-destinataire-create-type", "organisation")
    page.fill("#doc-destinataire-create-code-postal", "69004")
    page.get_by_test_id("destinataire-picker-create-submit").click()
    duplicate = page.get_by_test_id("destinataire-picker-create-duplicate")
    expect(duplicate).to_contain_text("Doublon probable")
    expect(duplicate).to_be_focused()
    e2e.assert_accessible(page, "la création d'un correspondant, doublon probable")
    page.get_by_test_id("destinataire-picker-create-existing").click()
    expect(page.get_by_test_id("destinataire-picker-chosen")).to_have_attribute("data-id", contact_id)
    expect(recipient).to_be_focused()

    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(page.get_by_test_id("detail-expediteur-contact")).to_have_attribute("href", f"#/contacts/{contact_id}")
    expect(page.get_by_test_id("detail-destinataire-contact")).to_have_attribute("href", f"#/contacts/{contact_id}")
    found = api.ok("GET", f"/api/contacts?q={word.lower()}", token=api.token(agent_user))["data"]
    assert [c["id"] for c in found] == [contact_id]  # one contact: the duplicate was not created


def test_the_letter_form_with_its_picker_fits_a_phone(new_page, live_server, agent_user, scene, e2e):
    word = suffix()
    name = f"Syndicat intercommunal des eaux de la vallée {word}"
    scene.contact(type="organisation", organisation=name, email="accueil@syndicat-des-eaux-de-la-vallee.example.org",
                  adresse={"code_postal": "38000", "commune": "Grenoble"})
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), agent_user, then="/documents/new")
    e2e.assert_no_horizontal_overflow(page)
    page.locator("#doc-destinataire").press_sequentially(f"vallee {word.lower()}", delay=20)
    expect(page.locator("#doc-destinataire")).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    option = page.get_by_test_id("destinataire-picker-option")
    expect(option).to_have_count(1)
    e2e.assert_no_horizontal_overflow(page)
    option.click()
    expect(page.locator("#doc-destinataire")).to_have_value(name)
    expect(page.get_by_test_id("destinataire-picker-chosen")).to_be_visible()
    page.get_by_label("Nature du pli").select_option("recommande")
    expect(page.locator("#doc-numero-recommande")).to_be_visible()
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "le formulaire d'enregistrement sur un téléphone")
    page.get_by_test_id("destinataire-picker-detach").click()
    expect(page.get_by_test_id("destinataire-picker-chosen")).to_be_hidden()
    expect(page.locator("#doc-destinataire")).to_have_value(name)  # the text stays

    # The new correspondent's dialog fits the phone too.
    page.locator("#doc-expediteur").press_sequentially(f"Particulier {word}", delay=10)
    expect(page.locator("#doc-expediteur")).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    page.get_by_test_id("expediteur-picker-create").click()
    expect(page.get_by_test_id("expediteur-picker-create-dialog")).to_be_visible()
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "la création d'un correspondant sur un téléphone")
    page.get_by_test_id("expediteur-picker-create-cancel").click()
    expect(page.get_by_test_id("expediteur-picker-create-dialog")).to_have_count(0)
    expect(page.locator("#doc-expediteur")).to_be_focused()


def test_replying_to_an_incoming_letter_links_both_ways(new_page, live_server, agent_user, scene, e2e):
    api = live_server.api
    token = api.token(agent_user)
    contact = scene.contact(token, type="personne", civilite="Mme", nom=f"Bonnet {suffix()}", prenom="Élise",
                            adresse={"code_postal": "75011", "commune": "Paris"})
    body = {"type": "entrant", "objet": "Demande d'acte de naissance", "expediteur_id": contact["id"],
            "destinataire": "État civil"}
    letter = api.ok("POST", "/api/documents", body, token, expected=(201,))["data"]
    assert letter["expediteur"] == f"Mme Élise {contact['nom']}"  # filled from the contact by the server

    page = e2e.login(new_page(bypass_csp=True), agent_user, then=f"/documents/{letter['id']}")
    panel = page.get_by_test_id("replies-panel")
    expect(panel.get_by_test_id("replies-empty")).to_be_visible()
    panel.get_by_test_id("reply-button").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Réponse")
    reply_id = created_id(page)
    assert reply_id != letter["id"]
    e2e.shown(page, f"/documents/{reply_id}")
    expect(page.get_by_test_id("detail-type")).to_have_text("Sortant")
    expect(page.get_by_test_id("detail-objet")).to_have_text("Réponse : Demande d'acte de naissance")
    expect(page.get_by_test_id("detail-destinataire-text")).to_have_text(letter["expediteur"])
    expect(page.get_by_test_id("detail-destinataire-contact")).to_have_attribute("data-id", contact["id"])
    back = page.get_by_test_id("detail-en-reponse-a-link")
    expect(back).to_contain_text(letter["reference"])
    expect(page.get_by_test_id("replies-panel")).to_have_count(0)  # an outgoing letter has no reply of its own
    e2e.assert_accessible(page, "une réponse et son lien vers le courrier")
    reply = api.ok("GET", f"/api/documents/{reply_id}", token=token)["data"]
    assert reply["en_reponse_a_id"] == letter["id"]
    assert reply["destinataire_contact"]["id"] == contact["id"]

    back.click()
    e2e.shown(page, f"/documents/{letter['id']}")
    link = page.locator(f"[data-testid=reply][data-id='{reply_id}'] [data-testid=reply-link]")
    expect(link).to_contain_text(reply["reference"])
    expect(link).to_contain_text("Réponse : Demande d'acte de naissance")
    expect(page.get_by_test_id("replies-empty")).to_have_count(0)
    e2e.assert_accessible(page, "un courrier et la liste de ses réponses")
    e2e.screenshot(page, "reply-links")
    link.click()
    e2e.shown(page, f"/documents/{reply_id}")


def test_the_register_is_exported_as_csv(new_page, live_server, make_account, agent_user, scene, e2e):
    """The CSV is a direct download (the PDF, a background job, is in test_browser_jobs.py)."""
    api = live_server.api
    clerk = make_account("agent", "Perrin", "Noé")
    scene.join(clerk, scene.mail_office())
    letter = api.create_document(api.token(clerk), objet="Registre exporté", expediteur="Mairie de Dijon")

    # An agent outside the mail office has no export.
    outsider = e2e.login(new_page(), agent_user)
    expect(outsider.get_by_test_id("register-export")).to_have_count(0)

    page = e2e.login(new_page(bypass_csp=True), clerk)
    panel = page.get_by_test_id("register-export")
    expect(panel).to_be_visible()
    page.click("#register-export-summary")
    expect(page.locator("#register-type")).to_be_visible()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "l'export du registre")

    page.select_option("#register-type", "entrant")
    with page.expect_download() as download:
        page.get_by_test_id("register-export-csv").click()
    assert re.fullmatch(r"registre-entrant-\d{4}\.csv", download.value.suggested_filename)
    content = Path(download.value.path()).read_bytes()
    assert content.startswith("\ufeff".encode())
    assert letter["reference"] in content.decode("utf-8-sig")
    expect(page.locator("#register-export-status")).to_have_text("Registre en CSV téléchargé.")

    # A period that ends before it starts: the server's message under the field.
    day = paris_today()
    page.fill("#register-date-from", day.isoformat())
    page.fill("#register-date-to", (day - datetime.timedelta(days=1)).isoformat())
    page.get_by_test_id("register-export-csv").click()
    expect(page.locator("#register-date-to-error")).to_contain_text("précède")
    e2e.assert_accessible(page, "l'export du registre, période refusée")

    phone = e2e.login(new_page(viewport=PHONE), clerk)
    phone.click("#register-export-summary")
    expect(phone.get_by_test_id("register-export-pdf")).to_be_visible()
    e2e.assert_no_horizontal_overflow(phone)


def test_an_administrateur_merges_two_contacts_and_deletes_one(new_page, live_server, agent_user, scene, e2e):
    api = live_server.api
    admin_token = api.token(live_server.admin)
    word = suffix()
    target = scene.contact(type="organisation", organisation=f"Ville de Villeurbanne {word}",
                           adresse={"code_postal": "69100", "commune": "Villeurbanne"})
    source = scene.contact(type="organisation", organisation=f"Mairie de Villeurbanne {word}",
                           adresse={"code_postal": "69100", "commune": "Villeurbanne"})
    unused = scene.contact(type="organisation", organisation=f"Office du tourisme {word}")
    letter = api.create_document(admin_token, objet=f"Fête des Lumières {word}", expediteur_id=source["id"],
                                 expediteur="Mairie de Villeurbanne")

    page = e2e.login(new_page(bypass_csp=True), live_server.admin, then=f"/contacts/{source['id']}")
    expect(page.locator(f"[data-testid=contact-letter][data-id='{letter['id']}']")).to_be_visible()
    panel = page.get_by_test_id("merge-panel")
    expect(panel).to_be_visible()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "la fiche d'un correspondant (administrateur)")

    # Without a choice, nothing is sent; the picker never offers the contact itself.
    page.click("#merge-submit")
    expect(page.locator("#merge-target-error")).to_contain_text("Choisissez")
    page.locator("#merge-target").press_sequentially(f"villeurbanne {word.lower()}", delay=20)
    expect(page.locator("#merge-target")).not_to_have_attribute("aria-busy", "true")  # the answer to the whole text
    option = page.get_by_test_id("merge-picker-option")
    expect(option).to_have_count(1)
    expect(option).to_have_attribute("data-id", target["id"])
    option.click()
    expect(page.get_by_test_id("merge-summary")).to_contain_text(f"passeront à « Ville de Villeurbanne {word} »")
    e2e.assert_accessible(page, "la fusion de deux correspondants")
    page.click("#merge-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Correspondants fusionnés : 1 courrier(s) déplacé(s).")
    e2e.shown(page, f"/contacts/{target['id']}")
    expect(page.locator(f"[data-testid=contact-letter][data-id='{letter['id']}']")).to_contain_text("Expéditeur")
    moved = api.ok("GET", f"/api/documents/{letter['id']}", token=admin_token)["data"]
    assert moved["expediteur_contact"]["id"] == target["id"]
    assert moved["expediteur"] == "Mairie de Villeurbanne"  # the text of the letter is kept
    assert api.call("GET", f"/api/contacts/{source['id']}", token=admin_token)[0] == 404

    # The merge is in the letter's history.
    page.goto(f"/#/documents/{letter['id']}")
    e2e.shown(page, f"/documents/{letter['id']}")
    item = page.locator("[data-testid=history-item][data-action=contact_merged]")
    expect(item).to_contain_text("Correspondant fusionné")
    expect(item).to_contain_text(f"« Mairie de Villeurbanne {word} » → « Ville de Villeurbanne {word} »")

    # A contact that letters name cannot be deleted (the server's 409); one that none names can.
    page.goto(f"/#/contacts/{target['id']}")
    e2e.shown(page, f"/contacts/{target['id']}")
    page.click("#contact-delete")
    page.click("#contact-delete-confirm")
    expect(page.locator("#contact-delete-error")).to_contain_text("ne peut pas être supprimé")
    page.goto(f"/#/contacts/{unused['id']}")
    e2e.shown(page, f"/contacts/{unused['id']}")
    page.click("#contact-delete")
    expect(page.locator("#contact-delete-confirm")).to_be_focused()
    page.click("#contact-delete-confirm")
    expect(page.get_by_test_id("flash")).to_have_text(f"Correspondant « Office du tourisme {word} » supprimé.")
    e2e.shown(page, "/contacts")
    assert api.call("GET", f"/api/contacts/{unused['id']}", token=admin_token)[0] == 404
