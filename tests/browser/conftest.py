"""Fixtures of the end-to-end suite: a real gunicorn server on a temporary database, an HTTP helper
speaking the JSON API (urllib, no extra dependency) and, for the browser tests, Debian's Chromium
driven by Playwright.

The server runs with APP_ENV=production and random 64-character secrets, so the browser sees the
headers a deployment sends; bcrypt is cheap and the auth rate limit high so the suite stays fast.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.environment import APP_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def strong_password():
    """A password zxcvbn scores high, different on every run."""
    return f"Quai-{secrets.token_urlsafe(9)}-Brume-{secrets.randbelow(90) + 10}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Account:
    """Credentials of a user of the live server."""

    email: str
    password: str
    nom: str
    prenom: str
    role: str
    id: str = ""

    @property
    def full_name(self):
        return f"{self.prenom} {self.nom}"


class Api:
    """A minimal JSON client of the live server, for setting the scene around browser actions."""

    def __init__(self, base_url):
        self.base_url = base_url

    def call(self, method, path, body=None, token=None, headers=None):
        """Return (status, parsed JSON body or None, response headers)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "courrier-e2e-fixture")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw, status, response_headers = response.read(), response.status, response.headers
        except urllib.error.HTTPError as error:
            raw, status, response_headers = error.read(), error.code, error.headers
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return status, payload, response_headers

    def ok(self, method, path, body=None, token=None, expected=(200, 201)):
        status, payload, _ = self.call(method, path, body, token)
        assert status in expected, f"{method} {path} → {status} {payload}"
        return payload

    def login(self, account, user_agent=None):
        """Open a session for `account` (from another "device" when `user_agent` is given); return its `data`."""
        body = json.dumps({"email": account.email, "password": account.password}).encode()
        request = urllib.request.Request(self.base_url + "/api/auth/login", data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": user_agent or "courrier-e2e-fixture"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["data"]

    def token(self, account):
        return self.login(account)["access_token"]

    def create_document(self, token, **fields):
        body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie de Lyon",
                "destinataire": "Service des finances", "priorite": "normale"}
        body.update(fields)
        return self.ok("POST", "/api/documents", body, token)["data"]


def tail(path, lines):
    """The last `lines` lines of a server's log, for a failure's message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class LiveServer:
    base_url: str
    api: Api
    admin: Account
    jwt_secret: str
    log_path: Path
    env: dict

    @property
    def database(self):
        """The server's SQLite file, for tests that set a scene the API cannot (an old session, an old password)."""
        return self.log_path.parent / "e2e.sqlite"

    def log_tail(self, lines=60):
        return tail(self.log_path, lines)


def gunicorn_extra_args():
    """gunicorn 25+ opens a control socket at one fixed path per user: a second server (the system
    tests start theirs while this one lives) must not fight over it."""
    help_text = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


def _run(args, env, what):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"{what} a échoué ({result.returncode}) :\n{result.stdout}\n{result.stderr}", pytrace=False)


@contextmanager
def serving(tmp, **settings):
    """gunicorn serving wsgi:app on a free port, migrated database (SQLite under `tmp`), one administrateur;
    `settings` are environment variables added to (or replacing) the production-like defaults."""
    jwt_secret = secrets.token_hex(32)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
    env.update({
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET_KEY": jwt_secret,
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite'}",
        "BCRYPT_ROUNDS": "4",
        "MFA_REQUIRED_ROLES": "none",
        # Accounts the tests create as administrateur log in at once (a test of the forced change turns it on).
        "PASSWORD_CHANGE_ON_FIRST_LOGIN": "false",
        "REGISTRATION_OPEN": "true",
        "AUTH_RATE_LIMIT": "10000 per minute",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        # Its own queue: jobs the server enqueues wait there for the `live_worker` of the tests that need one.
        "JOBS_URL": f"sqlite:///{tmp / 'jobs.sqlite'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
        "APP_URL": base_url,
        **settings,
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
    server = LiveServer(base_url, Api(base_url), admin, jwt_secret, log_path, env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn s'est arrêté ({process.returncode}) :\n{server.log_tail()}", pytrace=False)
            status, _, _ = _health(server.api)
            if status == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn ne répond pas sur /api/health :\n{server.log_tail()}", pytrace=False)
            time.sleep(0.2)
        status, _, headers = server.api.call("GET", "/")
        if status != 200 or not headers.get("Content-Type", "").startswith("text/html"):
            pytest.fail("GET / ne sert pas le client web : enregistrez le blueprint dans create_app "
                        "(`app.register_blueprint(courrier.web.routes.blp)`).", pytrace=False)
        admin.id = server.api.login(admin)["user"]["id"]
        yield server
    finally:
        stop(process)


def stop(process):
    """SIGTERM to the process group (gunicorn lets its requests finish, the worker its job), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def pytest_collection_modifyitems(items):
    """Every test of this folder drives Chromium against `serving`'s server, on SQLite whatever
    TEST_DATABASE_URL says: marked `browser` and `system` (the run of the servers' tests, never the
    in-process one, even if a module forgets its pytestmark), and `sqlite_server`, so that CI's PostgreSQL
    pass does not run them a second time unchanged."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            for mark in (pytest.mark.browser, pytest.mark.system, pytest.mark.sqlite_server):
                item.add_marker(mark)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The shared server of the browser tests: no MFA requirement, no OpenID Connect issuer."""
    with serving(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@dataclass
class LiveWorker:
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)


@pytest.fixture(scope="session")
def live_worker(live_server):
    """`flask worker` (one thread) beside the live server, on its database, queue and files: started by the
    first test that needs jobs to run, stopped with the session."""
    log_path = live_server.log_path.parent / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(BIN / "flask"), "worker", "--workers", "1"], cwd=ROOT, env=live_server.env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield LiveWorker(process, log_path)
    finally:
        stop(process)


def _health(api):
    try:
        return api.call("GET", "/api/health")
    except OSError:
        return 0, None, None


@pytest.fixture(scope="session")
def make_account(live_server):
    """A new user: an agent registers itself (POST /api/auth/register); any other role is created by
    the administrateur (POST /api/users)."""
    api = live_server.api
    admin_token = []

    def make(role="agent", nom="Durand", prenom="Claire"):
        account = Account(f"{role}-{uuid.uuid4().hex[:10]}@example.com", strong_password(), nom, prenom, role)
        body = {"email": account.email, "password": account.password, "nom": nom, "prenom": prenom,
                "contact": "01 02 03 04 05"}
        if role == "agent":
            body["password_confirmation"] = account.password
            registered = api.ok("POST", "/api/auth/register", body, expected=(201,))["data"]
            api.ok("POST", "/api/auth/logout", token=registered["access_token"])  # start with no live session
            data = registered["user"]
        else:
            if not admin_token:
                admin_token.append(api.token(live_server.admin))
            data = api.ok("POST", "/api/users", {**body, "role": role}, admin_token[0], expected=(201,))["data"]
        assert data["role"] == role
        account.id = data["id"]
        return account

    return make


@pytest.fixture(scope="session")
def agent_user(make_account):
    return make_account("agent", "Martin", "Agathe")


@pytest.fixture(scope="session")
def validateur_user(make_account):
    return make_account("validateur", "Bernard", "Victor")


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: CI shares two cores between the server, Chromium and the suite.
    expect.set_options(timeout=10000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test must not ignore: JS errors, CSP violations, dialogs."""

    def __init__(self):
        self.errors, self.csp_violations, self.dialogs = [], [], []

    def attach(self, page):
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message):
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Trusted Type" in text
                                        or "TrustedHTML" in text or "Refused to" in text):
            self.csp_violations.append(text)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (separate localStorage, like two people on two machines).

    At the end the test fails if any page threw, violated the CSP or opened a dialog. `bypass_csp=True`
    lets the test inject axe-core (assert_accessible); such a page no longer checks the CSP itself, the
    other browser tests do."""
    contexts, watches = [], []

    def open_page(viewport=None, bypass_csp=False):
        context = browser.new_context(base_url=live_server.base_url, locale="fr-FR", timezone_id="Europe/Paris",
                                      viewport=viewport or {"width": 1280, "height": 860}, accept_downloads=True,
                                      bypass_csp=bypass_csp)
        context.set_default_timeout(10000)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch()
        watch.attach(page)
        page.watch = watch
        watches.append(watch)
        return page

    yield open_page
    for context in contexts:
        context.close()
    for watch in watches:
        assert not watch.errors, f"erreurs JavaScript : {watch.errors}"
        assert not watch.csp_violations, f"violations de la CSP : {watch.csp_violations}"
        assert not watch.dialogs, f"boîtes de dialogue ouvertes : {watch.dialogs}"


def login(page, account, then="/documents"):
    """Log in through the login screen, wait for the home screen (the caller's queues), then open
    the screen `then` through the main navigation (the mail register by default; None: stay home)."""
    page.goto("/#/login")
    page.fill("#login-email", account.email)
    page.fill("#login-password", account.password)
    page.click("#login-submit")
    page.wait_for_selector("[data-testid=home-page]")
    if then == "/documents":
        open_nav(page, "nav-documents")
        shown(page, "/documents")
    elif then:
        page.goto(f"/#{then}")
        shown(page, then)
    return page


def open_nav(page, testid):
    """Click the header's entry `testid` (a link, or logout-button), first opening the menus it sits behind:
    « Menu » on a narrow screen, then Administration or the account menu, outermost first."""
    toggles = page.evaluate("""(testid) => {
        const toggles = [];
        for (let el = document.querySelector(`[data-testid="${testid}"]`); el; el = el.parentElement) {
            const toggle = el.id && document.querySelector(`[aria-controls="${el.id}"]`);
            if (toggle) toggles.unshift(toggle.id);
        }
        return toggles;
    }""", testid)
    for toggle in toggles:
        button = page.locator(f"#{toggle}")
        if button.is_visible() and button.get_attribute("aria-expanded") == "false":
            button.click()
    page.click(f"[data-testid={testid}]")


def stored_tokens(page):
    return page.evaluate(
        "() => [localStorage.getItem('courrier.access_token'), localStorage.getItem('courrier.refresh_token')]")


def shown(page, route):
    """Wait until the screen of `route` (the fragment without '#', e.g. "/documents?type=sortant") is rendered."""
    from playwright.sync_api import expect

    expect(page.locator("#app")).to_have_attribute("data-route", route)
    expect(page.locator("#app")).not_to_have_attribute("aria-busy", "true")


def assert_labelled(page):
    """Every form control on screen has a <label> (for=…) naming it."""
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => !el.labels.length || ![...el.labels].some((l) => l.textContent.trim()))
        .map((el) => el.id || el.name || el.outerHTML.slice(0, 80))""")
    assert unlabelled == [], f"champs sans <label> : {unlabelled}"


def assert_accessible(page, what=""):
    """No WCAG 2.1 A/AA violation that axe-core finds on the page as it is now (open a page with
    new_page(bypass_csp=True): the CSP forbids the injected script otherwise)."""
    if not AXE.exists():
        message = f"axe-core absent ({AXE.relative_to(ROOT)}) : lancez `npm ci` à la racine du dépôt"
        if os.environ.get("REQUIRE_AXE"):  # .ci/run installs it: there, its absence is a failure
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}))""", WCAG_TAGS)
    report = "\n".join(f"- {v['id']} ({v['impact']}) : {v['help']} — {', '.join(v['nodes'])}" for v in violations)
    assert not violations, f"violations WCAG 2.1 A/AA sur {what or page.url} :\n{report}"


def assert_no_horizontal_overflow(page):
    """Nothing wider than the viewport (a phone user never scrolls sideways)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"la page déborde horizontalement : {widths[0]}px pour {widths[1]}px"


def screenshot(page, name):
    """Save docs/screenshots/<name>.png when SCREENSHOTS=1 (`make screenshots`): a full-page PNG costs a
    Chromium a good part of a second, forty of them a CI run's half-minute, for pictures that change only
    with the screens."""
    if not TAKE_SCREENSHOTS:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


class Helpers:
    """The helpers above, handed to test modules by a fixture (a conftest is not meant to be imported)."""

    login = staticmethod(login)
    open_nav = staticmethod(open_nav)
    stored_tokens = staticmethod(stored_tokens)
    shown = staticmethod(shown)
    assert_labelled = staticmethod(assert_labelled)
    screenshot = staticmethod(screenshot)
    assert_accessible = staticmethod(assert_accessible)
    assert_no_horizontal_overflow = staticmethod(assert_no_horizontal_overflow)
    strong_password = staticmethod(strong_password)


@pytest.fixture
def e2e():
    return Helpers
