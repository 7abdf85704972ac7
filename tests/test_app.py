"""The application shell: JSON errors, headers, CORS, configuration, health, OpenAPI, CLI, rate limits."""
import os
import subprocess
import sys

import jsonschema_rs
import pytest
from flask import abort
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from config import Config, ConfigError
from courrier import create_app, register_migrations
from courrier.auth.models import User
from courrier import database
from courrier.extensions import db
from tests.conftest import STRONG_PASSWORD, TEST_DATABASE_URL, base_config


def assert_error(response, status, code):
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    assert response.json["success"] is False and response.json["code"] == code
    assert response.json["message"]
    assert ("errors" in response.json) == (code == "validation_error")


@pytest.mark.parametrize("path", ["/api/nothing-here", "/nothing-here", "/api/auth/sessions/x/y"])
def test_unknown_routes_are_json_404(client, path):
    assert_error(client.get(path, headers={"Accept": "text/html"}), 404, "not_found")


def test_wrong_method_is_json_405(client):
    assert_error(client.get("/api/auth/login"), 405, "method_not_allowed")
    assert_error(client.delete("/api/health"), 405, "method_not_allowed")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"null", b"[" * 100_000 + b"]" * 100_000])
def test_malformed_or_non_object_json_is_400(client, body):
    assert_error(client.post("/api/auth/login", data=body, content_type="application/json"), 400, "bad_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_bodies_are_415(client, content_type):
    assert_error(client.post("/api/auth/login", data=b"email=a", content_type=content_type),
                 415, "unsupported_media_type")


def test_json_with_charset_is_accepted(client):
    response = client.post("/api/auth/login", data=b'{"email": "a@b.fr", "password": "x"}',
                           content_type="application/json; charset=utf-8")
    assert_error(response, 401, "invalid_credentials")


@pytest.mark.parametrize("app_config", [{"MAX_JSON_BYTES": 1024}])
def test_body_over_the_json_limit_is_413(client):
    assert_error(client.post("/api/auth/login", json={"email": "x" * 2000, "password": "p"}), 413, "payload_too_large")


def test_ten_megabyte_body_is_413(client):
    assert_error(client.post("/api/auth/register", data=b"{" + b" " * 10_000_000 + b"}",
                             content_type="application/json"), 413, "payload_too_large")


def test_empty_body_is_a_validation_error(client):
    assert_error(client.post("/api/auth/login", data=b"", content_type="application/json"), 422, "validation_error")


@pytest.mark.own_app
def test_unexpected_exception_is_500_without_internals(app, client):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    response = client.get("/api/boom")
    assert_error(response, 500, "internal_error")
    assert b"secret" not in response.data and b"Traceback" not in response.data


@pytest.mark.own_app
def test_http_errors_raised_by_code_become_the_envelope(app, client):
    @app.get("/api/teapot-conflict")
    def conflict():
        abort(409)

    assert_error(client.get("/api/teapot-conflict"), 409, "conflict")


@pytest.mark.parametrize("app_config", [{"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                                         "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}}}])
def test_database_unreachable_is_503(tmp_path, app_config):
    app = create_app({**base_config(tmp_path), **app_config})
    client = app.test_client()
    assert_error(client.get("/api/health"), 503, "service_unavailable")
    assert_error(client.post("/api/auth/login", json={"email": "a@b.fr", "password": "x"}), 503, "service_unavailable")


def test_health_checks_the_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"success": True, "data": {"status": "ok", "database": "ok"}}


def test_openapi_document_describes_the_auth_routes(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    register = spec["paths"]["/api/auth/register"]["post"]
    schema_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"email", "password", "nom", "prenom"} <= set(spec["components"]["schemas"][schema_ref]["properties"])


LETTER = {"type": "entrant", "objet": "Demande", "expediteur": "Mairie", "destinataire": "Service"}


@pytest.mark.parametrize("schema_name, path, body, field", [
    ("DocumentCreate", "/api/documents", {**LETTER, "expediteur": None}, "expediteur"),
    ("DocumentCreate", "/api/documents", {**LETTER, "destinataire": None, "destinataire_id": None}, "destinataire"),
    ("DocumentCreate", "/api/documents", {**LETTER, "nature": "recommande"}, "numero_recommande"),
    ("ContactCreate", "/api/contacts", {"type": "personne", "nom": "  "}, "nom"),
    ("ContactCreate", "/api/contacts", {"type": "organisation", "nom": "Martin"}, "organisation"),
])
def test_the_document_states_the_rules_between_fields(client, admin, schema_name, path, body, field):
    """What the server refuses for a missing field that another one requires, the document refuses too."""
    body = {name: value for name, value in body.items() if value is not None or name.endswith("_id")}
    rules = {"allOf": client.get("/api/openapi.json").json["components"]["schemas"][schema_name]["allOf"]}
    response = client.post(path, json=body, headers=admin.headers)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert not jsonschema_rs.is_valid(rules, body)
    assert jsonschema_rs.is_valid(rules, {**body, field: "1A12345678901"})


@pytest.mark.parametrize("app_config", [{"PASSWORD_MIN_LENGTH": 14, "PASSWORD_MIN_LENGTH_PRIVILEGED": 18}])
def test_the_document_states_the_new_password_lengths_of_the_settings(client, auth):
    """Characters, as the policy and JSON Schema count them: 13 is refused, 14 accented ones pass the length."""
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    for name in ("Register", "UserCreate", "PasswordChange"):
        assert {key: schemas[name]["properties"]["password"].get(key) for key in ("minLength", "maxLength")} == {
            "minLength": 14, "maxLength": 72}, name
    assert "minLength" not in schemas["Login"]["properties"]["password"]  # any password is only right or wrong
    short, accented = "Brume-Quai-42", "Éôàèùçâêîûëïüÿ"
    response = auth.register(password=short, password_confirmation=short)
    assert response.status_code == 422 and "14 caractères" in " ".join(response.json["errors"]["password"])
    response = auth.register(password=accented, password_confirmation=accented)
    assert "caractères" not in " ".join(response.json.get("errors", {}).get("password", []))


def test_security_headers_on_success_and_error(client):
    for response in (client.get("/api/health"), client.get("/api/missing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert client.post("/api/auth/login", json={}).headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in client.get("/api/health").headers


@pytest.mark.parametrize("app_config", [{"APP_ENV": "production"}])
def test_production_adds_hsts(client):
    hsts = client.get("/api/health").headers["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000


@pytest.mark.parametrize("app_config", [{"CORS_ORIGINS": ["https://spa.example.fr"]}])
def test_cors_echoes_only_configured_origins(client):
    allowed = client.get("/api/health", headers={"Origin": "https://spa.example.fr"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://spa.example.fr"
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    foreign = client.get("/api/health", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    error = client.get("/api/auth/me", headers={"Origin": "https://spa.example.fr"})
    assert error.status_code == 401 and error.headers["Access-Control-Allow-Origin"] == "https://spa.example.fr"
    preflight = client.options("/api/auth/me", headers={
        "Origin": "https://spa.example.fr", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers


def test_no_cors_by_default(client):
    assert "Access-Control-Allow-Origin" not in client.get("/api/health", headers={"Origin": "https://x.fr"}).headers


@pytest.mark.parametrize("secret", [None, "", "x" * 31, "changeme" * 5, "top-secret!"])
@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_weak_secrets(monkeypatch, name, secret):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 48)
    if secret is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, secret)
    with pytest.raises(ConfigError, match=name):
        Config.from_env()


def test_production_starts_with_strong_secrets(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 32)
    assert Config.from_env().APP_ENV == "production"


@pytest.mark.parametrize("name, value", [("APP_ENV", "staging"), ("BCRYPT_ROUNDS", "douze"),
                                         ("SESSION_TRACKING", "peut-etre")])
def test_malformed_settings_are_refused_clearly(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Config.from_env()


def test_bcrypt_cost_comes_from_the_configuration(app, auth, agent):
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.id == agent.id))
    assert stored.startswith("$2b$04$")


def create_admin(runner, *args, **kwargs):
    return runner.invoke(args=["create-admin", "--email", "Chef@Example.fr", "--nom", "Chef", "--prenom", "Anne",
                               *args], **kwargs)


def test_create_admin_with_password_option(app, runner, auth):
    assert create_admin(runner, "--password", STRONG_PASSWORD).exit_code == 0
    assert auth.login("chef@example.fr", STRONG_PASSWORD).json["data"]["user"]["role"] == "administrateur"


def test_create_admin_reads_admin_password(app, runner, auth, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", STRONG_PASSWORD)
    assert create_admin(runner, input="").exit_code == 0
    assert auth.login("chef@example.fr", STRONG_PASSWORD).status_code == 200


def test_create_admin_prompts_without_echo(app, runner, auth):
    result = create_admin(runner, input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output
    assert auth.login("chef@example.fr", STRONG_PASSWORD).status_code == 200


def test_create_admin_refuses_a_weak_password(app, runner):
    result = create_admin(runner, "--password", "motdepasse")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "chef@example.fr")) is None


def test_create_admin_promotes_an_existing_user(app, runner, client, agent):
    result = runner.invoke(args=["create-admin", "--email", agent.email.upper(), "--nom", "X", "--prenom", "Y"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/auth/me", headers=agent.headers).json["data"]["role"] == "administrateur"


@pytest.mark.parametrize("app_config", [{"AUTH_RATE_LIMIT": "5 per minute"}])
class TestRateLimits:
    def test_sixth_login_from_one_ip_is_429_with_retry_after(self, auth, agent):
        for _ in range(5):  # the fixture's account opens its session without the login route
            assert auth.login(agent.email, agent.password).status_code == 200
        response = auth.login(agent.email, agent.password)
        assert_error(response, 429, "rate_limited")
        assert 0 < int(response.headers["Retry-After"]) <= 60

    def test_spoofed_forwarded_for_does_not_reset_the_limit(self, auth):
        for index in range(5):
            auth.login(f"user{index}@example.com", "x", headers={"X-Forwarded-For": f"10.0.0.{index}"})
        spoofed = {"X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.1.1.1", "Forwarded": "for=10.2.2.2"}
        response = auth.login("other@example.com", "x", headers=spoofed)
        assert response.status_code == 429

    def test_login_is_limited_per_email_across_addresses(self, auth):
        for index in range(5):
            auth.login("cible@example.com", "x", environ_base={"REMOTE_ADDR": f"192.0.2.{index}"})
        response = auth.login("CIBLE@example.com", "x", environ_base={"REMOTE_ADDR": "192.0.2.99"})
        assert response.status_code == 429
        other = auth.login("autre@example.com", "x", environ_base={"REMOTE_ADDR": "192.0.2.100"})
        assert other.status_code == 401

    def test_sixth_registration_from_one_ip_is_429(self, auth):
        for _ in range(5):
            assert auth.register().status_code == 201
        assert_error(auth.register(), 429, "rate_limited")


@pytest.mark.parametrize("app_config", [{"AUTH_RATE_LIMIT": "2 per minute", "RATELIMIT_ENABLED": False}])
def test_rate_limits_can_be_turned_off(auth, agent):
    """RATELIMIT_ENABLED=false (a load test, a trusted network): the app starts and never answers 429."""
    for _ in range(4):
        assert auth.login(agent.email, agent.password).status_code == 200


@pytest.mark.parametrize("app_config", [{"AUTH_RATE_LIMIT": "2 per minute", "TRUSTED_PROXIES": 1}])
def test_trusted_proxy_forwarded_for_identifies_the_client(auth, client):
    for _ in range(2):
        auth.login("a@example.com", "x", headers={"X-Forwarded-For": "198.51.100.1"})
    assert auth.login("b@example.com", "x", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert auth.login("c@example.com", "x", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 401


def test_migrations_match_the_models(tmp_path):
    """`flask db upgrade` builds the schema and autogenerate finds nothing left to migrate.

    Always on a fresh SQLite file (batch mode); the conformance run upgrades PostgreSQL.
    """
    from flask_migrate import check, upgrade

    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite'}"})
    register_migrations(app)
    with app.app_context():
        upgrade()
        check()


def cli_environment(tmp_path):
    return {**os.environ, "APP_ENV": "testing", "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "UPLOAD_FOLDER": str(tmp_path / "uploads")}


def test_flask_db_upgrade_works_from_the_command_line(tmp_path):
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    result = subprocess.run([flask, "db", "upgrade"], env=cli_environment(tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    current = subprocess.run([flask, "db", "current"], env=cli_environment(tmp_path), capture_output=True, text=True,
                             timeout=120)
    assert "(head)" in current.stdout, current.stdout + current.stderr


def test_web_workers_import_neither_alembic_nor_zxcvbn(tmp_path):
    """What gunicorn loads (wsgi:app) stays lean: alembic is for `flask db`, zxcvbn for password checks."""
    code = "import sys, wsgi; print(sorted({'alembic', 'flask_migrate', 'zxcvbn'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], env=cli_environment(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_create_admin_is_audited(app, runner, agent):
    from courrier.audit.models import AuditEvent

    create_admin(runner, "--password", STRONG_PASSWORD)
    runner.invoke(args=["create-admin", "--email", agent.email, "--nom", "X", "--prenom", "Y"])
    with app.app_context():
        events = {(e.type, e.email) for e in db.session.scalars(select(AuditEvent))}
    assert ("user_created", "chef@example.fr") in events
    assert ("user_updated", agent.email) in events


def test_openapi_declares_the_bearer_scheme_on_protected_routes_only(client):
    spec = client.get("/api/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/auth/refresh"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/auth/login"]["post"]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_pooled_connections_closed_by_the_server_while_idle_are_replaced_before_use(auth, client, agent, monkeypatch):
    """A login (no session check to retry) right after the server closed every pooled connection: 200, not 503."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0)
    assert client.get("/api/auth/me", headers=agent.headers).status_code == 200  # the pool holds connections
    outside = create_engine(TEST_DATABASE_URL, poolclass=NullPool)
    with outside.connect() as connection:
        killed = connection.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
    outside.dispose()
    assert killed >= 1
    assert auth.login(agent.email, agent.password).status_code == 200
