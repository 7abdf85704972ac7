"""A login the server will not hash now (issue 16 section 1), in Chromium: the login screen says so in
French and the same form logs in once a bcrypt slot is free. Checked with axe-core on a phone.
"""
import fcntl
import os

import pytest

from tests.browser.conftest import PageWatch, serving

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system, pytest.mark.solo]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    """A server with one bcrypt slot of its own, which the test takes as another worker's hash would."""
    tmp = tmp_path_factory.mktemp("e2e-storm")
    with serving(tmp, PASSWORD_HASHING_SLOTS="1", PASSWORD_HASHING_WAIT_MS="200",
                 PASSWORD_HASHING_LOCK_DIR=str(tmp / "slots")) as server:
        server.slot_file = tmp / "slots" / "slot-0"
        yield server


def test_a_busy_login_says_to_try_again_then_goes_through(busy_server, browser, e2e):
    context = browser.new_context(base_url=busy_server.base_url, locale="fr-FR", viewport=PHONE, bypass_csp=True)
    watch = PageWatch()
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto("/#/login")
        page.fill("#login-email", busy_server.admin.email)
        page.fill("#login-password", busy_server.admin.password)
        fd = os.open(busy_server.slot_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            page.click("#login-submit")
            expect(page.get_by_role("alert")).to_contain_text(
                "Trop de connexions simultanées : réessayez dans un instant.")
            e2e.assert_accessible(page, "connexion refusée : serveur occupé")
            e2e.assert_no_horizontal_overflow(page)
        finally:
            os.close(fd)  # the slot is free again
        expect(page.locator("#login-password")).to_have_value("")  # the password never stays in the form
        page.fill("#login-password", busy_server.admin.password)
        page.click("#login-submit")
        page.wait_for_selector("[data-testid=home-page]")
    finally:
        context.close()
    assert not watch.errors and not watch.csp_violations and not watch.dialogs
