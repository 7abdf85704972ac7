"""Sign-in with ProConnect (issue 17) against a real OpenID provider: oidc-provider-mock in a thread.

The test plays the browser: it follows the redirect to the provider, submits the provider's authorisation
form (the `sub` typed in), follows the redirect back to the callback with the Flask test client (which
keeps the state cookie), then exchanges the ticket.
"""
import warnings
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse, urlsplit, urlunsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, select

from courrier.audit.models import AuditEvent
from courrier.auth.models import User
from courrier.columns import utcnow
from courrier.extensions import db
from courrier.oidc import provider as oidc_provider, service as oidc_service
from courrier.oidc.models import OidcIdentity, OidcPendingLogin, OidcTicket
from tests.conftest import bearer

CLIENT_ID = "courrier-test"
APP_URL = "http://courrier.test"
SCOPES = "openid profile email given_name usual_name uid siret"
SIRET = "13002526500013"
# The provider mock (in a thread of this process) runs Authlib server code Authlib itself deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config.*is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def provider_url():
    """A real OpenID provider on a free port of localhost (its issuer is http://localhost:<port>)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mock imports authlib.jose, deprecated in Authlib 1.9
        from oidc_provider_mock import run_server_in_thread
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_settings(provider_url):
    return {"OIDC_ISSUER": provider_url, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "secret-de-test",
            "OIDC_SCOPES": SCOPES, "OIDC_ACR_VALUES": "eidas1", "OIDC_ALLOWED_SIRETS": [], "OIDC_AUTO_CREATE": False,
            "APP_URL": APP_URL}


@pytest.fixture
def app_config(oidc_settings, request):
    return {**oidc_settings, **getattr(request, "param", {})}


def agent_claims(email, **claims):
    return {"email": email, "given_name": "Camille", "usual_name": "Lefèvre", "uid": "c.lefevre", "siret": SIRET,
            "acr": "eidas1", **claims}


def set_provider_user(provider_url, sub, claims):
    response = requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204, response.text


def start(client):
    """GET /api/auth/oidc/login: the provider's authorisation URL (the state cookie is in the client)."""
    response = client.get("/api/auth/oidc/login")
    assert response.status_code == 302, response.json
    return response.headers["Location"]


def authorize(authorization_url, sub):
    """Submit the provider's form as the agent `sub`; returns the callback URL it redirects to."""
    response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback(client, callback_url, accept="application/json"):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == APP_URL and parts.path == "/api/auth/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}", headers={"Accept": accept})


def ticket_of(response):
    assert response.status_code == 303, response.json
    location = response.headers["Location"]
    assert location.startswith(f"{APP_URL}/#/oidc?ticket=")
    return parse_qs(location.split("?", 1)[1])["ticket"][0]


def sign_in(client, provider_url, sub, claims):
    """The whole flow up to the ticket."""
    set_provider_user(provider_url, sub, claims)
    return ticket_of(callback(client, authorize(start(client), sub)))


def exchange(client, ticket):
    return client.post("/api/auth/oidc/token", json={"ticket": ticket})


def existing_user(app, email, is_active=True, mfa_enabled_at=None):
    with app.app_context():
        user = User(email=email, password_hash="$2b$04$" + "x" * 53, nom="Lefèvre", prenom="Camille",
                    role="validateur", is_active=is_active, mfa_enabled_at=mfa_enabled_at)
        db.session.add(user)
        db.session.commit()
        return user.id


def events(app, event_type):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.type == event_type)).all()


# ---------------------------------------------------------------- the feature off


@pytest.mark.parametrize("app_config", [{"OIDC_ISSUER": None}], indirect=True)
@pytest.mark.parametrize("method, path", [
    ("GET", "/api/auth/oidc/login"), ("GET", "/api/auth/oidc/callback?code=x&state=y"),
    ("POST", "/api/auth/oidc/token"),
])
def test_without_an_issuer_the_routes_do_not_exist(client, method, path):
    response = client.open(path, method=method, json={"ticket": "x"} if method == "POST" else None)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


@pytest.mark.parametrize("app_config", [{"OIDC_ISSUER": None}], indirect=True)
def test_without_an_issuer_the_login_screen_shows_no_button(client):
    assert client.get("/api/auth/oidc/config").json["data"] == {"enabled": False, "label": None}


def test_the_login_screen_gets_the_button_label(client):
    assert client.get("/api/auth/oidc/config").json["data"] == {
        "enabled": True, "label": "Se connecter avec ProConnect"}


# ---------------------------------------------------------------- the authorisation request


def test_login_redirects_to_the_provider_with_pkce_state_nonce_and_acr(client, provider_url):
    response = client.get("/api/auth/oidc/login")
    url = urlparse(response.headers["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider_url}/oauth2/authorize"
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{APP_URL}/api/auth/oidc/callback"]
    assert query["scope"] == [SCOPES] and query["acr_values"] == ["eidas1"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api/auth/oidc/callback" in cookie
    assert "Secure" not in cookie  # APP_URL is http here; https deployments get Secure
    handle = cookie.split(";")[0].split("=", 1)[1]
    assert handle not in (query["state"][0], query["nonce"][0])
    with client.application.app_context():
        pending = db.session.scalars(select(OidcPendingLogin)).one()
        assert pending.id == oidc_service.digest(handle) and pending.state == query["state"][0]


@pytest.mark.parametrize("app_config", [{"APP_URL": "https://courrier.example.gouv.fr"}], indirect=True)
def test_the_state_cookie_is_secure_over_https(client):
    assert "Secure" in client.get("/api/auth/oidc/login").headers["Set-Cookie"]


def test_the_token_request_uses_client_secret_post(app, monkeypatch):
    """ProConnect's choice: the secret in the body, not HTTP Basic (Authlib's default)."""
    with app.test_request_context():
        session = oidc_provider.client()
        assert session.token_endpoint_auth_method == "client_secret_post"
        assert session.code_challenge_method == "S256"


def test_an_unreachable_provider_is_a_french_503(client, app_config, monkeypatch):
    client.application.config["OIDC_ISSUER"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = client.get("/api/auth/oidc/login")
    assert response.status_code == 503
    assert response.json["code"] == "service_unavailable" and "ProConnect" in response.json["message"]


# ---------------------------------------------------------------- the whole flow


def test_an_agent_signs_in_and_gets_a_normal_session(app, client, provider_url):
    user_id = existing_user(app, "camille.lefevre@interieur.gouv.fr")
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    response = exchange(client, ticket)
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["user"]["id"] == user_id and data["token_type"] == "Bearer" and data["refresh_token"]
    assert client.get("/api/auth/me", headers=bearer(data["access_token"])).json["data"]["id"] == user_id
    [event] = events(app, "login_succeeded")
    assert event.details["method"] == "oidc" and event.subject_user_id == user_id
    [linked] = events(app, "oidc_identity_linked")
    assert linked.details == {"issuer": provider_url, "sub": "sub-camille"}
    with app.app_context():
        identity = db.session.scalars(select(OidcIdentity)).one()
        assert (identity.issuer, identity.sub, identity.user_id) == (provider_url, "sub-camille", user_id)


def test_the_stored_sub_finds_the_user_even_after_an_email_change(app, client, provider_url):
    user_id = existing_user(app, "camille.lefevre@interieur.gouv.fr")
    exchange(client, sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr")))
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("c.lefevre@nouvelle-adresse.gouv.fr"))
    assert exchange(client, ticket).json["data"]["user"]["id"] == user_id


def test_a_browser_is_sent_to_the_spa_with_the_ticket_and_no_token_in_the_url(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    response = callback(client, authorize(start(client), "sub-camille"), accept="text/html,*/*;q=0.8")
    location = response.headers["Location"]
    assert response.status_code == 303 and location.startswith(f"{APP_URL}/#/oidc?ticket=")
    assert "token" not in location.split("?", 1)[1].replace("ticket=", "")
    assert "courrier_oidc=;" in response.headers["Set-Cookie"]  # the state cookie is removed


def test_the_ticket_serves_once(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    assert exchange(client, ticket).status_code == 200
    again = exchange(client, ticket)
    assert again.status_code == 401 and again.json["code"] == "token_invalid"
    assert len(events(app, "login_succeeded")) == 1


def test_an_expired_ticket_is_refused(app, client, provider_url, monkeypatch):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    later = utcnow() + timedelta(seconds=31)
    monkeypatch.setattr(oidc_service, "utcnow", lambda: later)
    response = exchange(client, ticket)
    assert response.status_code == 401 and response.json["code"] == "token_expired"
    assert events(app, "login_succeeded") == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OidcTicket)) == 0


def test_a_ticket_is_stored_hashed(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    with app.app_context():
        assert db.session.get(OidcTicket, ticket) is None
        assert db.session.get(OidcTicket, oidc_service.digest(ticket)) is not None


# ---------------------------------------------------------------- state and nonce


def test_a_wrong_state_is_refused(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["state"] = "x" * 43
    response = callback(client, urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 400 and response.json["code"] == "bad_request"
    assert "expiré ou a déjà servi" in response.json["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OidcTicket)) == 0


def test_a_replayed_state_is_refused(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    assert callback(client, url).status_code == 303
    replay = callback(client, url)
    assert replay.status_code == 400 and replay.json["code"] == "bad_request"


def test_a_replayed_state_with_the_old_cookie_is_refused(app, client, provider_url):
    """Even the browser's own cookie, put back after the callback removed it, serves only once."""
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    handle = client.get_cookie("courrier_oidc", path="/api/auth/oidc/callback").value
    assert callback(client, url).status_code == 303
    client.set_cookie("courrier_oidc", handle, path="/api/auth/oidc/callback")
    replay = callback(client, url)
    assert replay.status_code == 400 and replay.json["code"] == "bad_request"


def test_a_callback_from_another_browser_is_refused(app, client, provider_url):
    """The state is bound to the browser that started: a victim's browser without the cookie refuses it."""
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    other_browser = app.test_client()
    assert callback(other_browser, url).status_code == 400


def test_a_wrong_nonce_is_refused(app, client, provider_url):
    """The provider signs the nonce it was sent: here the authorisation request's nonce was tampered with."""
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    parts = urlsplit(start(client))
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["nonce"] = "n" * 43
    response = callback(client, authorize(urlunsplit(parts._replace(query=urlencode(query))), "sub-camille"))
    assert response.status_code == 400 and response.json["code"] == "bad_request"
    assert "n'a pas pu être vérifiée" in response.json["message"]
    assert events(app, "login_succeeded") == []


@pytest.mark.parametrize("acr", [None, "eidas0"])
def test_an_acr_other_than_the_one_asked_is_refused(app, client, provider_url, acr):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    claims = agent_claims("camille.lefevre@interieur.gouv.fr", acr=acr)
    if acr is None:
        del claims["acr"]
    set_provider_user(provider_url, "sub-faible", claims)
    response = callback(client, authorize(start(client), "sub-faible"))
    assert response.status_code == 400 and events(app, "login_succeeded") == []


def test_a_provider_answering_for_another_issuer_is_refused(app, client, provider_url):
    """RFC 9207: the `iss` of the authorisation response must be the configured issuer."""
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    response = callback(client, url + "&iss=https%3A%2F%2Fevil.example")
    assert response.status_code == 400


def test_a_denied_authorisation_is_refused(app, client, provider_url):
    authorization_url = start(client)
    response = requests.post(authorization_url, data={"action": "deny"}, allow_redirects=False, timeout=5)
    # The mock leaves the state out of its error redirect; a provider following RFC 6749 puts it back.
    state = parse_qs(urlsplit(authorization_url).query)["state"][0]
    refused = callback(client, f"{response.headers['Location']}&state={state}", accept="text/html")
    assert refused.status_code == 303 and refused.headers["Location"] == f"{APP_URL}/#/oidc?error=provider_denied"


# ---------------------------------------------------------------- who may sign in


@pytest.mark.parametrize("app_config", [{"OIDC_ALLOWED_SIRETS": ["11000000000011", SIRET]}], indirect=True)
def test_an_allowed_siret_signs_in(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    ticket = sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    assert exchange(client, ticket).status_code == 200


@pytest.mark.parametrize("app_config", [{"OIDC_ALLOWED_SIRETS": ["11000000000011"]}], indirect=True)
def test_a_siret_not_allowed_is_refused(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    url = authorize(start(client), "sub-camille")
    response = callback(client, url)
    assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert "SIRET" in response.json["message"]
    [failed] = events(app, "login_failed")
    assert failed.details == {"method": "oidc", "reason": "siret_not_allowed"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OidcIdentity)) == 0


@pytest.mark.parametrize("app_config", [{"OIDC_ALLOWED_SIRETS": ["11000000000011"]}], indirect=True)
def test_a_browser_refused_sees_the_reason_on_the_spa(app, client, provider_url):
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    response = callback(client, authorize(start(client), "sub-camille"), accept="text/html")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{APP_URL}/#/oidc?error=siret_not_allowed"


def test_a_deactivated_user_is_refused(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr", is_active=False)
    set_provider_user(provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr"))
    response = callback(client, authorize(start(client), "sub-camille"))
    assert response.status_code == 403 and "désactivé" in response.json["message"]
    assert events(app, "login_failed")[0].details == {"method": "oidc", "reason": "account_inactive"}


def test_a_user_deactivated_after_linking_is_refused(app, client, provider_url, admin):
    user_id = existing_user(app, "camille.lefevre@interieur.gouv.fr")
    exchange(client, sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr")))
    assert client.patch(f"/api/users/{user_id}", json={"is_active": False}, headers=admin.headers).status_code == 200
    response = callback(client, authorize(start(client), "sub-camille"))
    assert response.status_code == 403


def test_an_unknown_agent_is_refused_without_auto_creation(app, client, provider_url):
    set_provider_user(provider_url, "sub-inconnu", agent_claims("inconnu@interieur.gouv.fr"))
    response = callback(client, authorize(start(client), "sub-inconnu"))
    assert response.status_code == 403 and "Aucun compte" in response.json["message"]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "inconnu@interieur.gouv.fr")) is None


@pytest.mark.parametrize("app_config", [{"OIDC_AUTO_CREATE": True}], indirect=True)
def test_an_unknown_agent_becomes_an_agent_with_auto_creation(app, client, provider_url):
    ticket = sign_in(client, provider_url, "sub-nouveau", agent_claims("Nouveau.Agent@interieur.gouv.fr"))
    user = exchange(client, ticket).json["data"]["user"]
    assert (user["email"], user["role"], user["nom"], user["prenom"]) == (
        "nouveau.agent@interieur.gouv.fr", "agent", "Lefèvre", "Camille")
    [created] = events(app, "user_created")
    assert created.details == {"role": "agent", "method": "oidc"}
    # Signing in again finds the same account through the stored sub.
    again = exchange(client, sign_in(client, provider_url, "sub-nouveau", agent_claims("x@interieur.gouv.fr")))
    assert again.json["data"]["user"]["id"] == user["id"]


@pytest.mark.parametrize("app_config", [{"OIDC_AUTO_CREATE": True}], indirect=True)
def test_an_auto_created_account_has_no_usable_password(app, client, auth, provider_url):
    exchange(client, sign_in(client, provider_url, "sub-nouveau", agent_claims("nouveau@interieur.gouv.fr")))
    assert auth.login("nouveau@interieur.gouv.fr", "").status_code in (401, 422)
    with app.app_context():
        assert db.session.scalar(select(User.password_hash).where(User.email == "nouveau@interieur.gouv.fr"))


# ---------------------------------------------------------------- multi-factor and logout


def test_an_mfa_shown_by_the_provider_reaches_complete_login(app, client, provider_url, monkeypatch):
    seen = []
    real = oidc_service.complete_login
    monkeypatch.setattr(oidc_service, "complete_login", lambda user, **kw: seen.append(kw) or real(user, **kw))
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    exchange(client, sign_in(client, provider_url, "sub-camille",
                             agent_claims("camille.lefevre@interieur.gouv.fr", amr=["pwd", "otp", "mfa"])))
    exchange(client, sign_in(client, provider_url, "sub-camille", agent_claims("camille.lefevre@interieur.gouv.fr")))
    assert seen == [{"method": "oidc", "mfa": True}, {"method": "oidc", "mfa": False}]


def test_an_account_with_local_totp_gets_the_code_step_unless_the_provider_showed_mfa(app, client, provider_url):
    user_id = existing_user(app, "camille.lefevre@interieur.gouv.fr", mfa_enabled_at=utcnow())
    without = exchange(client, sign_in(client, provider_url, "sub-camille",
                                       agent_claims("camille.lefevre@interieur.gouv.fr")))
    assert without.status_code == 200 and without.json["data"]["mfa_required"] is True
    assert without.json["data"]["mfa_token"] and "access_token" not in without.json["data"]
    assert events(app, "login_succeeded") == []
    with_mfa = exchange(client, sign_in(client, provider_url, "sub-camille",
                                        agent_claims("camille.lefevre@interieur.gouv.fr", amr=["pwd", "mfa"])))
    assert with_mfa.json["data"]["user"]["id"] == user_id and with_mfa.json["data"]["access_token"]
    assert events(app, "login_succeeded")[0].details["mfa"] is True


def test_logout_of_a_proconnect_session_returns_the_provider_logout_url(app, client, provider_url):
    existing_user(app, "camille.lefevre@interieur.gouv.fr")
    data = exchange(client, sign_in(client, provider_url, "sub-camille",
                                    agent_claims("camille.lefevre@interieur.gouv.fr"))).json["data"]
    with app.app_context():
        [id_token] = db.session.execute(select(oidc_service.OidcSessionHint.id_token_hint)).scalars().all()
    response = client.post("/api/auth/logout", headers=bearer(data["access_token"]))
    assert response.status_code == 200 and response.json["message"] == "Déconnexion réussie."
    url = urlparse(response.json["data"]["end_session_url"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider_url}/oauth2/end_session"
    assert query["id_token_hint"] == [id_token] and len(query["state"][0]) >= 32
    assert query["post_logout_redirect_uri"] == [f"{APP_URL}/"]
    assert client.get("/api/auth/me", headers=bearer(data["access_token"])).status_code == 401


def test_logout_of_a_password_session_has_no_provider_url(client, agent):
    response = client.post("/api/auth/logout", headers=agent.headers)
    assert response.status_code == 200 and response.json["data"] is None


# ---------------------------------------------------------------- a signed userinfo (ProConnect's way)


@pytest.fixture
def signing_key(app, monkeypatch):
    key = RSAKey.generate_key(2048, parameters={"kid": "cle-1", "use": "sig"})
    public = KeySet.import_key_set(KeySet([key]).as_dict(private=False))
    monkeypatch.setattr(oidc_provider, "key_set", lambda kid=None: public)
    return key


def signed_userinfo(key, **claims):
    body = {"iss": "https://auth.agentconnect.gouv.fr/api/v2", "aud": CLIENT_ID, "sub": "sub-camille",
            "email": "camille.lefevre@interieur.gouv.fr", "siret": SIRET, **claims}
    return jwt.encode({"alg": "RS256", "kid": "cle-1"}, body, key)


@pytest.mark.parametrize("app_config", [{"OIDC_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2"}], indirect=True)
def test_a_signed_userinfo_is_decoded_against_the_jwks(app, signing_key):
    with app.test_request_context():
        claims = oidc_provider.decode_userinfo_jwt(signed_userinfo(signing_key))
    assert claims["sub"] == "sub-camille" and claims["siret"] == SIRET


@pytest.mark.parametrize("app_config", [{"OIDC_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2"}], indirect=True)
@pytest.mark.parametrize("tamper", ["other_key", "other_audience", "other_issuer"])
def test_a_signed_userinfo_that_does_not_check_out_is_refused(app, signing_key, tamper):
    key = RSAKey.generate_key(2048, parameters={"kid": "cle-1"}) if tamper == "other_key" else signing_key
    claims = {"aud": "un-autre-service"} if tamper == "other_audience" else {}
    if tamper == "other_issuer":
        claims["iss"] = "https://evil.example"
    with app.test_request_context(), pytest.raises(oidc_provider.ProviderError):
        oidc_provider.decode_userinfo_jwt(signed_userinfo(key, **claims))
