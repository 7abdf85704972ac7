"""The second factor in Chromium (issue 15): enrolment with the QR code and recovery codes, the code step at
login, forced enrolment and forced password change, the re-authentication dialog, the admin's MFA reset.

Every screen is checked with axe-core (WCAG 2.1 A/AA) on a phone-sized viewport.
"""
import sqlite3
import time

import bcrypt
import pyotp
import pytest

from tests.browser.conftest import PageWatch, serving

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 390, "height": 844}


def totp(secret, offset=0):
    return pyotp.TOTP(secret).at(time.time() + offset)


def sql(server, statement, *parameters):
    with sqlite3.connect(server.database) as connection:
        connection.execute(statement, parameters)


def age_proofs(server, user_id):
    """Make the user's sessions' last proof of identity older than REAUTH_MAX_AGE."""
    sql(server, "UPDATE sessions SET authenticated_at = '2000-01-01 00:00:00.000000' WHERE user_id = ?", user_id)


def enrol_by_api(api, token):
    secret = api.ok("POST", "/api/auth/mfa/setup", token=token)["data"]["secret"]
    codes = api.ok("POST", "/api/auth/mfa/confirm", {"code": totp(secret)}, token)["data"]["recovery_codes"]
    return secret, codes


def submit_login(page, account):
    page.goto("/#/login")
    page.fill("#login-email", account.email)
    page.fill("#login-password", account.password)
    page.click("#login-submit")


def enrol_in_browser(page, e2e, restricted=False):
    """From the Sécurité screen: QR code, first code, recovery codes; returns the secret and the codes.
    `restricted`: the session had to enrol, and its banner follows (« activez-la » before, « activée » after)."""
    page.click("#mfa-start")
    expect(page.get_by_test_id("mfa-qr").locator("img")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-testid=mfa-qr] img')?.naturalWidth > 0")
    e2e.assert_accessible(page, "activation : QR code")
    e2e.assert_no_horizontal_overflow(page)
    page.get_by_text("Impossible de scanner").click()
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    page.fill("#mfa-confirm-code", totp(secret))
    page.click("#mfa-confirm-submit")
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    if restricted:
        banner = page.get_by_test_id("restriction-banner")
        expect(banner).to_have_text("Double authentification activée. Conservez vos codes de secours ci-dessous, "
                                    "puis continuez.")
    e2e.assert_accessible(page, "codes de secours")
    recovery = [text.strip() for text in codes.all_inner_texts()]
    page.click("#recovery-done")
    return secret, recovery


def test_an_agent_enrols_then_signs_in_with_a_code_and_with_a_recovery_code(new_page, make_account, e2e):
    account = make_account("agent")
    page = new_page(viewport=PHONE, bypass_csp=True)
    e2e.login(page, account, then="/securite")
    e2e.assert_accessible(page, "Sécurité")
    secret, recovery = enrol_in_browser(page, e2e)
    expect(page.get_by_test_id("mfa-status")).to_contain_text("Active")

    e2e.open_nav(page, "logout-button")
    submit_login(page, account)
    expect(page.get_by_test_id("mfa-step")).to_be_visible()
    expect(page).to_have_title("Double authentification — courrier")
    e2e.assert_accessible(page, "étape du code")
    e2e.assert_no_horizontal_overflow(page)
    page.fill("#mfa-code", "000000")
    page.click("#mfa-submit")
    expect(page.locator("#mfa-error")).to_contain_text("Code invalide")
    page.fill("#mfa-code", totp(secret, 30))  # the next step's code: one step of drift is accepted
    page.click("#mfa-submit")
    page.wait_for_selector("[data-testid=home-page]")

    e2e.open_nav(page, "logout-button")
    submit_login(page, account)
    page.click("#mfa-toggle")
    page.fill("#mfa-recovery-code", recovery[0])
    page.click("#mfa-submit")
    page.wait_for_selector("[data-testid=home-page]")


def test_a_stale_proof_opens_the_reauthentication_dialog_then_the_action_goes_through(
        live_server, new_page, make_account, e2e):
    target = make_account("agent", "Cible", "Thomas")
    live_server.api.login(target)
    page = new_page(viewport=PHONE, bypass_csp=True)
    admin = live_server.admin
    e2e.login(page, admin, then="/admin/users?q=" + target.email)
    row = page.locator(f"[data-testid=user-row][data-id='{target.id}']")

    age_proofs(live_server, admin.id)
    row.get_by_test_id("user-revoke-sessions").click()
    dialog = page.get_by_test_id("reauth-dialog")
    expect(dialog).to_be_visible()
    e2e.assert_accessible(page, "dialogue de réauthentification")
    page.click("#reauth-cancel")
    expect(dialog).to_have_count(0)
    expect(page.locator(".alert-error").first).to_contain_text("Confirmez votre identité")

    row.get_by_test_id("user-revoke-sessions").click()
    page.fill("#reauth-password", "pas-le-bon-mot-de-passe")
    page.click("#reauth-submit")
    expect(page.locator("#reauth-password-error")).to_contain_text("incorrect")
    page.fill("#reauth-password", admin.password)
    page.click("#reauth-submit")
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("session de Thomas Cible fermée")).to_be_visible()


def test_an_administrateur_resets_a_lost_phone(live_server, new_page, make_account, e2e):
    target = make_account("agent", "Perdu", "Lucie")
    enrol_by_api(live_server.api, live_server.api.token(target))
    page = new_page(bypass_csp=True)
    e2e.login(page, live_server.admin, then="/admin/users?q=" + target.email)
    row = page.locator(f"[data-testid=user-row][data-id='{target.id}']")
    expect(row.get_by_test_id("user-mfa")).to_have_text("Double authentification active")
    row.get_by_test_id("user-reset-mfa").click()
    expect(page.get_by_text("Double authentification de Lucie Perdu réinitialisée")).to_be_visible()
    e2e.assert_accessible(page, "utilisateurs après réinitialisation")
    assert "access_token" in live_server.api.login(target)  # a password login again, no code asked


def test_an_old_password_below_the_policy_must_be_changed_first(live_server, new_page, make_account, e2e):
    account = make_account("agent")
    account.password = "Brume-42"  # 8 characters: acceptable before issue 15
    sql(live_server, "UPDATE users SET password_hash = ?, password_policy = NULL WHERE id = ?",
        bcrypt.hashpw(account.password.encode(), bcrypt.gensalt(4)).decode(), account.id)
    page = new_page(viewport=PHONE, bypass_csp=True)
    submit_login(page, account)
    expect(page.get_by_test_id("restriction-banner")).to_contain_text("ne respecte plus")
    e2e.assert_accessible(page, "changement de mot de passe imposé")
    page.goto("/#/documents")
    e2e.shown(page, "/securite")  # nowhere else until it is changed
    new_password = e2e.strong_password()
    page.fill("#password-current", account.password)
    page.fill("#password-new", new_password)
    page.fill("#password-confirmation", new_password)
    page.click("#password-submit")
    page.wait_for_selector("[data-testid=home-page]")


@pytest.fixture(scope="module")
def mfa_server(tmp_path_factory):
    """A server with the default settings: administrateurs and validateurs must use a second factor, and
    public registration is closed."""
    with serving(tmp_path_factory.mktemp("e2e-mfa"), MFA_REQUIRED_ROLES="administrateur,validateur",
                 REGISTRATION_OPEN="false") as server:
        yield server


def test_a_validateur_without_a_second_factor_must_enrol_before_anything_else(mfa_server, browser, e2e):
    api = mfa_server.api
    admin_token = api.token(mfa_server.admin)  # restricted to enrolling, until it does
    assert api.call("GET", "/api/users", token=admin_token)[0] == 403
    enrol_by_api(api, admin_token)
    validateur = e2e_account(api, admin_token, e2e)

    context = browser.new_context(base_url=mfa_server.base_url, locale="fr-FR", viewport=PHONE, bypass_csp=True)
    watch = PageWatch()
    try:
        page = context.new_page()
        watch.attach(page)
        with page.expect_response("**/api/auth/config") as answer:
            page.goto("/#/login")
        assert answer.value.json()["data"]["registration_open"] is False
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.get_by_test_id("registration-offer")).to_be_hidden()  # administrateurs create the accounts
        submit_login(page, validateur)
        expect(page.get_by_test_id("restriction-banner")).to_contain_text("impose la double authentification")
        expect(page.get_by_role("navigation", name="Navigation principale")).to_have_count(0)
        e2e.assert_accessible(page, "activation imposée")
        page.goto(f"{mfa_server.base_url}/#/documents")
        e2e.shown(page, "/securite")
        enrol_in_browser(page, e2e, restricted=True)
        page.wait_for_selector("[data-testid=home-page]")
        expect(page.get_by_test_id("menu-button")).to_be_visible()  # the menu, folded on a phone
    finally:
        context.close()
    assert not watch.errors and not watch.csp_violations and not watch.dialogs


def e2e_account(api, admin_token, e2e):
    from tests.browser.conftest import Account

    account = Account(f"validateur-{time.time_ns()}@example.com", e2e.strong_password(), "Valide", "Vera",
                      "validateur")
    body = {"email": account.email, "password": account.password, "nom": account.nom, "prenom": account.prenom,
            "role": "validateur"}
    account.id = api.ok("POST", "/api/users", body, admin_token, expected=(201,))["data"]["id"]
    return account
