"""Registration, login, /me and logout (API.md section 3)."""
import pytest
from sqlalchemy import func, select

from config import Config
from courrier.auth.models import User
from courrier.extensions import db
from tests.conftest import STRONG_PASSWORD


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def field_errors(response):
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_error"
    return response.json["errors"]


def test_register_returns_tokens_and_an_active_agent(auth):
    response = auth.register(email="  Claire.Martin@Example.COM ")
    assert response.status_code == 201
    data = response.json["data"]
    assert set(data) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert data["token_type"] == "Bearer" and data["expires_in"] == 900
    user = data["user"]
    assert user["email"] == "claire.martin@example.com"
    assert (user["role"], user["is_active"]) == ("agent", True)
    assert not any("password" in key or "hash" in key for key in user)


def test_duplicate_email_in_other_case_is_refused(auth):
    auth.register_account(email="dupont@example.com")
    assert "email" in field_errors(auth.register(email="DUPONT@example.com "))


@pytest.mark.parametrize("password, reason", [
    ("Abc-12x", "7 bytes"),
    ("é" * 36 + "a", "73 bytes in 37 characters"),
    ("Tournesol-" * 7 + "xyz", "73 ASCII bytes"),
    ("password123", "guessable"),
    ("clairemartin1", "made of the user's own names (zxcvbn scores it 2 without them)"),
    ("Lanterne-Gravier-1234\nHoule", "a line break (after digits, zxcvbn crashed: a 500)"),
    ("Lanterne\tGravier-Houle-77", "a tab"),
])
def test_bad_passwords_are_refused(app, auth, password, reason):
    before = user_count(app)
    errors = field_errors(auth.register(password=password, password_confirmation=password))
    assert "password" in errors, reason
    assert user_count(app) == before


def test_a_password_with_a_control_character_is_refused_in_french(auth):
    for password in ("Lanterne-Gravier-1234\nHoule", "Lanterne-Gravier-Houle\x7f77", "Lanterne-Gravier\x85Houle"):
        response = auth.register(password=password, password_confirmation=password)
        assert response.status_code == 422, response.json
        assert response.json["errors"]["password"] == [
            "Le mot de passe ne peut pas contenir de caractère de contrôle (tabulation, retour à la ligne…)."]


def test_multibyte_password_of_72_bytes_is_accepted(auth):
    password = "Brûlé-Crème-x" + "é" * 28  # 72 bytes in UTF-8
    assert len(password.encode()) == 72
    response = auth.register(password=password, password_confirmation=password)
    assert response.status_code == 201, response.json
    assert auth.login(response.json["data"]["user"]["email"], password).status_code == 200


def test_password_confirmation_must_match(auth):
    assert "password_confirmation" in field_errors(auth.register(password_confirmation=STRONG_PASSWORD + "x"))


@pytest.mark.parametrize("field, value", [("role", "administrateur"), ("is_active", False), ("surprise", 1)])
def test_unknown_fields_are_refused_and_nobody_is_created(app, auth, field, value):
    before = user_count(app)
    assert field in field_errors(auth.register(**{field: value}))
    assert user_count(app) == before


@pytest.mark.parametrize("overrides, field", [
    ({"email": "not-an-email"}, "email"),
    ({"nom": ""}, "nom"),
    ({"nom": "x" * 101}, "nom"),
    ({"prenom": None}, "prenom"),
    ({"contact": "0" * 31}, "contact"),
    ({"email": {"$ne": None}}, "email"),
    ({"password": True, "password_confirmation": True}, "password"),
    ({"nom": "Mar\x00tin"}, "nom"),
])
def test_invalid_registration_fields_are_named_in_french(auth, overrides, field):
    errors = field_errors(auth.register(**overrides))
    assert field in errors
    assert all(isinstance(message, str) and message for message in errors[field])


def test_missing_fields_are_required(client):
    errors = field_errors(client.post("/api/auth/register", json={}))
    assert {"email", "password", "password_confirmation", "nom", "prenom"} <= set(errors)
    assert errors["email"] == ["Ce champ est obligatoire."]


def test_contact_is_optional(auth):
    body = auth.registration()
    del body["contact"]
    response = auth.client.post("/api/auth/register", json=body)
    assert response.status_code == 201
    assert response.json["data"]["user"]["contact"] is None


@pytest.mark.parametrize("app_config", [{"REGISTRATION_OPEN": False}])
def test_closed_registration_is_forbidden(auth):
    response = auth.register()
    assert response.status_code == 403 and response.json["code"] == "forbidden"
    assert auth.client.get("/api/auth/config").json["data"]["registration_open"] is False


def test_registration_is_closed_unless_the_deployment_opens_it(monkeypatch):
    monkeypatch.delenv("REGISTRATION_OPEN", raising=False)
    assert Config.from_env().REGISTRATION_OPEN is False
    monkeypatch.setenv("REGISTRATION_OPEN", "true")
    assert Config.from_env().REGISTRATION_OPEN is True


def test_the_login_screen_learns_whether_registration_is_open(client):
    response = client.get("/api/auth/config")
    assert response.status_code == 200 and response.json["data"]["registration_open"] is True


@pytest.mark.parametrize("app_config", [{"PASSWORD_MIN_LENGTH": 14, "PASSWORD_MIN_LENGTH_PRIVILEGED": 20}])
def test_the_forms_learn_the_password_policy_the_server_applies(client, auth):
    policy = client.get("/api/auth/config").json["data"]["password_policy"]
    assert policy == {"min_length": {"agent": 14, "validateur": 20, "administrateur": 20}, "max_bytes": 72}
    refused = auth.register(password="Brume-Quai-S7", password_confirmation="Brume-Quai-S7")  # 13 characters
    assert refused.json["errors"]["password"] == ["Le mot de passe doit contenir au moins 14 caractères."]


def test_login_returns_the_same_shape_as_register(auth):
    account = auth.register_account()
    response = auth.login(account.email.upper(), account.password)
    assert response.status_code == 200
    assert set(response.json["data"]) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}


def test_login_failures_are_indistinguishable(app, auth):
    account = auth.register_account()
    inactive = auth.register_account()
    with app.app_context():
        db.session.get(User, inactive.id).is_active = False
        db.session.commit()
    answers = [
        auth.login("nobody@example.com", STRONG_PASSWORD),
        auth.login(account.email, "Wrong-Password-99"),
        auth.login(inactive.email, inactive.password),
        auth.login(account.email, "x" * 100),
        auth.login("nobody@example.com", "é" * 60),
    ]
    bodies = {(r.status_code, r.json["code"], r.json["message"]) for r in answers}
    assert len(bodies) == 1
    assert bodies.pop()[:2] == (401, "invalid_credentials")


def test_unknown_email_costs_a_bcrypt_comparison(app, auth, monkeypatch):
    import courrier.auth.passwords as passwords

    calls = []
    real_checkpw = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda pw, hashed: calls.append(1) or real_checkpw(pw, hashed))
    auth.login("nobody@example.com", STRONG_PASSWORD)
    auth.login("nobody@example.com", "y" * 100)
    assert len(calls) == 2


def test_login_requires_both_fields(client):
    assert set(field_errors(client.post("/api/auth/login", json={}))) == {"email", "password"}


def test_me_returns_the_user_without_secrets(client, agent):
    response = client.get("/api/auth/me", headers=agent.headers)
    assert response.status_code == 200
    assert set(response.json["data"]) == {
        "id", "email", "nom", "prenom", "contact", "role", "is_active", "created_at", "services", "notifications_email",
        "mfa_enabled", "mfa_required", "restriction", "actions"}
    assert response.json["data"]["created_at"].endswith("+00:00")


def test_role_comes_from_the_database_not_the_token(app, client, agent):
    with app.app_context():
        db.session.get(User, agent.id).role = "validateur"
        db.session.commit()
    assert client.get("/api/auth/me", headers=agent.headers).json["data"]["role"] == "validateur"


def test_logout_revokes_access_and_refresh_tokens(client, agent):
    response = client.post("/api/auth/logout", headers=agent.headers)
    assert response.status_code == 200
    assert response.json["message"] == "Déconnexion réussie."
    assert client.get("/api/auth/me", headers=agent.headers).json["code"] == "token_revoked"
    refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {agent.refresh}"})
    assert (refreshed.status_code, refreshed.json["code"]) == (401, "token_revoked")


def test_logout_leaves_other_sessions_alive(client, auth, agent):
    other = auth.login_account(agent.email, agent.password)
    client.post("/api/auth/logout", headers=agent.headers)
    assert client.get("/api/auth/me", headers=other.headers).status_code == 200


def test_deactivated_user_is_refused_on_the_next_request(app, client, agent):
    with app.app_context():
        db.session.get(User, agent.id).is_active = False
        db.session.commit()
    response = client.get("/api/auth/me", headers=agent.headers)
    assert (response.status_code, response.json["code"]) == (401, "token_revoked")
