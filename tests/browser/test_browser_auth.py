"""Login, registration, logout and the token lifecycle, seen from the browser."""
import json
import os
import re
import shutil
import time

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]


def test_login_with_a_wrong_password_shows_the_server_message(new_page, agent_user, e2e):
    page = new_page()
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/login$"))
    e2e.assert_labelled(page)
    e2e.screenshot(page, "login")

    page.fill("#login-email", agent_user.email)
    page.fill("#login-password", "pas-le-bon-mot-de-passe")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("incorrect")
    expect(page.locator("#login-password")).to_have_value("")
    assert e2e.stored_tokens(page) == [None, None]


def test_login_opens_the_home_screen_and_stores_both_tokens(new_page, agent_user, e2e):
    page = e2e.login(new_page(), agent_user, then=None)
    e2e.shown(page, "/accueil")
    expect(page.get_by_test_id("bannettes")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text(agent_user.full_name)
    expect(page.get_by_test_id("current-user")).to_contain_text("Agent")
    access, refresh = e2e.stored_tokens(page)
    assert access and refresh and access != refresh


def test_registration_shows_field_errors_next_to_fields_then_creates_an_agent(new_page, e2e):
    page = new_page()
    page.goto("/#/login")
    page.click("#register-link")
    expect(page.locator("#register-form")).to_be_visible()
    expect(page.locator("#register-password-hint")).to_contain_text(
        "Au moins 12 caractères (72 octets au plus), difficile")
    e2e.assert_labelled(page)

    page.fill("#register-nom", "Lefèvre")
    page.fill("#register-prenom", "Inès")
    page.fill("#register-email", "pas-une-adresse")
    page.fill("#register-password", "Quai-Brume-Tournesol-71")
    page.fill("#register-password-confirmation", "Quai-Brume-Tournesol-71")
    page.click("#register-submit")
    expect(page.locator("#register-email-error")).to_be_visible()
    expect(page.locator("#register-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#register-nom-error")).to_be_hidden()

    email = f"ines.lefevre.{int(time.time() * 1000)}@example.com"
    page.fill("#register-email", email)
    page.fill("#register-password", "azertyui")
    page.fill("#register-password-confirmation", "autre-chose")
    page.click("#register-submit")
    expect(page.locator("#register-password-error")).to_be_visible()
    expect(page.locator("#register-password-confirmation-error")).to_be_visible()
    expect(page.locator("#register-email-error")).to_be_hidden()
    e2e.screenshot(page, "register")

    page.fill("#register-password", "Quai-Brume-Tournesol-71")
    page.fill("#register-password-confirmation", "Quai-Brume-Tournesol-71")
    page.click("#register-submit")
    expect(page.get_by_test_id("home-page")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("Inès Lefèvre")
    assert all(e2e.stored_tokens(page))


def test_logout_revokes_the_session_and_clears_local_storage(new_page, agent_user, live_server, e2e):
    page = e2e.login(new_page(), agent_user)
    access, _ = e2e.stored_tokens(page)
    e2e.open_nav(page, "logout-button")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_contain_text("déconnecté")
    assert page.evaluate("() => localStorage.length") == 0

    status, payload, _ = live_server.api.call("GET", "/api/auth/me", token=access)
    assert (status, payload["code"]) == (401, "token_revoked")


def test_a_session_revoked_elsewhere_sends_the_page_back_to_login(new_page, make_account, live_server, e2e):
    account = make_account("agent")
    page = e2e.login(new_page(), account)

    api = live_server.api
    api.ok("POST", "/api/auth/logout-all", token=api.token(account))

    e2e.open_nav(page, "nav-sessions")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_contain_text("session a été fermée")
    assert e2e.stored_tokens(page) == [None, None]

    # Logging in again returns to the screen the user was going to.
    page.fill("#login-email", account.email)
    page.fill("#login-password", account.password)
    page.click("#login-submit")
    expect(page.get_by_test_id("sessions-page")).to_be_visible()


def expire_first(page, pattern):
    """Answer the first request matching `pattern` with 401 token_expired, as the server would."""
    state = {"done": False}

    def handler(route):
        if state["done"]:
            route.continue_()
            return
        state["done"] = True
        route.fulfill(status=401, content_type="application/json",
                      body=json.dumps({"success": False, "code": "token_expired", "message": "Jeton expiré."}))

    page.route(pattern, handler)


def test_an_expired_access_token_is_refreshed_once_and_the_request_retried(new_page, make_account, e2e):
    page = e2e.login(new_page(), make_account("agent"))
    before = e2e.stored_tokens(page)
    refreshes = []
    page.on("request", lambda request: refreshes.append(request) if request.url.endswith("/api/auth/refresh") else None)
    expire_first(page, "**/api/auth/sessions?*")

    e2e.open_nav(page, "nav-sessions")
    expect(page.get_by_test_id("sessions-page")).to_be_visible()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    after = e2e.stored_tokens(page)
    assert after[0] != before[0] and after[1] != before[1], "both tokens are replaced (rotation)"
    assert len(refreshes) == 1
    assert refreshes[0].headers["authorization"] == f"Bearer {before[1]}"


def test_a_really_expired_token_is_renewed_with_the_server(new_page, make_account, live_server, e2e):
    """A token whose `exp` has passed (signed like the server's) is traded for a new pair."""
    import jwt

    page = e2e.login(new_page(), make_account("agent"))
    access, refresh = e2e.stored_tokens(page)
    claims = jwt.decode(access, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 3600, nbf=now - 3600, exp=now - 1800)
    expired = jwt.encode(claims, live_server.jwt_secret, algorithm="HS256")
    status, payload, _ = live_server.api.call("GET", "/api/auth/me", token=expired)
    assert (status, payload["code"]) == (401, "token_expired")

    page.evaluate("token => localStorage.setItem('courrier.access_token', token)", expired)
    e2e.open_nav(page, "nav-sessions")
    expect(page.get_by_test_id("sessions-page")).to_be_visible()
    new_access, new_refresh = e2e.stored_tokens(page)
    assert new_access not in (access, expired) and new_refresh != refresh


def test_a_failed_refresh_clears_the_tokens_and_goes_to_login(new_page, make_account, e2e):
    page = e2e.login(new_page(), make_account("agent"))
    page.evaluate("() => localStorage.setItem('courrier.refresh_token', 'pas.un.jeton')")
    expire_first(page, "**/api/auth/sessions?*")

    e2e.open_nav(page, "nav-sessions")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_contain_text("expiré")
    assert page.evaluate("() => localStorage.length") == 0


def test_an_agent_has_no_admin_menu_and_cannot_open_admin_screens(new_page, agent_user, e2e):
    page = e2e.login(new_page(), agent_user)
    expect(page.get_by_test_id("nav-users")).to_have_count(0)
    page.goto("/#/admin/users")
    expect(page.get_by_test_id("home-page")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_contain_text("réservée aux administrateurs")
