"""Services and routing in the browser (issue 12): the services tree, memberships on the users screen,
the routing panel of a letter, the register's service columns and filters, and accessibility (axe-core,
WCAG 2.1 A/AA) of the new screens and of the main existing ones, at desktop and phone widths."""
import os
import shutil
import uuid

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 375, "height": 800}


def unique_code(prefix):
    """A service code no other test of the session uses (codes are at most 20 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}".upper()


@pytest.fixture(scope="module")
def admin_token(live_server):
    return live_server.api.token(live_server.admin)


@pytest.fixture(scope="module")
def services_api(live_server, admin_token):
    """Setting the scene through the API, as the administrateur."""
    api = live_server.api

    class ServicesApi:
        @staticmethod
        def create(prefix, nom, parent=None, **fields):
            body = {"code": unique_code(prefix), "nom": nom, "parent_id": parent["id"] if parent else None, **fields}
            return api.ok("POST", "/api/services", body, admin_token, expected=(201,))["data"]

        @staticmethod
        def patch(service, **changes):
            return api.ok("PATCH", f"/api/services/{service['id']}", changes, admin_token)["data"]

        @staticmethod
        def join(account, *services):
            """Make `account` a member of `services`, the first one primary."""
            body = {"services": [service["id"] for service in services], "primary": services[0]["id"]}
            return api.ok("PUT", f"/api/users/{account.id}/services", body, admin_token)["data"]

        @staticmethod
        def mail_office():
            """The session's one mail office, created the first time it is needed."""
            services = api.ok("GET", "/api/services", token=admin_token)["data"]
            found = next((service for service in services if service["is_mail_office"]), None)
            return found or ServicesApi.create("BC", "Bureau du courrier", is_mail_office=True)

    return ServicesApi


def item(page, code):
    return page.locator(f"[data-testid=service-item][data-code='{code}']")


def service_id(page, code):
    return item(page, code).get_attribute("data-id")


def open_edit(page, code):
    """Open the inline form of a service (its own, not one of its sub-services')."""
    own = item(page, code)
    own.locator(":scope > .service-line [data-testid=service-edit]").click()
    form = own.locator(":scope > [data-testid=service-edit-form]")
    expect(form).to_be_visible()
    return form


def create_in_screen(page, code, nom, parent_code=None):
    page.fill("#service-new-code", code)
    page.fill("#service-new-nom", nom)
    if parent_code:
        page.select_option("#service-new-parent", service_id(page, parent_code))
    page.click("#service-submit")
    expect(page.get_by_test_id("flash")).to_have_text(f"Service {code} créé.")
    expect(item(page, code)).to_be_visible()


def test_an_administrateur_builds_the_services_tree(new_page, live_server, services_api, e2e):
    direction, finance, archives = unique_code("DG"), unique_code("FIN"), unique_code("ARC")
    page = e2e.login(new_page(bypass_csp=True), live_server.admin)
    e2e.open_nav(page, "nav-services")
    e2e.shown(page, "/admin/services")
    e2e.assert_labelled(page)

    create_in_screen(page, direction, "Direction générale")
    create_in_screen(page, finance, "Service des finances", parent_code=direction)
    create_in_screen(page, archives, "Archive")
    expect(page.locator(f"[data-code='{direction}'] [data-code='{finance}']")).to_be_visible()

    # Rename and move ARC under FIN (so under DG).
    form = open_edit(page, archives)
    e2e.assert_accessible(page, "l'écran des services, formulaire de modification ouvert")
    form.get_by_label("Nom").fill("Archives et documentation")
    form.get_by_label("Service parent").select_option(service_id(page, finance))
    form.get_by_test_id("service-save").click()
    expect(page.get_by_test_id("flash")).to_have_text(f"Service {archives} modifié.")
    moved = page.locator(f"[data-code='{direction}'] [data-code='{finance}'] [data-code='{archives}']")
    expect(moved.get_by_test_id("service-nom")).to_have_text("Archives et documentation")

    # DG under ARC would be a cycle: the server's message is shown under the parent field.
    dg_id = service_id(page, direction)
    form = open_edit(page, direction)
    form.get_by_label("Service parent").select_option(service_id(page, archives))
    form.get_by_test_id("service-save").click()
    error = page.locator(f"#service-{dg_id}-parent-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("sous-services")
    expect(page.locator(f"#service-{dg_id}-parent")).to_have_attribute("aria-invalid", "true")
    e2e.assert_accessible(page, "l'écran des services, erreur de cycle affichée")

    # Deactivate ARC, then reactivate it.
    open_edit(page, archives).get_by_test_id("service-toggle-active").click()
    expect(page.get_by_test_id("flash")).to_have_text(f"Service {archives} désactivé.")
    expect(item(page, archives).locator(":scope > .service-line [data-testid=service-inactive-badge]")).to_be_visible()
    open_edit(page, archives).get_by_test_id("service-toggle-active").click()
    expect(item(page, archives).locator(":scope > .service-line [data-testid=service-inactive-badge]")).to_have_count(0)

    # Only one mail office may exist: the session's one gives its role to FIN for a moment.
    office = services_api.mail_office()
    services_api.patch(office, is_mail_office=False)
    try:
        page.reload()
        e2e.shown(page, "/admin/services")
        open_edit(page, finance).get_by_test_id("service-mail-office").click()
        expect(page.get_by_test_id("flash")).to_have_text(f"{finance} est désormais le bureau du courrier.")
        badge = item(page, finance).locator(":scope > .service-line [data-testid=service-mail-office-badge]")
        expect(badge).to_be_visible()

        # A second mail office is refused with the server's message.
        open_edit(page, direction).get_by_test_id("service-mail-office").click()
        expect(page.locator(f"#service-{dg_id}-error")).to_contain_text("déjà le service")
        e2e.screenshot(page, "services")
    finally:
        services_api.patch({"id": service_id(page, finance)}, is_mail_office=False)
        services_api.patch(office, is_mail_office=True)

    e2e.assert_accessible(page, "l'écran des services")


def test_the_services_screen_fits_a_phone(new_page, live_server, services_api, e2e):
    top = services_api.create("TOP", "Direction de l'aménagement du territoire et de l'urbanisme")
    services_api.create("SUB", "Bureau des autorisations d'urbanisme et des déclarations préalables", parent=top)
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), live_server.admin)
    page.goto("/#/admin/services")
    e2e.shown(page, "/admin/services")
    open_edit(page, top["code"])
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "l'écran des services sur un téléphone")
    e2e.screenshot(page, "services-mobile")


def test_an_administrateur_sets_the_services_of_a_user(new_page, live_server, make_account, services_api, e2e):
    first = services_api.create("RH", "Ressources humaines")
    second = services_api.create("PAIE", "Paie", parent=first)
    account = make_account("agent", "Petit", "Noémie")
    page = e2e.login(new_page(bypass_csp=True), live_server.admin)
    page.goto(f"/#/admin/users?q={account.email}")
    row = page.locator(f"[data-testid=user-row][data-email='{account.email}']")
    expect(row.get_by_test_id("user-services")).to_have_text("Aucun")

    row.get_by_test_id("user-services-edit").click()
    form = row.get_by_test_id("memberships-form")
    expect(form).to_be_visible()
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "l'écran des utilisateurs, services en cours de modification")
    form.locator(f"[data-testid=memberships-service][data-code='{first['code']}']").check()
    form.locator(f"[data-testid=memberships-service][data-code='{second['code']}']").check()
    form.get_by_label("Service principal").select_option(second["id"])
    form.get_by_test_id("memberships-save").click()

    expect(page.get_by_test_id("flash")).to_contain_text(f"Services de {account.full_name}")
    services = row.get_by_test_id("user-services")
    expect(services.locator("li").first).to_have_text(f"{second['code']} principal")
    expect(services).to_contain_text(first["code"])
    e2e.screenshot(page, "user-services")
    user = live_server.api.ok("GET", f"/api/users?q={account.email}", token=live_server.api.token(live_server.admin))
    assert {(s["code"], s["primary"]) for s in user["data"][0]["services"]} == {
        (first["code"], False), (second["code"], True)}

    # The member sees their services in the header, primary first.
    member = e2e.login(new_page(), account)
    expect(member.get_by_test_id("current-user-services")).to_have_text(f"{second['code']}, {first['code']}")


@pytest.fixture
def organisation(make_account, services_api):
    """DG above FIN; a mail office clerk, two FIN agents, a DG agent."""
    direction = services_api.create("DG", "Direction générale")
    finance = services_api.create("FIN", "Service des finances", parent=direction)
    office = services_api.mail_office()
    clerk = make_account("agent", "Roux", "Camille")
    treasurer = make_account("agent", "Lambert", "Hugo")
    accountant = make_account("agent", "Fournier", "Inès")
    director = make_account("agent", "Girard", "Paul")
    services_api.join(clerk, office)
    services_api.join(treasurer, finance)
    services_api.join(accountant, finance)
    services_api.join(director, direction)
    return {"direction": direction, "finance": finance, "office": office, "clerk": clerk, "treasurer": treasurer,
            "accountant": accountant, "director": director}


def test_the_mail_office_routes_a_letter_and_the_service_sees_it(new_page, live_server, organisation, e2e):
    org = organisation
    api = live_server.api
    objet = f"FACTEAU{uuid.uuid4().hex[:8]}"  # one word: the fragment keeps it as it is
    document = api.create_document(api.token(org["clerk"]), objet=objet)
    unrouted = api.create_document(api.token(org["clerk"]), objet=f"{objet} (à imputer)")

    page = e2e.login(new_page(bypass_csp=True), org["clerk"])
    page.goto(f"/#/documents/{document['id']}")
    expect(page.get_by_test_id("detail-service")).to_have_text("Non affecté")
    panel = page.get_by_test_id("routing-panel")
    expect(panel).to_be_visible()

    page.select_option("#routing-service", org["finance"]["id"])
    expect(page.locator(f"#routing-responsable option[value='{org['treasurer'].id}']")).to_have_count(1)
    page.select_option("#routing-responsable", org["treasurer"].id)
    panel.locator(f"[data-testid=routing-copy-service][value='{org['direction']['id']}']").check()
    page.select_option("#routing-copy-user-service", org["finance"]["id"])
    expect(page.locator(f"#routing-copy-user-pick option[value='{org['accountant'].id}']")).to_have_count(1)
    page.select_option("#routing-copy-user-pick", org["accountant"].id)
    page.click("#routing-copy-user-add")
    expect(panel.locator(f"[data-testid=routing-copy-user][value='{org['accountant'].id}']")).to_be_checked()
    page.fill("#routing-motif", "Compétence budgétaire")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "le détail d'un courrier, panneau d'imputation rempli")
    page.click("#routing-submit")

    code = org["finance"]["code"]
    expect(page.locator("#document-message")).to_contain_text(f"Courrier imputé au service {code}")
    expect(page.get_by_test_id("detail-service")).to_have_text(f"{code} — Service des finances")
    expect(page.get_by_test_id("detail-responsable")).to_have_text(org["treasurer"].full_name)
    expect(page.get_by_test_id("detail-copies")).to_have_text(
        f"{org['direction']['code']} — Direction générale, {org['accountant'].full_name}")
    entry = page.locator("[data-testid=history-item][data-action=assigned]")
    expect(entry).to_contain_text("Imputation")
    expect(entry).to_contain_text(f"Service : aucun → {code}")
    expect(entry).to_contain_text(f"Responsable : aucun → {org['treasurer'].full_name}")
    expect(entry).to_contain_text("Motif : Compétence budgétaire")
    e2e.screenshot(page, "routing-panel")

    # The treasurer, member of FIN and responsable, finds it in the register with its service.
    member = e2e.login(new_page(), org["treasurer"])
    expect(member.get_by_test_id("current-user-services")).to_have_text(code)
    row = member.locator(f"[data-testid=document-row][data-id='{document['id']}']")
    expect(row.get_by_test_id("document-service")).to_have_text(code)
    expect(row.get_by_test_id("document-service").locator("span")).to_have_attribute("title", "Service des finances")
    expect(row.get_by_test_id("document-responsable")).to_have_text(org["treasurer"].full_name)
    expect(member.locator(f"[data-testid=document-row][data-id='{unrouted['id']}']")).to_have_count(0)
    member.get_by_test_id("document-link").filter(has_text=document["reference"]).click()
    expect(member.locator("[data-testid=history-item][data-action=assigned]")).to_contain_text(f"→ {code}")
    # The responsable may re-route it; a rejected letter never shows the panel (checked below).
    expect(member.get_by_test_id("routing-panel")).to_be_visible()

    # Register filters, in the filter form: DG with its sub-services, then the unrouted letters.
    page.goto(f"/#/documents?q={objet}")
    e2e.shown(page, f"/documents?q={objet}")
    page.select_option("#document-filters-service_id", org["direction"]["id"])
    page.click("#document-filters-submit")
    e2e.shown(page, f"/documents?q={objet}&service_id={org['direction']['id']}")
    expect(page.get_by_test_id("documents-table-empty")).to_be_visible()
    page.check("#document-filters-sous_services")
    page.click("#document-filters-submit")
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    expect(page.get_by_test_id("document-row")).to_have_attribute("data-id", document["id"])
    expect(page.locator("#document-filters-sous_services")).to_be_checked()
    e2e.screenshot(page, "register-by-service")
    page.goto(f"/#/documents?q={objet}&non_affecte=true")
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    expect(page.get_by_test_id("document-row")).to_have_attribute("data-id", unrouted["id"])
    expect(page.locator("#document-filters-non_affecte")).to_be_checked()
    e2e.assert_accessible(page, "le registre filtré")


def test_routing_on_a_phone_and_no_panel_on_a_rejected_letter(
        new_page, live_server, organisation, make_account, e2e):
    org = organisation
    api = live_server.api
    document = api.create_document(api.token(org["clerk"]), objet="Demande de stationnement résidentiel")
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), org["clerk"])
    page.goto(f"/#/documents/{document['id']}")
    expect(page.get_by_test_id("routing-panel")).to_be_visible()
    page.select_option("#routing-service", org["finance"]["id"])
    expect(page.locator(f"#routing-responsable option[value='{org['accountant'].id}']")).to_have_count(1)
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "le panneau d'imputation sur un téléphone")
    e2e.screenshot(page, "routing-panel-mobile")

    # An agent outside the mail office, not responsable: no panel (and the server would say 403).
    outsider_doc = api.create_document(api.token(org["director"]), objet="Note interne")
    other = e2e.login(new_page(), org["director"])
    other.goto(f"/#/documents/{outsider_doc['id']}")
    expect(other.get_by_test_id("detail-reference")).to_have_text(outsider_doc["reference"])
    expect(other.get_by_test_id("routing-panel")).to_have_count(0)

    validateur = make_account("validateur", "Chevalier", "Rose")
    api.ok("POST", f"/api/documents/{document['id']}/reject", {"motif": "Hors compétence"}, api.token(validateur))
    page.reload()
    expect(page.get_by_test_id("detail-statut")).to_have_text("Rejeté")
    expect(page.get_by_test_id("routing-panel")).to_have_count(0)


def test_a_letter_is_registered_with_its_service_and_responsable(new_page, organisation, e2e):
    org = organisation
    page = e2e.login(new_page(bypass_csp=True), org["treasurer"])
    page.click("#new-document-button")
    expect(page.locator("#document-form")).to_be_visible()
    e2e.assert_labelled(page)
    expect(page.locator("#doc-responsable")).to_be_disabled()
    page.get_by_label("Objet").fill("Relance de paiement")
    page.get_by_label("Expéditeur").fill("Trésor public")
    page.get_by_label("Destinataire").fill("Service des finances")
    page.select_option("#doc-service", org["finance"]["id"])
    expect(page.locator(f"#doc-responsable option[value='{org['treasurer'].id}']")).to_have_count(1)
    page.select_option("#doc-responsable", org["treasurer"].id)
    e2e.assert_accessible(page, "le formulaire d'enregistrement avec service")
    page.click("#document-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Courrier enregistré")
    expect(page.get_by_test_id("detail-service")).to_contain_text(org["finance"]["code"])
    expect(page.get_by_test_id("detail-responsable")).to_have_text(org["treasurer"].full_name)


def test_the_main_screens_have_no_wcag_violation(new_page, live_server, agent_user, e2e):
    api = live_server.api
    document = api.create_document(api.token(live_server.admin), objet="Accessibilité du registre")
    page = new_page(bypass_csp=True)
    page.goto("/#/login")
    e2e.shown(page, "/login")
    e2e.assert_accessible(page, "l'écran de connexion")
    page.goto("/#/register")
    e2e.shown(page, "/register")
    e2e.assert_accessible(page, "l'écran d'inscription")

    e2e.login(page, live_server.admin)
    screens = [
        ("/documents", "le registre"),
        (f"/documents/{document['id']}", "le détail d'un courrier"),
        ("/documents/new", "le formulaire d'enregistrement"),
        ("/sessions", "Mes sessions"),
        ("/admin/users", "les utilisateurs"),
        ("/admin/services", "les services"),
        ("/admin/connections", "l'historique des connexions"),
        ("/admin/events", "le journal d'audit"),
    ]
    for route, what in screens:
        page.goto(f"/#{route}")
        e2e.shown(page, route)
        e2e.assert_accessible(page, what)
