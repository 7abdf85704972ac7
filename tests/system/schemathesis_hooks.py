"""Schemathesis hooks for the CI run over the live server (tests/system/test_system_schemathesis.py).

Loaded by `schemathesis run` through SCHEMATHESIS_HOOKS; it reads the server and the administrateur's
credentials from COURRIER_FUZZ_URL, COURRIER_FUZZ_EMAIL and COURRIER_FUZZ_PASSWORD.

- `AdministrateurTokens`: the requests carry an administrateur's access token (the refresh token on
  /api/auth/refresh). Fuzzing logs out, revokes sessions and rotates refresh tokens: on a 401
  schemathesis logs in again and replays the request once (its `retry_on`, 401 by default).
- `positive_data_acceptance_beyond_the_document`: schemathesis's `positive_data_acceptance` (a request
  the document calls valid must not be refused), except for a 422 whose every message is a rule no
  JSON Schema keyword can state, listed in tests/system/schemathesis_rules.py with the reason. The run excludes
  the built-in check and runs this one instead; any other refusal of valid data fails the run, as
  does a 422 that mixes a listed rule with an unlisted one.
"""
import os

import requests
import schemathesis
from schemathesis.core.failures import Failure, Severity

from tests.system.schemathesis_rules import beyond_the_document


@schemathesis.auth()
class AdministrateurTokens:
    def get(self, case, ctx):
        response = requests.post(
            os.environ["COURRIER_FUZZ_URL"] + "/api/auth/login", timeout=30,
            json={"email": os.environ["COURRIER_FUZZ_EMAIL"], "password": os.environ["COURRIER_FUZZ_PASSWORD"]})
        response.raise_for_status()
        return response.json()["data"]

    def set(self, case, data, ctx):
        token = data["refresh_token"] if case.operation.path == "/api/auth/refresh" else data["access_token"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def messages_of(response):
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("code") != "validation_error":
        return None
    return [message for messages in (body.get("errors") or {}).values() for message in messages]


class RejectedValidData(Failure):
    """A request the document says is valid, refused for a reason the document could state."""

    kind_title = "Schema-valid request rejected"

    def __init__(self, operation, status_code, messages):
        super().__init__(operation=operation, severity=Severity.MEDIUM, message=(
            f"Valid data should have been accepted: {status_code} {messages}\n\n"
            "Declare the constraint in the schema, or list the rule in tests/system/schemathesis_rules.py "
            "if no JSON Schema keyword can state it."))
        self.status_code, self.messages = status_code, messages

    @property
    def _unique_key(self):
        return f"{self.status_code} {self.messages}"


@schemathesis.check
def positive_data_acceptance_beyond_the_document(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in (401, 403, 404, 409, 429) or response.status_code >= 500:
        return None  # the same statuses as schemathesis's own check; 5xx has its own check
    messages = messages_of(response) if response.status_code == 422 else None
    if messages and all(beyond_the_document(message) for message in messages):
        return None
    raise RejectedValidData(case.operation.label, response.status_code, messages)
