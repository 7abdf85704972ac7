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
