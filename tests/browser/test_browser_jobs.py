"""Background jobs in the browser, run by the one `flask worker` beside the live server (`live_worker`, shared
by this file's tests): the register's PDF made by a job and followed on the register's screen until its file
can be downloaded; « Tâches de fond », the administrateurs' screen of jobs and periodic tasks. Both axe-core
clean, on a laptop and a phone."""
import datetime
import os
import re
import shutil
import time
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
    pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium", allow_module_level=True)

expect = sync_api.expect
pytestmark = [pytest.mark.browser, pytest.mark.system]

PHONE = {"width": 390, "height": 844}
ENDED = ("termine", "echec")
# The worker starts with the first test that needs it: a job may wait for its first poll of the queue.
JOB_TIMEOUT_MS = 30000


def finished_job(live_server, live_worker, token, job_id, seconds=JOB_TIMEOUT_MS / 1000):
    """The job once the worker has finished it (read through the API until then)."""
    deadline = time.monotonic() + seconds
    while True:
        job = live_server.api.ok("GET", f"/api/jobs/{job_id}", token=token)["data"]
        if job["etat"] in ENDED:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"le travail {job_id} est resté « {job['etat']} » :\n{live_worker.log_tail()}", pytrace=False)
        time.sleep(0.2)


def test_the_register_pdf_is_made_in_the_background(new_page, live_server, live_worker, make_account, agent_user,
                                                    e2e):
    api = live_server.api
    validateur = make_account("validateur", "Garnier", "Lucie")  # validateurs keep the register too
    letter = api.create_document(api.token(validateur), objet="Registre en PDF", expediteur="Mairie de Nancy")

    page = e2e.login(new_page(bypass_csp=True), validateur)
    page.click("#register-export-summary")
    day = datetime.datetime.now(ZoneInfo("Europe/Paris")).date()
    start, end = day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)
    page.select_option("#register-type", "entrant")
    page.fill("#register-date-from", start.isoformat())
    page.fill("#register-date-to", end.isoformat())
    page.get_by_test_id("register-export-pdf").click()

    # Its state in the live region, then « Terminé » and the file; one PDF at a time meanwhile.
    job = page.get_by_test_id("register-export-job")
    expect(job).to_have_attribute("data-etat", re.compile("en_attente|en_cours|termine"))
    expect(page.get_by_test_id("register-export-pdf")).to_be_disabled()
    expect(job).to_have_attribute("data-etat", "termine", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_test_id("register-export-job-text")).to_have_text(re.compile(
        r"Registre en PDF : Terminé — Registre prêt : \d+ courrier\(s\), "
        rf"du {start:%d/%m/%Y} au {end:%d/%m/%Y}\."))
    expect(page.get_by_test_id("register-export-pdf")).to_be_enabled()
    e2e.assert_accessible(page, "l'export du registre en PDF terminé")
    e2e.screenshot(page, "register-export-pdf")
    with page.expect_download() as download:
        page.get_by_test_id("register-export-job-download").click()
    assert download.value.suggested_filename == f"registre-entrant-{start.isoformat()}_{end.isoformat()}.pdf"
    text = "".join(page.extract_text() for page in PdfReader(download.value.path()).pages)
    assert letter["reference"] in text

    made = api.ok("GET", f"/api/jobs/{job.get_attribute('data-job-id')}", token=api.token(validateur))["data"]
    assert made["type"] == "registre.pdf" and made["fichier"] == f"/api/jobs/{made['id']}/fichier"
    # Someone else's job does not exist for an agent, nor its file.
    other = api.token(agent_user)
    assert api.call("GET", f"/api/jobs/{made['id']}", token=other)[0] == 404
    assert api.call("GET", f"/api/jobs/{made['id']}/fichier", token=other)[0] == 404

    phone = e2e.login(new_page(viewport=PHONE), validateur)
    phone.click("#register-export-summary")
    phone.get_by_test_id("register-export-pdf").click()
    phone_job = phone.get_by_test_id("register-export-job")
    expect(phone_job).to_have_attribute("data-etat", "termine", timeout=JOB_TIMEOUT_MS)
    expect(phone.get_by_test_id("register-export-job-download")).to_be_visible()
    e2e.assert_no_horizontal_overflow(phone)


def test_an_administrateur_follows_the_background_jobs(new_page, live_server, live_worker, agent_user, e2e):
    api = live_server.api
    admin = live_server.admin
    token = api.token(admin)
    started = api.ok("POST", "/api/registre/exports", {"type": "sortant"}, token, expected=(202,))["data"]
    job = finished_job(live_server, live_worker, token, started["id"])
    assert job["etat"] == "termine", job

    page = e2e.login(new_page(bypass_csp=True), admin, then=None)
    e2e.open_nav(page, "nav-jobs")
    e2e.shown(page, "/admin/jobs")
    row = page.locator(f"[data-testid=job-row][data-id='{job['id']}']")
    expect(row).to_have_attribute("data-etat", "termine")
    expect(row.get_by_test_id("job-label")).to_have_text("Registre chronologique (PDF)")
    expect(row).to_contain_text(admin.full_name)
    expect(row.get_by_test_id("job-etat")).to_have_text("Terminé")
    expect(row.get_by_test_id("job-message")).to_have_text(job["message"])
    # The periodic tasks' rules (the live server has no SMTP server: the sender and the notices wait for one).
    periodic = page.get_by_test_id("periodic-table")
    expect(periodic.locator("[data-type='sessions.purge']")).to_contain_text("chaque jour à 03:00")
    expect(periodic.locator("[data-type='notifications.envoi']")).to_contain_text("SMTP_URL")
    e2e.assert_labelled(page)
    e2e.assert_accessible(page, "les tâches de fond")
    e2e.screenshot(page, "admin-jobs")

    # Filtered by state: the failed ones only (this job is not among them), the choice kept in the address.
    page.select_option("#job-filters-etat", "echec")
    page.click("#job-filters-submit")
    e2e.shown(page, "/admin/jobs?etat=echec")
    expect(row).to_have_count(0)
    expect(page.locator("#job-filters-etat")).to_have_value("echec")

    phone = e2e.login(new_page(viewport=PHONE, bypass_csp=True), admin, then="/admin/jobs")
    expect(phone.locator(f"[data-testid=job-row][data-id='{job['id']}']")).to_be_visible()
    e2e.assert_no_horizontal_overflow(phone)
    e2e.assert_accessible(phone, "les tâches de fond sur un téléphone")

    # An agent has neither the menu entry nor the screen, nor the list in the API.
    other = e2e.login(new_page(), agent_user, then=None)
    expect(other.get_by_test_id("nav-jobs")).to_have_count(0)
    other.goto("/#/admin/jobs")
    e2e.shown(other, "/accueil")
    expect(other.get_by_test_id("flash")).to_have_text("Cette page est réservée aux administrateurs.")
    assert api.call("GET", "/api/jobs", token=api.token(agent_user))[0] == 403
