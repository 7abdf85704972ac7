"""« Mon historique »: the user's own security events and connections, on a desktop and on a phone."""
import os
import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 375, "height": 740}


def test_history_shows_the_users_events_and_connections(new_page, make_account, live_server, e2e):
    account = make_account("agent", "Roux", "Maël")
    other = make_account("agent", "Blanc", "Zoé")
    api = live_server.api
    api.call("POST", "/api/auth/login", {"email": account.email, "password": "Pas-Le-Bon-Mot-De-Passe-1"})
    api.call("POST", "/api/auth/login", {"email": other.email, "password": "Pas-Le-Bon-Mot-De-Passe-1"})
    page = e2e.login(new_page(bypass_csp=True), account, then=None)

    e2e.open_nav(page, "nav-history")
    e2e.shown(page, "/historique")
    expect(page).to_have_title("Mon historique — courrier")
    rows = page.get_by_test_id("history-event-row")
    # The registration, its session closed, the failed attempt and this login: nothing of the other account's.
    expect(rows.filter(has_text="mot de passe erroné")).to_have_count(1)
    for event_type in ("user_created", "logout", "login_failed", "login_succeeded"):
        expect(page.locator(f"[data-testid=history-event-row][data-type={event_type}]")).to_have_count(1)
    expect(rows).to_have_count(4)
    e2e.assert_accessible(page, "Mon historique (événements)")
    e2e.screenshot(page, "historique")

    page.click("[data-testid=history-tab-connexions]")
    e2e.shown(page, "/historique?voir=connexions")
    sessions = page.get_by_test_id("history-session-row")
    expect(sessions).to_have_count(2)  # the registration's, closed, and this one
    expect(sessions.filter(has_text="Active")).to_have_count(1)
    expect(page.get_by_test_id("history-tab-connexions")).to_have_attribute("aria-current", "page")
    e2e.assert_accessible(page, "Mon historique (connexions)")


def test_history_fits_a_phone(new_page, make_account, e2e):
    account = make_account("agent", "Faure", "Noé")
    page = e2e.login(new_page(viewport=PHONE, bypass_csp=True), account, then="/historique")
    expect(page.get_by_test_id("history-event-row")).to_have_count(3)
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "Mon historique sur un téléphone")
    page.click("[data-testid=history-tab-connexions]")
    e2e.shown(page, "/historique?voir=connexions")
    expect(page.get_by_test_id("history-session-row")).to_have_count(2)
    e2e.assert_no_horizontal_overflow(page)
    e2e.assert_accessible(page, "Mon historique, connexions, sur un téléphone")
