"""The shell fits a working day: on a laptop (1366×768) the header holds on one line and no screen, nor
any of its tables, scrolls sideways; on a phone (390×844) the menu hides behind « Menu » and the register
shows its first letter on the first screen. The menus are disclosures a keyboard opens and closes."""
import os
import shutil
import uuid

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HEADER_MAX = 80  # px: one line of menu (the faulty header measured 180 on a laptop)
LONG_NAME = "Association départementale des riverains du boulevard Jean-Baptiste Poquelin"
SCREENS = ["/accueil", "/documents", "/contacts", "/sessions", "/historique", "/securite", "/admin/users",
           "/admin/services", "/admin/typologies", "/admin/connections", "/admin/events", "/admin/jobs"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


@pytest.fixture(scope="module")
def scene(live_server, make_account):
    """Long names everywhere a table shows them: services, a responsable, typologies, correspondents, letters."""
    api = live_server.api
    token = api.token(live_server.admin)
    parent = api.ok("POST", "/api/services", {"code": unique("DGS"), "nom": "Direction générale des services"},
                    token, expected=(201,))["data"]
    service = api.ok("POST", "/api/services", {"code": unique("DFCP"), "parent_id": parent["id"],
                                               "nom": "Direction des finances et de la commande publique",
                                               "email": "finances.commande-publique@agglomeration.example.org"},
                     token, expected=(201,))["data"]
    chief = make_account("validateur", "Delacroix-Montgolfier", "Marie-Christine")
    api.ok("PUT", f"/api/users/{chief.id}/services", {"services": [service["id"]], "primary": service["id"]}, token)
    api.ok("POST", "/api/typologies", {"code": unique("SUBV"), "nom": "Demande de subvention de fonctionnement",
                                       "delai_jours": 30, "mode": "sva"}, token, expected=(201,))
    api.ok("POST", "/api/contacts?force=true", {"type": "organisation", "organisation": LONG_NAME,
                                                "email": "secretariat.general@riverains-poquelin.example.org"},
           token, expected=(201,))
    letters = [api.create_document(token, objet=f"Demande de subvention pour la fête de quartier {number}",
                                   expediteur=LONG_NAME, destinataire="Direction générale des services",
                                   priorite="urgente" if number == 0 else "normale") for number in range(3)]
    api.ok("POST", f"/api/documents/{letters[0]['id']}/assign",
           {"service_id": service["id"], "responsable_id": chief.id}, token)
    return {"letter": letters[0]}


def visit(page, e2e, route):
    page.goto(f"/#{route}")
    e2e.shown(page, route)


def header_height(page):
    return page.locator("#app-header").bounding_box()["height"]


def too_wide(page):
    """What scrolls sideways: the page, or a table inside its frame (which scrolls rather than widen the page)."""
    return page.evaluate("""() => {
        const root = document.documentElement;
        const page = root.scrollWidth > window.innerWidth ? [`la page : ${root.scrollWidth}px`] : [];
        return page.concat([...document.querySelectorAll('.table-wrap')]
            .filter((wrap) => wrap.scrollWidth > wrap.clientWidth)
            .map((wrap) => `${wrap.querySelector('table')?.dataset.testid} : `
                           + `${wrap.scrollWidth}px pour ${wrap.clientWidth}px`));
    }""")


def test_on_a_laptop_the_header_holds_on_one_line_and_no_screen_scrolls_sideways(new_page, live_server, scene, e2e):
    page = e2e.login(new_page(viewport=LAPTOP), live_server.admin, then=None)
    faults = {}
    for route in [*SCREENS, f"/documents/{scene['letter']['id']}"]:
        visit(page, e2e, route)
        height = header_height(page)
        faults[route] = too_wide(page) + ([f"en-tête de {height}px"] if height > HEADER_MAX else [])
    assert {route: found for route, found in faults.items() if found} == {}
    expect(page.get_by_test_id("menu-button")).to_be_hidden()  # the menu's row is on screen, no « Menu »
    expect(page.get_by_test_id("nav-documents")).to_be_visible()

    visit(page, e2e, "/documents")
    expect(page.get_by_test_id("document-filters-fold")).to_have_attribute("open", "")  # room enough: unfolded
    row = page.locator(f"[data-testid=document-row][data-id='{scene['letter']['id']}']")
    for testid in ("document-link", "document-objet", "document-echeance", "document-service", "document-responsable"):
        expect(row.get_by_test_id(testid)).to_be_visible()
    expect(row.get_by_test_id("document-responsable")).to_have_text("Marie-Christine Delacroix-Montgolfier")
    e2e.screenshot(page, "documents-laptop")


def test_on_a_phone_the_menu_folds_and_the_register_shows_a_letter_first(new_page, live_server, scene, e2e):
    page = e2e.login(new_page(viewport=PHONE), live_server.admin, then=None)
    faults = {}
    for route in [*SCREENS, f"/documents/{scene['letter']['id']}"]:
        visit(page, e2e, route)
        faults[route] = too_wide(page)
    assert {route: found for route, found in faults.items() if found} == {}
    expect(page.get_by_test_id("nav-documents")).to_be_hidden()
    assert header_height(page) <= 72, f"en-tête de {header_height(page)}px sur un téléphone"

    visit(page, e2e, "/documents?priorite=urgente&type=entrant")
    fold = page.get_by_test_id("document-filters-fold")
    expect(fold).not_to_have_attribute("open", "")
    expect(page.get_by_test_id("document-filters-summary")).to_have_text("Filtres (2 actifs)")
    first = page.get_by_test_id("document-link").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], f"première ligne hors de l'écran : {box}"
    e2e.screenshot(page, "documents-phone")

    page.get_by_test_id("document-filters-summary").click()  # unfolded, the filters keep their values
    expect(page.locator("#document-filters-priorite")).to_have_value("urgente")


def test_the_menus_are_disclosures_a_keyboard_drives(new_page, live_server, e2e):
    """Enter opens, the links follow in the tab order, Escape closes the innermost menu and gives the focus
    back to its button; following a link closes the menus. axe-core checks the open menus."""
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), live_server.admin, then=None)
    menu = page.get_by_test_id("menu-button")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "site-menu")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-home")).to_be_focused()

    admin = page.get_by_test_id("admin-menu-button")
    admin.focus()
    page.keyboard.press("Enter")
    expect(admin).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-users")).to_be_focused()
    e2e.assert_accessible(page, "le menu ouvert sur un téléphone")
    page.keyboard.press("Escape")
    expect(admin).to_have_attribute("aria-expanded", "false")
    expect(admin).to_be_focused()
    expect(page.get_by_test_id("nav-users")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(page.get_by_test_id("nav-home")).to_be_hidden()

    e2e.open_nav(page, "nav-history")  # « Menu », then the account menu, then the link
    e2e.shown(page, "/historique")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("nav-history")).to_be_hidden()

    page.set_viewport_size(LAPTOP)
    account = page.get_by_test_id("account-menu-button")
    expect(account).to_contain_text("Root Admin")
    account.focus()
    page.keyboard.press("Space")
    expect(account).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-sessions")).to_be_focused()
    expect(page.get_by_test_id("logout-button")).to_be_visible()
    e2e.assert_accessible(page, "le menu du compte ouvert")
    page.get_by_test_id("admin-menu-button").click()  # opening another menu closes this one
    expect(account).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("nav-events")).to_be_visible()
    e2e.assert_accessible(page, "le menu Administration ouvert")
    page.locator(".app-footer span").click()  # a click elsewhere closes it
    expect(page.get_by_test_id("admin-menu-button")).to_have_attribute("aria-expanded", "false")


def test_each_user_sees_the_groups_meant_for_them(new_page, live_server, make_account, e2e):
    """Administration for administrateurs only; Pilotage when /me lists the « piloter » action."""
    agent = make_account("agent", "Roux", "Lucien")
    for account, is_admin in ((agent, False), (live_server.admin, True)):
        me = live_server.api.ok("GET", "/api/auth/me", token=live_server.api.token(account))["data"]
        page = e2e.login(new_page(viewport=LAPTOP), account, then=None)
        expect(page.get_by_test_id("admin-menu-button")).to_have_count(1 if is_admin else 0)
        expect(page.get_by_test_id("nav-users")).to_have_count(1 if is_admin else 0)
        expect(page.get_by_test_id("nav-pilotage")).to_have_count(1 if "piloter" in me.get("actions", []) else 0)
        expect(page.get_by_test_id("nav-sessions")).to_have_count(1)
