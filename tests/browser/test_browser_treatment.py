"""Treatment, deadlines and work queues in the browser (issue 13): the home screen of queues, a queue
opened in the register, deadline badges, the treatment panel of a letter (take in charge, mark
treated, reopen), the typologies screen, the e-mail notification switch, and accessibility (axe-core,
WCAG 2.1 A/AA) of those screens, at desktop and phone widths."""
import datetime
import os
import shutil
import uuid
from zoneinfo import ZoneInfo

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 375, "height": 800}


def unique_code(prefix):
    """A code no other test of the session uses (codes are at most 20 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}".upper()


def paris_today():
    return datetime.datetime.now(ZoneInfo("Europe/Paris")).date()


@pytest.fixture(scope="module")
def admin_token(live_server):
    return live_server.api.token(live_server.admin)


@pytest.fixture(scope="module")
def scene(live_server, admin_token):
    """Setting the scene through the API, as the administrateur."""
    api = live_server.api

    class Scene:
        @staticmethod
        def service(prefix, nom, parent=None):
            body = {"code": unique_code(prefix), "nom": nom, "parent_id": parent["id"] if parent else None}
            return api.ok("POST", "/api/services", body, admin_token, expected=(201,))["data"]

        @staticmethod
        def join(account, *services):
            body = {"services": [service["id"] for service in services], "primary": services[0]["id"]}
            return api.ok("PUT", f"/api/users/{account.id}/services", body, admin_token)["data"]

        @staticmethod
        def typologie(prefix, nom, delai_jours, mode="normal"):
            body = {"code": unique_code(prefix), "nom": nom, "delai_jours": delai_jours, "mode": mode}
            return api.ok("POST", "/api/typologies", body, admin_token, expected=(201,))["data"]

        @staticmethod
        def route(document, service, responsable=None):
            body = {"service_id": service["id"], "responsable_id": responsable.id if responsable else None}
            return api.ok("POST", f"/api/documents/{document['id']}/assign", body, admin_token)["data"]

        @staticmethod
        def validate(document, validateur):
            return api.ok("POST", f"/api/documents/{document['id']}/validate", token=api.token(validateur))["data"]

    return Scene


@pytest.fixture
def team(make_account, scene):
    """A service with an agent and a validateur, and an agent outside it who registers the mail."""
    service = scene.service("SOC", "Action sociale")
    member = make_account("agent", "Moreau", "Lucie")
    chief = make_account("validateur", "Dubois", "Marc")
    clerk = make_account("agent", "Simon", "Jules")
    scene.join(member, service)
    scene.join(chief, service)
    return {"service": service, "member": member, "chief": chief, "clerk": clerk}


def typologie_item(page, code):
    return page.locator(f"[data-testid=typologie-item][data-code='{code}']")


def open_typologie_edit(page, code):
    item = typologie_item(page, code)
    item.get_by_test_id("typologie-edit").click()
    form = item.get_by_test_id("typologie-edit-form")
    expect(form).to_be_visible()
    return form


def test_an_administrateur_manages_the_typologies(new_page, live_server, agent_user, e2e):
    page = e2e.login(new_page(bypass_csp=True), live_server.admin)
    e2e.open_nav(page, "nav-typologies")
    e2e.shown(page, "/admin/typologies")
    e2e.assert_labelled(page)

    code = unique_code("REC")
    page.fill("#typologie-new-code", code.lower())
    page.fill("#typologie-new-nom", "Réclamation d'usager")
    page.fill("#typologie-new-delai", "2.5")
    page.click("#typologie-submit")
    expect(page.locator("#typologie-new-delai-error")).to_contain_text("nombre entier")
    page.fill("#typologie-new-delai", "400")
    page.click("#typologie-submit")
    expect(page.locator("#typologie-new-delai-error")).to_contain_text("365")  # the server's message
    expect(page.locator("#typologie-new-delai")).to_have_attribute("aria-invalid", "true")
    page.fill("#typologie-new-delai", "15")
    page.select_option("#typologie-new-mode", "sva")
    page.click("#typologie-submit")
    expect(page.get_by_test_id("flash")).to_have_text(f"Typologie {code} créée.")
    item = typologie_item(page, code)
    expect(item.get_by_test_id("typologie-nom")).to_have_text("Réclamation d'usager")
    expect(item.get_by_test_id("typologie-delai")).to_have_text("15 jours ouvrés")
    expect(item.get_by_test_id("typologie-mode")).to_have_text("Silence vaut acceptation")

    # Change its name, deadline and mode.
    form = open_typologie_edit(page, code)
    e2e.assert_accessible(page, "l'écran des typologies, formulaire de modification ouvert")
    form.get_by_label("Nom").fill("Réclamation")
    form.get_by_label("Délai de traitement (jours ouvrés)").fill("20")
    form.get_by_label("Mode").select_option("normal")
    form.get_by_test_id("typologie-save").click()
    expect(page.get_by_test_id("flash")).to_have_text(f"Typologie {code} modifiée.")
    item = typologie_item(page, code)
    expect(item.get_by_test_id("typologie-nom")).to_have_text("Réclamation")
    expect(item.get_by_test_id("typologie-delai")).to_have_text("20 jours ouvrés")
    expect(item.get_by_test_id("typologie-mode")).to_have_count(0)

    # Deactivate it: it leaves the registration form; reactivate it: it comes back.
    open_typologie_edit(page, code).get_by_test_id("typologie-toggle-active").click()
    expect(page.get_by_test_id("flash")).to_have_text(f"Typologie {code} désactivée.")
    expect(typologie_item(page, code).get_by_test_id("typologie-inactive-badge")).to_be_visible()
    typologie_id = typologie_item(page, code).get_attribute("data-id")
    page.goto("/#/documents/new")
    e2e.shown(page, "/documents/new")
    expect(page.locator(f"#doc-typologie option[value='{typologie_id}']")).to_have_count(0)
    page.goto("/#/admin/typologies")
    e2e.shown(page, "/admin/typologies")
    open_typologie_edit(page, code).get_by_test_id("typologie-toggle-active").click()
    expect(page.get_by_test_id("flash")).to_have_text(f"Typologie {code} réactivée.")
    expect(typologie_item(page, code).get_by_test_id("typologie-inactive-badge")).to_have_count(0)
    e2e.assert_accessible(page, "l'écran des typologies")
    e2e.screenshot(page, "typologies")

    # An agent has no menu entry, and the screen sends them home.
    agent = e2e.login(new_page(), agent_user, then=None)
    expect(agent.get_by_test_id("nav-typologies")).to_have_count(0)
    agent.goto("/#/admin/typologies")
    expect(agent.get_by_test_id("home-page")).to_be_visible()
    expect(agent.get_by_test_id("flash")).to_contain_text("réservée aux administrateurs")


def test_a_letter_goes_from_the_queue_to_treated_and_is_reopened(new_page, live_server, team, scene, e2e):
    api = live_server.api
    typologie = scene.typologie("SUBV", "Demande de subvention", 30)
    objet = f"AIDE{uuid.uuid4().hex[:8]}"

    # The clerk registers the letter with its typologie, in the registration form.
    clerk = e2e.login(new_page(), team["clerk"])
    clerk.click("#new-document-button")
    e2e.shown(clerk, "/documents/new")
    clerk.get_by_label("Objet").fill(objet)
    clerk.get_by_label("Expéditeur").fill("Association des familles")
    clerk.get_by_label("Destinataire").fill("Action sociale")
    clerk.select_option("#doc-typologie", typologie["id"])
    clerk.click("#document-submit")
    expect(clerk.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(clerk.get_by_test_id("detail-typologie")).to_contain_text(f"{typologie['code']} — Demande de subvention")
    expect(clerk.get_by_test_id("detail-traitement")).to_have_text("Pas encore à traiter")
    expect(clerk.get_by_test_id("treatment-panel")).to_have_count(0)
    document_id = clerk.url.rsplit("/", 1)[-1]
    document = api.ok("GET", f"/api/documents/{document_id}", token=api.token(team["clerk"]))["data"]
    assert document["typologie"]["id"] == typologie["id"]

    # Validated, then routed to the service with no responsable: it is to be treated by its members.
    scene.validate(document, team["chief"])
    scene.route(document, team["service"])

    page = e2e.login(new_page(bypass_csp=True), team["member"], then=None)
    e2e.shown(page, "/accueil")
    queue = page.locator("[data-testid=bannette][data-code=a_traiter]")
    expect(queue.get_by_test_id("bannette-count")).to_have_text("1")
    expect(queue).to_have_accessible_name("À traiter : 1 courrier")
    codes = page.get_by_test_id("bannette").evaluate_all("(links) => links.map((link) => link.dataset.code)")
    assert "a_qualifier" not in codes and "a_valider" not in codes  # an agent outside the mail office
    e2e.assert_accessible(page, "l'écran d'accueil (bannettes)")
    e2e.screenshot(page, "home")

    queue.click()
    e2e.shown(page, "/documents?bannette=a_traiter")
    expect(page.locator("#page-title")).to_have_text("Bannette « À traiter »")
    expect(page.get_by_test_id("bannette-chip")).to_contain_text("À traiter")
    expect(page.locator("#document-filters-bannette")).to_have_value("a_traiter")
    rows = page.get_by_test_id("document-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", document["id"])
    expect(rows.first.get_by_test_id("document-etat")).to_have_text("À traiter")
    # Under the « Échéance » header, the date alone (no « Échéance le » repeated on every row).
    listed_echeance = datetime.date.fromisoformat(document["traitement"]["echeance"]).strftime("%d/%m/%Y")
    expect(rows.first.get_by_test_id("document-echeance")).to_have_text(listed_echeance)
    e2e.assert_accessible(page, "une bannette ouverte dans le registre")
    # The queue is kept when the other filters are applied.
    page.fill("#document-filters-q", objet)
    page.click("#document-filters-submit")
    e2e.shown(page, f"/documents?bannette=a_traiter&q={objet}")
    expect(rows).to_have_count(1)

    rows.first.get_by_test_id("document-link").click()
    e2e.shown(page, f"/documents/{document['id']}")
    panel = page.get_by_test_id("treatment-panel")
    expect(panel.get_by_test_id("treatment-etat")).to_have_text("À traiter")
    expect(page.locator("#reopen-button")).to_have_count(0)  # an agent does not reopen
    echeance = datetime.date.fromisoformat(document["traitement"]["echeance"]).strftime("%d/%m/%Y")
    expect(page.get_by_test_id("detail-echeance")).to_have_text(f"Échéance le {echeance}")

    page.click("#take-button")
    expect(page.locator("#document-message")).to_have_text("Courrier pris en charge.")
    expect(panel.get_by_test_id("treatment-etat")).to_have_text("En cours")
    expect(page.get_by_test_id("detail-responsable")).to_have_text(team["member"].full_name)
    expect(page.locator("#take-button")).to_have_count(0)
    taken = page.locator("[data-testid=history-item][data-action=taken_in_charge]")
    expect(taken).to_contain_text("Prise en charge")
    expect(taken).to_contain_text("État : À traiter → En cours")

    page.click("#treat-button")
    expect(page.locator("#treat-form")).to_be_visible()
    expect(page.locator("#treat-commentaire")).to_be_focused()
    page.fill("#treat-commentaire", "Subvention accordée, courrier de réponse envoyé.")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "le détail d'un courrier, panneau de traitement ouvert")
    e2e.screenshot(page, "treatment-panel")
    page.click("#treat-confirm")
    expect(page.locator("#document-message")).to_have_text("Courrier traité.")
    expect(page.get_by_test_id("detail-traitement")).to_have_text("Traité")
    expect(page.get_by_test_id("detail-traite-par")).to_contain_text(team["member"].full_name)
    expect(page.get_by_test_id("detail-commentaire")).to_have_text("Subvention accordée, courrier de réponse envoyé.")
    expect(page.get_by_test_id("detail-echeance")).to_have_text(f"Traité — échéance le {echeance}")
    treated = page.locator("[data-testid=history-item][data-action=treated]")
    expect(treated).to_contain_text("Traitement")
    expect(treated).to_contain_text("Commentaire : Subvention accordée")
    expect(page.get_by_test_id("treatment-panel")).to_have_count(0)  # nothing left for an agent to do
    page.click("[data-testid=nav-home]")
    e2e.shown(page, "/accueil")
    expect(page.locator("[data-testid=bannette][data-code=a_traiter] [data-testid=bannette-count]")).to_have_text("0")
    page.goto(f"/#/documents?q={objet}")
    e2e.shown(page, f"/documents?q={objet}")
    expect(page.get_by_test_id("document-echeance")).to_have_text(f"Traité · {echeance}")
    expect(page.get_by_test_id("document-echeance")).to_have_attribute("data-state", "done")

    # A validateur of the service reopens it, with a motif.
    chief = e2e.login(new_page(bypass_csp=True), team["chief"], then=f"/documents/{document['id']}")
    expect(chief.locator("#take-button")).to_have_count(0)
    chief.click("#reopen-button")
    expect(chief.locator("#reopen-motif")).to_be_focused()
    chief.click("#reopen-confirm")
    expect(chief.locator("#reopen-motif-error")).to_contain_text("motif")
    chief.fill("#reopen-motif", "Pièce justificative manquante")
    e2e.assert_accessible(chief, "le détail d'un courrier, réouverture")
    chief.click("#reopen-confirm")
    expect(chief.locator("#document-message")).to_have_text("Courrier rouvert : il est de nouveau à traiter.")
    expect(chief.get_by_test_id("detail-traitement")).to_have_text("À traiter")
    expect(chief.get_by_test_id("detail-traite-par")).to_have_count(0)
    reopened = chief.locator("[data-testid=history-item][data-action=reopened]")
    expect(reopened).to_contain_text("Réouverture")
    expect(reopened).to_contain_text("Motif : Pièce justificative manquante")
    expect(reopened).to_contain_text("État : Traité → À traiter")
    after = api.ok("GET", f"/api/documents/{document['id']}", token=api.token(team["chief"]))["data"]
    assert after["traitement"]["etat"] == "a_traiter"


def test_the_server_has_the_last_word_on_a_treatment_step(new_page, live_server, team, scene, e2e):
    api = live_server.api
    document = api.create_document(api.token(team["clerk"]), objet="Demande de logement")
    scene.validate(document, team["chief"])
    scene.route(document, team["service"])
    page = e2e.login(new_page(), team["member"], then=f"/documents/{document['id']}")
    expect(page.locator("#take-button")).to_be_visible()

    # Someone else takes it in charge meanwhile: the click gets the server's 409 message.
    api.ok("POST", f"/api/documents/{document['id']}/prendre-en-charge", token=api.token(team["chief"]))
    page.click("#take-button")
    expect(page.locator("#treatment-error")).to_contain_text("déjà pris en charge")
    expect(page.locator("#treatment-error")).to_be_visible()


def test_deadline_badges_and_the_silence_sentence(new_page, live_server, team, scene, e2e):
    api = live_server.api
    token = api.token(team["clerk"])
    sva = scene.typologie("SVA", "Autorisation d'occupation", 10, mode="sva")
    short = scene.typologie("URG", "Réponse rapide", 2)
    tag = f"ECH{uuid.uuid4().hex[:8]}"
    late = api.create_document(token, objet=f"{tag} ancienne", date_reception="2026-01-05", typologie_id=sva["id"])
    soon = api.create_document(token, objet=f"{tag} récente", date_reception=paris_today().isoformat(),
                               typologie_id=short["id"])
    assert late["traitement"]["en_retard"] and soon["traitement"]["bientot_en_retard"]

    page = e2e.login(new_page(bypass_csp=True), team["clerk"], then=f"/documents?q={tag}")
    late_badge = page.locator(f"[data-testid=document-row][data-id='{late['id']}'] [data-testid=document-echeance]")
    late_date = datetime.date.fromisoformat(late["traitement"]["echeance"]).strftime("%d/%m/%Y")
    # In the register's column the state word and the date; the header says « Échéance ».
    expect(late_badge).to_have_text(f"⚠ En retard · {late_date}")
    expect(late_badge).to_have_attribute("data-state", "late")
    soon_badge = page.locator(f"[data-testid=document-row][data-id='{soon['id']}'] [data-testid=document-echeance]")
    soon_date = datetime.date.fromisoformat(soon["traitement"]["echeance"]).strftime("%d/%m/%Y")
    expect(soon_badge).to_have_text(f"⏱ Proche · {soon_date}")
    expect(soon_badge).to_have_attribute("data-state", "soon")
    e2e.assert_accessible(page, "le registre avec des échéances en retard et proches")

    page.goto(f"/#/documents/{late['id']}")
    e2e.shown(page, f"/documents/{late['id']}")
    silence = page.get_by_test_id("detail-silence")
    expect(silence).to_contain_text("Silence vaut acceptation")
    expect(silence).to_contain_text("réputée acceptée")
    # On the letter's screen, the full wording.
    expect(page.get_by_test_id("detail-echeance")).to_have_text(f"⚠ En retard — échéance le {late_date}")
    e2e.assert_accessible(page, "le détail d'un courrier en retard, silence vaut acceptation")

    # Once validated and routed, the late letter is in the late queue of the service's members (on a phone).
    scene.validate(late, team["chief"])
    scene.route(late, team["service"])
    phone = e2e.login(new_page(viewport=PHONE, bypass_csp=True), team["member"], then=None)
    late_queue = phone.locator("[data-testid=bannette][data-code=en_retard]")
    expect(late_queue.get_by_test_id("bannette-count")).to_have_text("1")
    e2e.assert_no_horizontal_overflow(phone)
    e2e.assert_accessible(phone, "l'écran d'accueil sur un téléphone")
    late_queue.click()
    e2e.shown(phone, "/documents?bannette=en_retard")
    expect(phone.get_by_test_id("document-row")).to_have_count(1)
    phone.get_by_test_id("document-link").click()
    e2e.shown(phone, f"/documents/{late['id']}")
    expect(phone.get_by_test_id("treatment-panel")).to_be_visible()
    expect(phone.get_by_test_id("detail-silence")).to_be_visible()
    e2e.assert_no_horizontal_overflow(phone)
    e2e.assert_accessible(phone, "le détail d'un courrier sur un téléphone, panneau de traitement")
    e2e.screenshot(phone, "treatment-panel-mobile")


def test_a_queue_is_kept_when_paginating(new_page, live_server, make_account, e2e):
    api = live_server.api
    account = make_account("agent", "Lemoine", "Éva")
    token = api.token(account)
    for number in range(21):
        api.create_document(token, objet=f"Bordereau {number + 1:02d}")
    page = e2e.login(new_page(), account, then=None)
    queue = page.locator("[data-testid=bannette][data-code=mes_enregistrements]")
    expect(queue.get_by_test_id("bannette-count")).to_have_text("21")
    queue.click()
    e2e.shown(page, "/documents?bannette=mes_enregistrements")
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 sur 2 — 21 résultats")
    page.click("[data-testid=page-next]")
    e2e.shown(page, "/documents?bannette=mes_enregistrements&page=2")
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    expect(page.locator("#page-title")).to_have_text("Bannette « Mes enregistrements en cours »")
    expect(page.get_by_test_id("bannette-chip")).to_contain_text("Mes enregistrements en cours")
    page.click("[data-testid=whole-register]")
    e2e.shown(page, "/documents")
    expect(page.locator("#page-title")).to_have_text("Registre du courrier")


def test_the_typologie_of_a_pending_letter_can_be_changed(new_page, live_server, team, scene, e2e):
    api = live_server.api
    first = scene.typologie("ETAT", "État civil", 5)
    second = scene.typologie("URBA", "Urbanisme", 40)
    document = api.create_document(api.token(team["clerk"]), objet="Acte de naissance", typologie_id=first["id"])
    page = e2e.login(new_page(), team["clerk"], then=f"/documents/{document['id']}/edit")
    expect(page.locator("#doc-typologie")).to_have_value(first["id"])
    page.select_option("#doc-typologie", second["id"])
    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_have_text("Modifications enregistrées.")
    expect(page.get_by_test_id("detail-typologie")).to_contain_text(f"{second['code']} — Urbanisme (40 jours ouvrés)")
    updated = page.locator("[data-testid=history-item][data-action=updated]")
    expect(updated).to_contain_text(f"Typologie : {first['code']} — État civil → {second['code']} — Urbanisme")


def test_the_notification_switch_is_saved_on_the_profile(new_page, live_server, make_account, e2e):
    account = make_account("agent", "Robin", "Sarah")
    page = e2e.login(new_page(bypass_csp=True), account, then="/sessions")
    switch = page.get_by_label("Recevoir les notifications par e-mail")
    expect(switch).to_be_checked()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "Mes sessions, avec l'interrupteur des notifications")

    switch.uncheck()
    message = page.get_by_test_id("notifications-message")
    expect(message).to_have_text("Vous ne recevrez plus de notifications par e-mail.")
    expect(switch).not_to_be_checked()
    expect(switch).to_be_enabled()
    api = live_server.api
    assert api.ok("GET", "/api/auth/me", token=api.token(account))["data"]["notifications_email"] is False

    page.reload()
    e2e.shown(page, "/sessions")
    switch = page.get_by_label("Recevoir les notifications par e-mail")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(message).to_have_text("Vous recevrez les notifications par e-mail.")
    page.reload()
    e2e.shown(page, "/sessions")
    expect(page.get_by_label("Recevoir les notifications par e-mail")).to_be_checked()
    assert api.ok("GET", "/api/auth/me", token=api.token(account))["data"]["notifications_email"] is True


def test_the_home_announces_a_letter_on_its_way_and_its_history_names_a_copy(new_page, live_server, team, scene, e2e):
    """A letter routed to the service but not yet validated: its agents see it coming on their home
    (« En attente de validation ») and may open it; a routing that only adds a copy reads as that in its
    history (« Copie ajoutée : … »), without « Service : X → X »."""
    api = live_server.api
    objet = f"VENIR{uuid.uuid4().hex[:8]}"
    letter = api.create_document(api.token(team["clerk"]), objet=objet, service_id=team["service"]["id"])
    copied = scene.service("CPY", "Service en copie")
    body = {"service_id": team["service"]["id"], "copie_service_ids": [copied["id"]]}
    api.ok("POST", f"/api/documents/{letter['id']}/assign", body, api.token(live_server.admin))

    page = e2e.login(new_page(bypass_csp=True), team["member"], then=None)
    e2e.shown(page, "/accueil")
    queue = page.locator("[data-testid=bannette][data-code=a_venir]")
    expect(queue).to_have_accessible_name("En attente de validation : 1 courrier")
    expect(page.locator("#bannette-a_venir-description")).to_contain_text("en attente de validation")
    e2e.assert_accessible(page, "l'accueil avec un courrier en attente de validation")
    queue.click()
    e2e.shown(page, "/documents?bannette=a_venir")
    expect(page.locator("#page-title")).to_have_text("Bannette « En attente de validation »")
    rows = page.get_by_test_id("document-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", letter["id"])

    page.goto(f"{live_server.base_url}/#/documents/{letter['id']}")
    routings = page.locator("[data-testid=history-item][data-action=assigned]")
    expect(routings).to_have_count(2)
    expect(routings.first).to_contain_text(f"Service : aucun → {team['service']['code']}")
    expect(routings.last).to_contain_text(f"Copie ajoutée : {copied['code']}")
    expect(routings.last).not_to_contain_text("Service :")
