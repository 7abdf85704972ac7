"""« Mes sessions » (devices, revocation, password) and the administrateur's screens."""
import os
import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def test_sessions_lists_devices_and_revokes_another_one(new_page, make_account, live_server, e2e):
    account = make_account("agent", "Moreau", "Jules")
    api = live_server.api
    other_device = api.login(account, user_agent=ANDROID_FIREFOX)
    page = e2e.login(new_page(), account)

    e2e.open_nav(page, "nav-sessions")
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("current-session")).to_have_count(1)
    expect(page.locator("[data-testid=session-row].row-current")).to_contain_text("Chrome sur Linux")
    expect(page.locator("[data-testid=session-row]:not(.row-current)")).to_contain_text("Firefox sur Android")
    e2e.assert_labelled(page)
    e2e.screenshot(page, "sessions")

    page.locator("[data-testid=session-row]:not(.row-current) [data-testid=revoke-session]").click()
    expect(rows).to_have_count(1)
    status, payload, _ = api.call("GET", "/api/auth/me", token=other_device["access_token"])
    assert (status, payload["code"]) == (401, "token_revoked")

    # Ended sessions too: the one just revoked and the one closed after registration (see make_account).
    page.get_by_label("Afficher aussi les sessions terminées").check()
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Révoquée le")).to_have_count(2)
    expect(page.get_by_test_id("revoke-session")).to_have_count(1)


def test_changing_the_password_keeps_this_session_and_closes_the_others(new_page, make_account, live_server, e2e):
    account = make_account("agent", "Garcia", "Léa")
    api = live_server.api
    other_device = api.login(account)
    page = e2e.login(new_page(), account)
    e2e.open_nav(page, "nav-sessions")
    # The hint states the caller's own rule, as the server applies it.
    expect(page.locator("#password-new-hint")).to_have_text(
        "Au moins 12 caractères (72 octets au plus), difficile à deviner.")

    new_password = e2e.strong_password()
    page.fill("#password-current", "pas-le-bon")
    page.fill("#password-new", new_password)
    page.fill("#password-confirmation", new_password)
    page.click("#password-submit")
    expect(page.locator("#password-current-error")).to_be_visible()
    expect(page.get_by_test_id("sessions-page")).to_be_visible()

    page.fill("#password-current", account.password)
    page.fill("#password-new", new_password)
    page.fill("#password-confirmation", new_password)
    page.click("#password-submit")
    expect(page.locator("#password-message")).to_contain_text("Mot de passe modifié")
    status, _, _ = api.call("GET", "/api/auth/me", token=other_device["access_token"])
    assert status == 401

    account.password = new_password
    page.click("[data-testid=nav-documents]")
    expect(page.get_by_test_id("documents-page")).to_be_visible()


def test_logout_everywhere_closes_every_session(new_page, make_account, live_server, e2e):
    account = make_account("agent", "Roux", "Hugo")
    api = live_server.api
    other_device = api.login(account)
    page = e2e.login(new_page(), account)
    e2e.open_nav(page, "nav-sessions")
    page.click("#logout-all-button")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_contain_text("Toutes vos sessions ont été fermées")
    assert page.evaluate("() => localStorage.length") == 0
    status, _, _ = api.call("GET", "/api/auth/me", token=other_device["access_token"])
    assert status == 401


def user_row(page, account):
    return page.locator(f"[data-testid=user-row][data-email='{account.email}']")


def test_an_administrateur_creates_users_and_changes_roles_and_status(new_page, make_account, live_server, e2e):
    admin = live_server.admin
    page = e2e.login(new_page(), admin)
    e2e.open_nav(page, "nav-users")
    expect(page.get_by_test_id("users-page")).to_be_visible()

    # A duplicate address comes back as a field error.
    page.fill("#user-nom", "Doublon")
    page.fill("#user-prenom", "Test")
    page.fill("#user-email", admin.email)
    password = e2e.strong_password()
    page.fill("#user-password", password)
    page.fill("#user-password-confirmation", password)
    page.click("#user-submit")
    expect(page.locator("#user-email-error")).to_be_visible()

    email = f"nadia.{os.urandom(4).hex()}@example.com"
    page.fill("#user-nom", "Benali")
    page.fill("#user-prenom", "Nadia")
    page.fill("#user-email", email)
    page.select_option("#user-role", "validateur")
    page.click("#user-submit")
    expect(page.get_by_test_id("flash")).to_contain_text("Nadia Benali créé avec le rôle « Validateur »")
    page.fill("#user-filters-q", email)
    page.click("#user-filters-submit")
    created = page.locator(f"[data-testid=user-row][data-email='{email}']")
    expect(created.get_by_test_id("user-role-select")).to_have_value("validateur")

    member = make_account("agent", "Fontaine", "Marc")
    page.goto(f"/#/admin/users?q={member.email}")
    row = user_row(page, member)
    row.get_by_test_id("user-role-select").select_option("validateur")
    row.get_by_test_id("user-role-save").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Marc Fontaine est maintenant validateur")
    expect(user_row(page, member).get_by_test_id("user-role-select")).to_have_value("validateur")

    member_token = live_server.api.token(member)
    user_row(page, member).get_by_test_id("user-toggle-active").click()
    expect(page.get_by_test_id("flash")).to_contain_text("désactivé")
    expect(user_row(page, member)).to_contain_text("Désactivé")
    status, _, _ = live_server.api.call("GET", "/api/auth/me", token=member_token)
    assert status == 401

    user_row(page, member).get_by_test_id("user-toggle-active").click()
    expect(page.get_by_test_id("flash")).to_contain_text("réactivé")
    expect(user_row(page, member)).to_contain_text("Actif")

    # The administrateur cannot demote or deactivate themself from the screen.
    page.goto(f"/#/admin/users?q={admin.email}")
    own = page.locator(f"[data-testid=user-row][data-id='{admin.id}']")
    expect(own.get_by_test_id("user-role-select")).to_be_disabled()
    expect(own.get_by_test_id("user-toggle-active")).to_have_count(0)

    page.click("#user-filters-reset")
    e2e.shown(page, "/admin/users")
    e2e.assert_labelled(page)
    e2e.screenshot(page, "admin-users")


def test_an_administrateur_reads_the_connection_history(new_page, make_account, live_server, e2e):
    member = make_account("agent", "Blanc", "Emma")
    live_server.api.login(member)
    page = e2e.login(new_page(), live_server.admin)
    e2e.open_nav(page, "nav-connections")
    expect(page.get_by_test_id("connection-row").first).to_be_visible()

    page.fill("#connection-filters-email", member.email)
    page.click("#connection-filters-submit")
    e2e.shown(page, f"/admin/connections?email={member.email.replace('@', '%40')}")
    rows = page.get_by_test_id("connection-row")
    # The session just opened, and the one closed after registration (see make_account).
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Emma Blanc")).to_have_count(2)
    expect(rows.filter(has_text="Active")).to_have_count(1)
    page.click("#connection-filters-reset")
    e2e.shown(page, "/admin/connections")
    e2e.assert_labelled(page)
    e2e.screenshot(page, "admin-connections")

    e2e.open_nav(page, "nav-events")
    expect(page.get_by_test_id("event-row").first).to_be_visible()
    page.select_option("#event-filters-type", "login_succeeded")
    page.click("#event-filters-submit")
    e2e.shown(page, "/admin/events?type=login_succeeded")
    rows = page.get_by_test_id("event-row")
    expect(rows.first).to_contain_text("Connexion réussie")
    assert rows.count() == rows.filter(has_text="Connexion réussie").count()
    e2e.assert_labelled(page)
    e2e.screenshot(page, "admin-events")


def test_names_that_look_like_markup_stay_text_in_the_admin_screens(new_page, make_account, live_server, e2e):
    hostile = make_account("agent", "<img src=x onerror=alert('nom')>", "<script>alert(1)</script>")
    live_server.api.login(hostile)
    page = e2e.login(new_page(), live_server.admin)
    page.goto(f"/#/admin/users?q={hostile.email}")
    expect(user_row(page, hostile).get_by_test_id("user-name")).to_have_text(hostile.full_name)
    page.goto("/#/admin/connections")
    expect(page.get_by_test_id("connection-row").first).to_be_visible()
    assert page.locator("main img, main script").count() == 0
    assert page.watch.dialogs == []


# ------------------------------------------------------------------ the users' table on a laptop, the journal in words

LAPTOP = {"width": 1366, "height": 768}
# The words of the element (its text nodes, form controls' labels included) drawn over two lines.
BROKEN_WORDS = """(root) => {
    const broken = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement.offsetParent) continue;  // not drawn (hidden, a closed dialog)
        for (const match of node.textContent.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
            if (tops.size > 1) broken.push(match[0]);
        }
    }
    return broken;
}"""


def words(locator):
    """The text a person reads in `locator`, spaces normalised."""
    return " ".join(locator.inner_text().split())


def sideways(page):
    return page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
        .filter((wrap) => wrap.scrollWidth > wrap.clientWidth).map((wrap) => wrap.scrollWidth)""")


def test_the_users_table_fits_a_laptop_and_never_breaks_a_word(new_page, make_account, live_server, e2e):
    api, token = live_server.api, live_server.api.token(live_server.admin)
    suffix = os.urandom(2).hex().upper()
    names = (("DG", "Direction générale"), ("DFCP", "Direction des finances et de la commande publique"),
             ("URBA", "Urbanisme"))
    services = [api.ok("POST", "/api/services", {"code": f"{code}{suffix}", "nom": nom}, token)["data"]
                for code, nom in names]
    anne = make_account("validateur", "Durand", "Anne")
    api.ok("PUT", f"/api/users/{anne.id}/services", {"services": [s["id"] for s in services]}, token)
    page = e2e.login(new_page(viewport=LAPTOP, bypass_csp=True), live_server.admin, then="/admin/users")
    row = user_row(page, anne)
    expect(row.get_by_label("Rôle d'Anne Durand")).to_have_value("validateur")  # « d'Anne », not « de Anne »
    assert sideways(page) == []
    assert page.evaluate(BROKEN_WORDS, page.get_by_test_id("users-table").element_handle()) == []
    for testid in ("user-toggle-active", "user-revoke-sessions", "user-services-edit"):
        expect(row.get_by_test_id(testid)).to_be_in_viewport()

    # The services are edited in a dialog, where the names have the room to keep their words whole.
    edit = row.get_by_test_id("user-services-edit")
    edit.click()
    dialog = page.get_by_role("dialog", name="Services d'Anne Durand")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(f"DFCP{suffix} — Direction des finances et de la commande publique")).to_be_checked()
    assert page.evaluate(BROKEN_WORDS, dialog.element_handle()) == []
    e2e.assert_accessible(page, "services d'un utilisateur (dialogue)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(edit).to_be_focused()

    # The new-user form states the server's rule for the role chosen.
    hint = page.locator("#user-password-hint")
    expect(hint).to_contain_text("Au moins 12 caractères pour un compte agent")
    page.select_option("#user-role", "administrateur")
    expect(hint).to_contain_text("Au moins 16 caractères pour un compte administrateur")
    e2e.screenshot(page, "admin-users-laptop")


def test_the_journal_reads_in_french_with_names_instead_of_ids(new_page, make_account, live_server, e2e):
    api, token = live_server.api, live_server.api.token(live_server.admin)
    suffix = os.urandom(2).hex().upper()
    first, second = (api.ok("POST", "/api/services", {"code": f"{code}{suffix}", "nom": nom}, token)["data"]
                     for code, nom in (("URBA", "Urbanisme"), ("FIN", "Finances")))
    letter = api.create_document(token)
    api.ok("POST", f"/api/documents/{letter['id']}/assign", {"service_id": first["id"]}, token)
    api.ok("POST", f"/api/documents/{letter['id']}/assign", {"service_id": second["id"]}, token)
    member = make_account("validateur", "Roux", "Inès")
    api.ok("PATCH", f"/api/users/{member.id}", {"role": "agent"}, token)
    status, _, _ = api.call("GET", "/api/registre?type=entrant&date_from=2026-01-01&date_to=2026-12-31", token=token)
    assert status == 200

    page = e2e.login(new_page(viewport=LAPTOP, bypass_csp=True), live_server.admin, then="/admin/events")
    options = page.locator("#event-filters-type option")
    expect(options.filter(has_text="Double authentification activée")).to_have_count(1)
    expect(options.filter(has_text="Code de secours utilisé")).to_have_count(1)
    rows = page.get_by_test_id("event-row")
    routed = rows.filter(has=page.locator(f"a[href='#/documents/{letter['id']}']")).first
    expect(routed).to_contain_text("Courrier imputé")
    assert f"Service : de URBA{suffix} à FIN{suffix}" in words(routed.get_by_test_id("event-summary"))
    changed = rows.filter(has_text="Utilisateur modifié").filter(has_text="Inès Roux").first
    assert "Rôle : validateur → agent" in words(changed.get_by_test_id("event-summary"))
    exported = rows.filter(has_text="Registre exporté").first
    assert "Période : du 01/01/2026 au 31/12/2026" in words(exported.get_by_test_id("event-summary"))
    text = page.get_by_test_id("events-table").inner_text()
    for raw in ("date_from", "rows", "login_succeeded", "document_id", '{"', letter["id"]):
        assert raw not in text, raw
    assert sideways(page) == []
    e2e.assert_accessible(page, "journal d'audit")
    e2e.screenshot(page, "admin-events-laptop")


@pytest.fixture(scope="module")
def first_login_server(tmp_path_factory):
    """A server as deployed by default: a password an administrateur sets must be changed at first login."""
    from tests.browser.conftest import serving

    with serving(tmp_path_factory.mktemp("e2e-first-login"), PASSWORD_CHANGE_ON_FIRST_LOGIN="true") as server:
        yield server


def test_a_user_created_by_an_administrateur_chooses_a_password_at_first_login(first_login_server, browser, e2e):
    from tests.browser.conftest import PageWatch

    server, watch, contexts = first_login_server, PageWatch(), []

    def open_page():
        context = browser.new_context(base_url=server.base_url, locale="fr-FR", viewport=LAPTOP, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        return page

    try:
        page = e2e.login(open_page(), server.admin, then="/admin/users")
        email, password = f"lea.{os.urandom(4).hex()}@example.com", e2e.strong_password()
        for selector, value in (("#user-nom", "Girard"), ("#user-prenom", "Léa"), ("#user-email", email),
                                ("#user-password", password), ("#user-password-confirmation", password)):
            page.fill(selector, value)
        page.click("#user-submit")
        expect(page.get_by_test_id("flash")).to_contain_text("Léa Girard créé")

        newcomer = open_page()
        newcomer.goto("/#/login")
        newcomer.fill("#login-email", email)
        newcomer.fill("#login-password", password)
        newcomer.click("#login-submit")
        e2e.shown(newcomer, "/securite")  # the password-change screen, nothing else
        expect(newcomer.get_by_test_id("restriction-banner")).to_contain_text("fixé par un administrateur")
        expect(newcomer.get_by_role("navigation", name="Navigation principale")).to_have_count(0)
        e2e.assert_accessible(newcomer, "changement du mot de passe à la première connexion")
        e2e.screenshot(newcomer, "first-login-password")
        chosen = e2e.strong_password()
        newcomer.fill("#password-current", password)
        newcomer.fill("#password-new", chosen)
        newcomer.fill("#password-confirmation", chosen)
        newcomer.click("#password-submit")
        newcomer.wait_for_selector("[data-testid=home-page]")
        expect(newcomer.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
    assert not watch.errors and not watch.csp_violations and not watch.dialogs
