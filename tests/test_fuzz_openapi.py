"""Property-based fuzzing of every operation of the app's own OpenAPI document (schemathesis).

Each operation gets up to MAX_EXAMPLES generated requests in each mode, valid (positive) and invalid
(negative), sent in-process to the WSGI app with a live administrateur token. Half of the requests
that name a document or a user get a real one, so the fuzzed bodies reach the service code and not
only the 404. Checks: no 5xx; the body matches the documented schema (the error envelope
included); the status is documented; the content type is the declared one.

The schema is read once at collection from a throwaway app (no database needed); the requests go to
one app and database per module.
"""
import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from courrier import create_app
from tests.conftest import TEST_DATABASE_URL, STRONG_PASSWORD, AuthActions, app_on_fresh_database, base_config

# Each database's pass sends its own requests (a seed per dialect): CI's SQLite and PostgreSQL passes together
# send 24 different requests per operation and mode, where each sent the same 25 when both were derandomized.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
SEED = 2 if TEST_DATABASE_URL else 1
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Calls after which the admin's token may be dead (logout, password, sessions, users): log in again.
MAY_REVOKE = ("/api/auth/", "/api/users")
FUZZ_STATS = {"requests": 0, "operations": set(), "statuses": {}}


def load_schema():
    spec_app = create_app({"TESTING": True, "APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", spec_app)


SCHEMA = load_schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
# Negative mode needs something to make invalid: a body or query parameters (path ids are free strings).
CASES = [(operation, GenerationMode.POSITIVE) for operation in OPERATIONS] + [
    (operation, GenerationMode.NEGATIVE) for operation in OPERATIONS if len(operation.body) or len(operation.query)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = {**base_config(tmp_path_factory.mktemp("fuzz")), "AUTH_RATE_LIMIT": "1000000 per minute"}
    with app_on_fresh_database(config) as app:
        yield app


class Scene:
    """An administrateur (who fuzzes), an agent who owns documents, and fresh documents and users."""

    def __init__(self, app):
        self.client = app.test_client()
        self.auth = AuthActions(app, self.client)
        self.admin = self.auth.account("administrateur")
        self.agent = self.auth.account("agent")
        self.counter = itertools.count()
        self._tokens = None

    def tokens(self):
        if self._tokens is None:
            self._tokens = self.auth.login_account(self.admin.email, STRONG_PASSWORD)
        return self._tokens

    def forget_tokens(self):
        self._tokens = None

    def document_id(self):
        body = {"type": "entrant", "objet": "Fuzz", "expediteur": "Mairie", "destinataire": "Service"}
        response = self.client.post("/api/documents", json=body, headers=self.agent.headers)
        assert response.status_code == 201, response.json
        return response.json["data"]["id"]

    def user_id(self):
        return self.auth.account("agent").id


@pytest.fixture(scope="module")
def scene(app):
    return Scene(app)


@pytest.fixture(scope="module", autouse=True)
def report_fuzz_statistics(request):
    yield
    if FUZZ_STATS["requests"]:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(FUZZ_STATS["statuses"].items()))
        with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print(f"\nfuzz: {FUZZ_STATS['requests']} requests over {len(FUZZ_STATS['operations'])} operations "
                  f"(max_examples={MAX_EXAMPLES} per operation and mode); statuses {statuses}")


def send(app, scene, case):
    if case.path_parameters and next(scene.counter) % 2 == 0:
        if "document_id" in case.path_parameters:
            case.path_parameters["document_id"] = scene.document_id()
        if "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = scene.user_id()
    tokens = scene.tokens()
    token = tokens.refresh if case.operation.path == "/api/auth/refresh" else tokens.token
    response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
    if case.operation.path.startswith(MAY_REVOKE) and case.method.upper() != "GET":
        scene.forget_tokens()
    FUZZ_STATS["requests"] += 1
    FUZZ_STATS["operations"].add(case.operation.label)
    FUZZ_STATS["statuses"][response.status_code] = FUZZ_STATS["statuses"].get(response.status_code, 0) + 1
    return response


@pytest.mark.parametrize("operation, mode", CASES, ids=[f"{o.label} {m.value}" for o, m in CASES])
def test_operation_survives_fuzzing(app, scene, operation, mode):
    @given(case=operation.as_strategy(generation_mode=mode))
    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case):
        case.validate_response(send(app, scene, case), checks=CHECKS)

    fuzz()
