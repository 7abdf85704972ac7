"""Schemathesis hooks for the CI run over the live server (tests/system/test_system_schemathesis.py).

Loaded by `schemathesis run` through SCHEMATHESIS_HOOKS; it reads the server and the administrateur's
credentials from COURRIER_FUZZ_URL, COURRIER_FUZZ_EMAIL and COURRIER_FUZZ_PASSWORD.

- `AdministrateurTokens`: the requests carry an administrateur's access token (the refresh token on
  /api/auth/refresh). Fuzzing logs out, revokes sessions and rotates refresh tokens: on a 401
  schemathesis logs in again and replays the request once (its `retry_on`, 401 by default).
- `positive_data_acceptance_beyond_the_document`: schemathesis's `positive_data_acceptance` (a request
  the document calls valid must not be refused), except for a 422 whose every message is a rule no
  JSON Schema keyword can state, listed in RULES_BEYOND_THE_DOCUMENT with the reason. The run excludes
  the built-in check and runs this one instead; any other refusal of valid data fails the run, as
  does a 422 that mixes a listed rule with an unlisted one.
"""
import os
import re

import requests
import schemathesis
from schemathesis.core.failures import Failure, Severity

# Each: why the document cannot say it, and the messages (regular expressions, whole messages) of the rule.
# Refusals with another status than 422 (409 for a state, 403, 404) are not this check's business.
RULES_BEYOND_THE_DOCUMENT = {
    "compares two fields (a period, a primary service among the services, one of code or recovery code, "
    "a postcode with its country written any way, a contact with the one of the URL)": [
        r"^La fin de la période précède son début\.$",
        r"^Le service principal doit faire partie de la liste des services\.$",
        r"^Envoyez soit `code`, soit `recovery_code`\.$",
        r"^code_postal : Un code postal français compte 5 chiffres\.$",
        r"^Un correspondant ne peut pas être fusionné avec lui-même\.$",
        # Statable (`anyOf`: no responsable_id, or a service_id), but checked in documents/routing.py, not
        # by the schema: to move into DocumentCreateSchema's rules between fields.
        r"^Choisissez d'abord le service traitant\.$",
    ],
    "names rows that must exist, or be unique, in the database": [
        r"^Service parent inconnu\.$", r"^(Service|Utilisateur)\(s\) inconnu\(s\) ou désactivé\(s\) : .+\.$",
        r"^Typologie inconnue ou désactivée\.$", r"^Correspondant inconnu\.$",
        r"^Ce code est déjà utilisé par (un autre service|une autre typologie)\.$",
        r"^Cette adresse e-mail est déjà utilisée\.$",
        r"^Le responsable doit être un membre actif du service traitant\.$",
        r"^Un service ne peut pas être placé sous lui-même ni sous l'un de ses sous-services\.$",
        r"^Le bureau du courrier est déjà le service .+ : retirez-lui d'abord ce rôle\.$",
    ],
    "depends on the stored resource (a PATCH keeps the contact's type; the mail office stays active)": [
        r"^Obligatoire pour une (personne|organisation)\.$",
        r"^Le bureau du courrier ne peut pas être désactivé : retirez-lui d'abord ce rôle\.$",
    ],
    "compares a date with today's (Paris) date": [
        r"^L'accusé de réception ne peut pas être daté de demain ou plus tard\.$",
    ],
    "checks a secret (the current password, a one-time code)": [
        r"^Mot de passe actuel incorrect\.$", r"^Mot de passe incorrect\.$", r"^Mot de passe ou code incorrect\.$",
        r"^Code incorrect : vérifiez l'heure de votre téléphone et réessayez\.$", r"^Code incorrect ou déjà utilisé\.$",
        r"^Saisissez le code de votre application d'authentification\.$",
    ],
    "is the password policy: characters counted by role and settings, then bytes, then zxcvbn": [
        r"^Le mot de passe doit contenir au moins \d+ caractères \(.+\)\.$",
        r"^Le mot de passe ne doit pas dépasser \d+ octets en UTF-8 ",
        r"^Ce mot de passe figure dans les listes de mots de passe courants : choisissez-en un autre\.$",
        r"^Mot de passe trop facile à deviner : allongez-le ou mélangez des mots inattendus\.$",
        r"^La confirmation ne correspond pas au mot de passe\.$",
    ],
    "reads a file's content (PDF, PNG or JPEG by its first bytes, whatever its declared type)": [
        r"^Type de fichier non accepté : PDF, PNG ou JPEG uniquement", r"^Le fichier est vide\.$",
    ],
}
# DOTALL: a message may quote what was sent (unknown ids), control characters and line breaks included.
PATTERNS = [re.compile(pattern, re.DOTALL) for patterns in RULES_BEYOND_THE_DOCUMENT.values() for pattern in patterns]


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


def beyond_the_document(message):
    return any(pattern.search(message) for pattern in PATTERNS)


class RejectedValidData(Failure):
    """A request the document says is valid, refused for a reason the document could state."""

    kind_title = "Schema-valid request rejected"

    def __init__(self, operation, status_code, messages):
        super().__init__(operation=operation, severity=Severity.MEDIUM, message=(
            f"Valid data should have been accepted: {status_code} {messages}\n\n"
            "Declare the constraint in the schema, or list the rule in tests/system/schemathesis_hooks.py "
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
