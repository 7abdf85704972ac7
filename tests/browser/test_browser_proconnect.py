"""Sign-in with ProConnect in Chromium, end to end (issue 17): a gunicorn server configured for a real OpenID
provider (oidc-provider-mock, in a thread of this process), its authorisation form filled in by the browser.

The server is this module's own (the shared one runs without OIDC_ISSUER, as API.md section 9 wants); it is
started with the helpers of tests/browser/conftest.py.
"""
import os
import secrets
import shutil
import subprocess
import time
import warnings

import pytest
import requests

from tests.browser.conftest import (
    APP_VARIABLES, BIN, ROOT, Account, Api, PageWatch, _health, _run, free_port, gunicorn_extra_args, stop,
    strong_password,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system,
              pytest.mark.filterwarnings("ignore:get_jwt_config.*is deprecated:DeprecationWarning")]

ALLOWED_SIRET = "13002526500013"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def provider_url():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mock imports authlib.jose, deprecated in Authlib 1.9
        from oidc_provider_mock import run_server_in_thread
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory, provider_url):
    """gunicorn on a migrated database, ProConnect configured (SIRET allow-list, no auto-creation)."""
    tmp = tmp_path_factory.mktemp("e2e-oidc")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES and not key.startswith("OIDC_")}
    env.update({
        "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "JWT_SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite'}", "BCRYPT_ROUNDS": "4", "AUTH_RATE_LIMIT": "10000 per minute",
        "UPLOAD_FOLDER": str(tmp / "uploads"), "RATELIMIT_STORAGE_URI": "memory://", "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1", "MFA_REQUIRED_ROLES": "none", "PASSWORD_CHANGE_ON_FIRST_LOGIN": "false",
        "APP_URL": base_url,
        "OIDC_ISSUER": provider_url, "OIDC_CLIENT_ID": "courrier-e2e", "OIDC_CLIENT_SECRET": secrets.token_hex(16),
        "OIDC_SCOPES": "openid profile email given_name usual_name uid siret", "OIDC_ALLOWED_SIRETS": ALLOWED_SIRET,
    })
    admin = Account("admin@example.com", strong_password(), "Admin", "Root", "administrateur")
    _run([str(BIN / "flask"), "db", "upgrade"], env, "flask db upgrade")
    _run([str(BIN / "flask"), "create-admin", "--email", admin.email, "--nom", admin.nom, "--prenom", admin.prenom,
          "--password", admin.password], env, "flask create-admin")
    log_path = tmp / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "--graceful-timeout", "5",
             *gunicorn_extra_args(), "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(base_url)
    try:
        deadline = time.monotonic() + 30
        while _health(api)[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn (ProConnect) ne démarre pas :\n{log_path.read_text(errors='replace')}",
                            pytrace=False)
            time.sleep(0.2)
        yield base_url, api, api.token(admin)
    finally:
        stop(process)


@pytest.fixture
def open_page(browser, oidc_server):
    """Fresh browser contexts on the ProConnect server; JS errors, CSP violations and dialogs fail the test."""
    base_url = oidc_server[0]
    contexts, watches = [], []

    def open_(viewport=PHONE, bypass_csp=True):
        context = browser.new_context(base_url=base_url, locale="fr-FR", timezone_id="Europe/Paris",
                                      viewport=viewport, bypass_csp=bypass_csp)
        context.set_default_timeout(10000)
        # The mock's pages ask a CDN for their stylesheet: not needed, and the CI machine may be offline.
        context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch()
        watch.attach(page)
        watches.append(watch)
        return page

    yield open_
    for context in contexts:
        context.close()
    for watch in watches:
        assert not watch.errors, f"erreurs JavaScript : {watch.errors}"
        assert not watch.csp_violations, f"violations de la CSP : {watch.csp_violations}"
        assert not watch.dialogs, f"boîtes de dialogue ouvertes : {watch.dialogs}"


def provider_user(provider_url, sub, email, siret=ALLOWED_SIRET):
    claims = {"email": email, "given_name": "Camille", "usual_name": "Lefèvre", "siret": siret, "acr": "eidas1"}
    assert requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=5).status_code == 204


def agent_account(oidc_server, email):
    _, api, admin_token = oidc_server
    api.ok("POST", "/api/users", {"email": email, "password": strong_password(), "nom": "Lefèvre",
                                  "prenom": "Camille", "role": "agent"}, admin_token, expected=(201,))


def sign_in_at_the_provider(page, sub):
    """Click the ProConnect button, type the agent's `sub` in the provider's form, authorise."""
    page.click("#proconnect-login")
    page.wait_for_url("http://localhost:*/oauth2/authorize?*")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()


def test_the_login_screen_shows_the_proconnect_button_within_the_csp(open_page, e2e):
    page = open_page(viewport={"width": 1280, "height": 860}, bypass_csp=False)
    page.goto("/#/login")
    button = page.locator("#proconnect-login")
    expect(button).to_have_text("Se connecter avec ProConnect")
    expect(button).to_have_attribute("href", "/api/auth/oidc/login")
    expect(page.get_by_role("link", name="Qu'est-ce que ProConnect ?")).to_have_attribute(
        "href", "https://proconnect.gouv.fr/")
    e2e.screenshot(page, "login-proconnect")


def test_an_agent_signs_in_with_proconnect_and_out_again(open_page, oidc_server, provider_url, e2e):
    agent_account(oidc_server, "camille.lefevre@interieur.gouv.fr")
    provider_user(provider_url, "sub-camille", "camille.lefevre@interieur.gouv.fr")
    page = open_page()
    page.goto("/#/login")
    expect(page.locator("#proconnect-login")).to_be_visible()
    e2e.assert_accessible(page, "l'écran de connexion avec ProConnect")
    e2e.assert_no_horizontal_overflow(page)

    sign_in_at_the_provider(page, "sub-camille")
    page.wait_for_selector("[data-testid=home-page]")
    expect(page.get_by_test_id("current-user")).to_contain_text("Camille Lefèvre")
    assert "ticket" not in page.url
    access, refresh = e2e.stored_tokens(page)
    assert access and refresh
    e2e.assert_accessible(page, "l'accueil après ProConnect")

    # Logout ends the courrier session, then the provider's; the provider sends the browser back here.
    e2e.open_nav(page, "logout-button")
    page.wait_for_url("http://localhost:*/oauth2/end_session?*")
    assert "id_token_hint=" in page.url and "post_logout_redirect_uri=" in page.url
    page.get_by_role("button", name="End session").click()
    page.wait_for_selector("#login-form")
    assert e2e.stored_tokens(page) == [None, None]
    _, api, _ = oidc_server
    assert api.call("GET", "/api/auth/me", token=access)[0] == 401


def test_an_agent_of_another_establishment_is_told_why(open_page, oidc_server, provider_url, e2e):
    agent_account(oidc_server, "autre.agent@exemple.gouv.fr")
    provider_user(provider_url, "sub-autre", "autre.agent@exemple.gouv.fr", siret="11000000000011")
    page = open_page()
    page.goto("/#/login")
    sign_in_at_the_provider(page, "sub-autre")
    expect(page.get_by_test_id("oidc-error")).to_contain_text("SIRET")
    e2e.shown(page, "/oidc?error=siret_not_allowed")
    e2e.assert_accessible(page, "le refus ProConnect")
    e2e.assert_no_horizontal_overflow(page)
    e2e.screenshot(page, "proconnect-refused-mobile")
    page.click("#oidc-back")
    expect(page.locator("#proconnect-login")).to_be_visible()
    assert e2e.stored_tokens(page) == [None, None]


def test_a_ticket_put_back_in_the_address_bar_serves_nothing(open_page, oidc_server, provider_url, e2e):
    agent_account(oidc_server, "deux.fois@interieur.gouv.fr")
    provider_user(provider_url, "sub-deux-fois", "deux.fois@interieur.gouv.fr")
    page = open_page()
    tickets = []
    page.on("request", lambda request: tickets.append(request.post_data_json["ticket"])
            if request.url.endswith("/api/auth/oidc/token") else None)
    page.goto("/#/login")
    sign_in_at_the_provider(page, "sub-deux-fois")
    page.wait_for_selector("[data-testid=home-page]")
    page.evaluate("() => localStorage.clear()")
    page.goto(f"/#/oidc?ticket={tickets[0]}")
    expect(page.get_by_test_id("oidc-error")).to_contain_text("déjà utilisé")
    e2e.assert_accessible(page, "un ticket déjà utilisé")
    assert e2e.stored_tokens(page) == [None, None]


def test_an_account_with_its_own_second_factor_continues_with_the_code_step(open_page, oidc_server, provider_url, e2e):
    """ProConnect did not show MFA (eidas1): the account's TOTP is asked, here one of its recovery codes."""
    import pyotp

    _, api, admin_token = oidc_server
    password = strong_password()
    api.ok("POST", "/api/users", {"email": "totp.agent@interieur.gouv.fr", "password": password, "nom": "Lefèvre",
                                  "prenom": "Camille", "role": "agent"}, admin_token, expected=(201,))
    token = api.login(Account("totp.agent@interieur.gouv.fr", password, "", "", "agent"))["access_token"]
    secret = api.ok("POST", "/api/auth/mfa/setup", token=token)["data"]["secret"]
    codes = api.ok("POST", "/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()}, token)["data"]
    provider_user(provider_url, "sub-totp", "totp.agent@interieur.gouv.fr")
    page = open_page()
    page.goto("/#/login")
    sign_in_at_the_provider(page, "sub-totp")
    expect(page.get_by_test_id("mfa-step")).to_be_visible()
    e2e.assert_accessible(page, "le code après ProConnect")
    page.click("#mfa-toggle")
    page.fill("#mfa-recovery-code", codes["recovery_codes"][0])
    page.click("#mfa-submit")
    page.wait_for_selector("[data-testid=home-page]")
    assert all(e2e.stored_tokens(page))
