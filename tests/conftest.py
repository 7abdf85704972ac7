"""Fixtures: an app on a fresh database per test, its client and CLI runner, and account helpers.

The suite runs on SQLite by default; with TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL it runs
the same tests against them (rate-limit storage on Redis).
"""
import os
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from courrier import create_app
from courrier.auth.models import User
from courrier.auth.passwords import hash_password
from courrier.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
STRONG_PASSWORD = "Tournesol-Quai-Brume-42"


def base_config(tmp_path):
    config = {
        "TESTING": True,
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": 4,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "AUTH_RATE_LIMIT": "1000 per minute",
        # Most tests register their users; tests of the closed default set it to False (tests/test_auth.py).
        "REGISTRATION_OPEN": True,
        # Tests of the second factor turn it on for their roles (tests/test_mfa.py); elsewhere it is off.
        "MFA_REQUIRED_ROLES": (),
        # Bcrypt slots of their own (other test runs on the machine hash too), and room to wait for one.
        "PASSWORD_HASHING_LOCK_DIR": str(tmp_path / "bcrypt-slots"),
        "PASSWORD_HASHING_WAIT_MS": 10_000,
        # One key space per test, so that limits never leak from one test to the next on Redis.
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    if TEST_REDIS_URL:
        config["RATELIMIT_STORAGE_URI"] = TEST_REDIS_URL
    return config


@pytest.fixture
def app_config():
    """Override in a test module (or with `@pytest.mark.parametrize`) to change settings."""
    return {}


@contextmanager
def app_on_fresh_database(config):
    """An app whose database holds the current schema and nothing else; disposed of afterwards."""
    app = create_app(config)
    with app.app_context():
        if TEST_DATABASE_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path, app_config):
    with app_on_fresh_database({**base_config(tmp_path), **app_config}) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Account:
    """A logged-in user: its id, email, password and tokens."""

    def __init__(self, email, password, data):
        self.email, self.password = email, password
        self.user = data["user"]
        self.id = self.user["id"]
        self.token = data["access_token"]
        self.refresh = data["refresh_token"]

    @property
    def headers(self):
        return bearer(self.token)


class AuthActions:
    """Register, log in and create users of any role through the API."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    @staticmethod
    def registration(**overrides):
        body = {"email": f"agent-{uuid.uuid4().hex[:10]}@example.com", "password": STRONG_PASSWORD,
                "password_confirmation": STRONG_PASSWORD, "nom": "Martin", "prenom": "Claire",
                "contact": "0102030405"}
        body.update(overrides)
        return body

    def register(self, **overrides):
        body = self.registration(**overrides)
        return self.client.post("/api/auth/register", json=body)

    def register_account(self, **overrides):
        body = self.registration(**overrides)
        response = self.client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.json
        return Account(body["email"], body["password"], response.json["data"])

    def login(self, email, password, **kwargs):
        return self.client.post("/api/auth/login", json={"email": email, "password": password}, **kwargs)

    def login_account(self, email, password):
        response = self.login(email, password)
        assert response.status_code == 200, response.json
        return Account(email, password, response.json["data"])

    def account(self, role="agent", **fields):
        """A user of `role`, created directly in the database, then logged in through the API."""
        email = fields.pop("email", f"{role}-{uuid.uuid4().hex[:10]}@example.com")
        with self.app.app_context():
            db.session.add(User(email=email, password_hash=hash_password(STRONG_PASSWORD),
                                nom=fields.get("nom", "Durand"), prenom=fields.get("prenom", "Paul"),
                                contact=None, role=role, is_active=True))
            db.session.commit()
        return self.login_account(email, STRONG_PASSWORD)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


@pytest.fixture
def agent(auth):
    return auth.account("agent")


@pytest.fixture
def validateur(auth):
    return auth.account("validateur")


@pytest.fixture
def admin(auth):
    return auth.account("administrateur")


# ---------------------------------------------------------------- an organisation (issues 12–14)

def service(client, admin, code, parent=None, **fields):
    body = {"code": code, "nom": f"Service {code}", "parent_id": parent["id"] if parent else None, **fields}
    response = client.post("/api/services", json=body, headers=admin.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def join(client, admin, account, *services):
    response = client.put(f"/api/users/{account.id}/services", json={"services": [s["id"] for s in services]},
                          headers=admin.headers)
    assert response.status_code == 200, response.json


@pytest.fixture
def org(client, auth, admin):
    """DG > FIN > COMPTA, RH beside DG, BC the mail office; one or two people in each."""
    o = SimpleNamespace(admin=admin)
    o.dg = service(client, admin, "DG")
    o.fin = service(client, admin, "FIN", o.dg)
    o.compta = service(client, admin, "COMPTA", o.fin)
    o.rh = service(client, admin, "RH")
    o.bc = service(client, admin, "BC", is_mail_office=True)
    people = {
        "registrar": ("agent", []), "fin_agent": ("agent", [o.fin]), "fin_agent2": ("agent", [o.fin]),
        "dg_validateur": ("validateur", [o.dg]), "fin_validateur": ("validateur", [o.fin]),
        "compta_validateur": ("validateur", [o.compta]), "rh_validateur": ("validateur", [o.rh]),
        "dg_agent": ("agent", [o.dg]), "rh_agent": ("agent", [o.rh]), "bc_agent": ("agent", [o.bc]),
        "copied_agent": ("agent", []), "outsider": ("agent", []), "lone_validateur": ("validateur", []),
    }
    for name, (role, services) in people.items():
        account = auth.account(role, nom=name)
        if services:
            join(client, admin, account, *services)
        setattr(o, name, account)
    return o


def create(client, account, expected=201, **fields):
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie", "destinataire": "Préfecture",
            **fields}
    response = client.post("/api/documents", json=body, headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def assign(client, account, document, **body):
    return client.post(f"/api/documents/{document['id']}/assign", json=body, headers=account.headers)
