"""The Pilotage screen in Chromium: charts drawn by the vendored Chart.js under the strict CSP, each with its
data as a table and its CSV, the SVA/SVR list with links, axe-core, and a phone without sideways scrolling."""
import uuid

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="le paquet playwright n'est pas installé")
expect = sync_api.expect

PHONE = {"width": 390, "height": 844}
CHARTS = ("semaines", "services", "retards", "delais-services", "delais-typologies")


@pytest.fixture
def letters(live_server, make_account):
    """A service, an SVA typologie and three letters routed there: one treated, one due soon (SVA)."""
    api, admin = live_server.api, live_server.admin
    token = api.token(admin)
    code = f"P{uuid.uuid4().hex[:6].upper()}"
    service = api.ok("POST", "/api/services", {"code": code, "nom": f"Pilotage {code}"}, token)["data"]
    sva = api.ok("POST", "/api/typologies", {"code": f"S{code[1:]}", "nom": "Permis tacite", "delai_jours": 3,
                                             "mode": "sva"}, token)["data"]
    clerk = make_account("agent")
    clerk_token = api.token(clerk)
    made = []
    for fields in ({"typologie_id": sva["id"]}, {}, {}):
        letter = api.create_document(clerk_token, service_id=service["id"], **fields)
        api.ok("POST", f"/api/documents/{letter['id']}/validate", None, token)
        made.append(letter)
    api.ok("POST", f"/api/documents/{made[2]['id']}/traiter", {}, token)
    return {"service": service, "sva": made[0]}


def open_dashboard(page, e2e, account):
    e2e.login(page, account, then=None)
    e2e.open_nav(page, "nav-pilotage")
    e2e.shown(page, "/pilotage")
    expect(page.locator("[data-testid=pilotage-page]")).to_have_attribute("data-charts", "ready")
    return page


def test_the_dashboard_draws_each_chart_with_its_table_and_csv(new_page, live_server, e2e, letters):
    page = open_dashboard(new_page(), e2e, live_server.admin)  # the CSP is in force: the page watch checks it
    for chart in CHARTS:
        canvas = page.locator(f"[data-testid={chart}-canvas]")
        expect(canvas).to_have_attribute("role", "img")
        assert canvas.get_attribute("aria-label").strip()
        assert canvas.evaluate("(c) => c.width > 0 && c.height > 0")
        assert page.locator(f"[data-testid={chart}-table] caption").text_content().strip()
    code = letters["service"]["code"]
    assert code in page.locator("[data-testid=services-canvas]").get_attribute("aria-label") or \
        code in page.locator("[data-testid=services-table]").text_content()
    page.click("[data-testid=services-data] summary")
    row = page.locator("[data-testid=services-table] tbody tr", has_text=code)
    expect(row.locator("th[scope=row]")).to_contain_text(code)
    expect(row.locator("td").last).to_have_text("3")
    link = page.locator("[data-testid=silence-link]", has_text=letters["sva"]["reference"])
    expect(link).to_have_attribute("href", f"#/documents/{letters['sva']['id']}")

    with page.expect_download() as caught:
        page.click("[data-testid=csv-services]")
    download = caught.value
    assert download.suggested_filename.startswith("statistiques-services-")
    with open(download.path(), encoding="utf-8") as exported:
        content = exported.read()
    assert content.startswith("\ufeffService;Entrants;Sortants;Internes;Total")
    assert f"{code} — Pilotage {code};3;0;0;3" in content
    expect(page.locator("[data-testid=csv-services-status]")).to_have_text("Fichier téléchargé.")

    link.click()
    e2e.shown(page, f"/documents/{letters['sva']['id']}")


def test_the_dashboard_is_accessible_and_fits_a_phone(new_page, live_server, e2e, letters):
    page = open_dashboard(new_page(bypass_csp=True), e2e, live_server.admin)
    for chart in CHARTS:
        page.click(f"[data-testid={chart}-data] summary")
    e2e.assert_accessible(page, "Pilotage")
    e2e.screenshot(page, "pilotage")

    phone = open_dashboard(new_page(viewport=PHONE, bypass_csp=True), e2e, live_server.admin)
    for chart in CHARTS:
        phone.click(f"[data-testid={chart}-data] summary")
    e2e.assert_no_horizontal_overflow(phone)
    e2e.assert_accessible(phone, "Pilotage (téléphone)")
    e2e.screenshot(phone, "pilotage-mobile")


def test_an_agent_has_no_pilotage_entry(new_page, e2e, agent_user):
    page = e2e.login(new_page(), agent_user, then=None)
    expect(page.locator("[data-testid=nav-pilotage]")).to_have_count(0)
