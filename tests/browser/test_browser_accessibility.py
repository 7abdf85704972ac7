"""The accessibility statement (#/accessibilite, RGAA) and the browser tab's title of each screen (issue 16)."""
import os
import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 390, "height": 844}
SECTIONS = ["État de conformité", "Résultats des tests", "Contenus non accessibles",
            "Établissement de cette déclaration", "Retour d'information et contact", "Voies de recours"]


def open_statement_from_the_footer(page, e2e):
    link = page.get_by_test_id("footer-accessibility")
    expect(link).to_have_text("Accessibilité : partiellement conforme")
    link.click()
    e2e.shown(page, "/accessibilite")
    expect(page).to_have_title("Accessibilité — courrier")


def test_the_statement_is_reachable_from_the_login_screen_and_follows_the_rgaa_model(new_page, live_server, e2e):
    page = new_page(bypass_csp=True)
    page.goto("/#/login")
    e2e.shown(page, "/login")
    expect(page).to_have_title("Connexion — courrier")
    open_statement_from_the_footer(page, e2e)

    statement = page.get_by_test_id("accessibility-page")
    expect(page.locator("#page-title")).to_have_text("Déclaration d'accessibilité")
    expect(statement.locator("h2")).to_have_text(SECTIONS)
    expect(page.get_by_test_id("compliance-state")).to_contain_text("partiellement conforme")
    expect(statement).to_contain_text("WCAG 2.1")
    recourse = page.get_by_test_id("defenseur-des-droits")
    for text in ("formulaire en ligne", "délégué du Défenseur des droits", "09 69 39 00 00", "Libre réponse 71120",
                 "75342 Paris CEDEX 07"):
        expect(recourse).to_contain_text(text)
    _, payload, _ = live_server.api.call("GET", "/api/accessibilite")
    contact = page.get_by_test_id("accessibility-contact")
    expect(contact).to_have_text(payload["data"]["contact"])
    expect(contact).to_have_attribute("href", payload["data"]["contact_url"])
    e2e.assert_accessible(page, "la déclaration d'accessibilité")
    e2e.screenshot(page, "accessibilite")

    page.go_back()
    e2e.shown(page, "/login")  # a signed-out visitor goes back to the login screen, not elsewhere


def test_the_statement_fits_a_phone(new_page, e2e):
    page = new_page(viewport=PHONE, bypass_csp=True)
    page.goto("/#/accessibilite")
    e2e.shown(page, "/accessibilite")
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "la déclaration d'accessibilité sur un téléphone")


def test_each_screen_names_itself_in_the_title_and_links_to_the_statement(new_page, make_account, e2e):
    account = make_account("agent", "Lemoine", "Inès")
    page = e2e.login(new_page(bypass_csp=True), account, then=None)
    expect(page).to_have_title("Accueil — courrier")
    for nav, route, title in [("nav-documents", "/documents", "Registre — courrier"),
                              ("nav-contacts", "/contacts", "Correspondants — courrier"),
                              ("nav-sessions", "/sessions", "Mes sessions — courrier")]:
        e2e.open_nav(page, nav)
        e2e.shown(page, route)
        expect(page).to_have_title(title)
    page.goto("/#/documents/new")
    e2e.shown(page, "/documents/new")
    expect(page).to_have_title("Enregistrer un courrier — courrier")

    open_statement_from_the_footer(page, e2e)
    expect(page.locator("#current-user")).to_be_visible()  # signed in, the header stays
    e2e.assert_accessible(page, "la déclaration d'accessibilité (connecté)")
    page.click("[data-testid=nav-home]")
    e2e.shown(page, "/accueil")
    expect(page).to_have_title("Accueil — courrier")
