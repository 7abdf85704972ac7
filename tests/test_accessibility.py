"""GET /api/accessibilite: the contact of the accessibility statement, from ACCESSIBILITY_CONTACT (issue 16)."""
import pytest


def test_the_contact_defaults_to_the_office_mailbox_and_needs_no_token(client, app):
    response = client.get("/api/accessibilite")
    assert response.status_code == 200
    assert response.json["data"] == {"contact": app.config["ACCESSIBILITY_CONTACT"],
                                     "contact_url": f"mailto:{app.config['ACCESSIBILITY_CONTACT']}"}


@pytest.mark.parametrize("app_config, url", [
    ({"ACCESSIBILITY_CONTACT": "referent-a11y@mairie.example.fr"}, "mailto:referent-a11y@mairie.example.fr"),
    ({"ACCESSIBILITY_CONTACT": "https://mairie.example.fr/accessibilite/signaler"},
     "https://mairie.example.fr/accessibilite/signaler"),
])
def test_the_configured_contact_is_an_email_or_a_form(client, app_config, url):
    data = client.get("/api/accessibilite").json["data"]
    assert data == {"contact": app_config["ACCESSIBILITY_CONTACT"], "contact_url": url}


def test_the_default_is_the_mail_from_address(monkeypatch):
    from config import Config

    monkeypatch.delenv("ACCESSIBILITY_CONTACT", raising=False)
    monkeypatch.setenv("MAIL_FROM", "bureau-courrier@mairie.example.fr")
    assert Config.from_env().ACCESSIBILITY_CONTACT == "bureau-courrier@mairie.example.fr"
    monkeypatch.setenv("ACCESSIBILITY_CONTACT", "https://mairie.example.fr/contact")
    assert Config.from_env().ACCESSIBILITY_CONTACT == "https://mairie.example.fr/contact"
