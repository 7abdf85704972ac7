"""Hostile bodies on every JSON route that writes: each ends as a 4xx JSON error, never a 500.

The targets are register, login, password change, document creation, modification and rejection,
user creation and modification. For each: deep nesting, a 10 MB body, NUL and CRLF in every field,
values of the wrong type (NoSQL-style operators, booleans, numbers, lists), non-object JSON and
empty bodies. Then the login password over 72 bytes, and the login timing (no user-enumeration
oracle).
"""
import io
import re
import uuid

import bcrypt
import pytest
from sqlalchemy import select

from courrier.auth.models import User
from courrier.extensions import db
from tests.conftest import STRONG_PASSWORD, app_on_fresh_database, base_config, bearer

NEW_PASSWORD = "Lanterne-Gravier-Houle-77"
CLIENT_ERRORS = (400, 413, 415, 422)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app and database for the whole module: every test builds its own users and documents,
    so they do not interfere, and the suite does not pay an app and a schema per test."""
    config = {**base_config(tmp_path_factory.mktemp("hostile")), "AUTH_RATE_LIMIT": "100000 per minute"}
    with app_on_fresh_database(config) as app:
        yield app


def document_body(**overrides):
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie de Lyon",
            "destinataire": "Service des finances", "date_courrier": "2026-11-02", "date_reception": "2026-11-03",
            "priorite": "normale", "description": "Dossier complet."}
    body.update(overrides)
    return body


class Target:
    """One JSON route: its method, path, auth headers, a valid body, and the type of each field."""

    def __init__(self, method, path, headers, body, kinds):
        self.method, self.path, self.headers, self.body, self.kinds = method, path, headers, body, kinds

    def send(self, client, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return client.open(self.path, method=self.method, headers=headers, **kwargs)

    def send_json(self, client, body):
        return self.send(client, json=body)


def build_target(name, client, auth):
    fresh_email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    if name == "register":
        body = auth.registration(email=fresh_email)
        kinds = dict.fromkeys(body, "string")
        return Target("POST", "/api/auth/register", {}, body, kinds)
    if name == "login":
        account = auth.account("agent")
        body = {"email": account.email, "password": STRONG_PASSWORD}
        return Target("POST", "/api/auth/login", {}, body, dict.fromkeys(body, "string"))
    if name == "password":
        account = auth.account("agent")
        body = {"current_password": STRONG_PASSWORD, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
        return Target("POST", "/api/auth/password", account.headers, body, dict.fromkeys(body, "string"))
    document_kinds = {"type": "string", "objet": "string", "expediteur": "string", "destinataire": "string",
                      "date_courrier": "date", "date_reception": "date", "priorite": "string", "description": "string"}
    if name == "documents_create":
        account = auth.account("agent")
        return Target("POST", "/api/documents", account.headers, document_body(), document_kinds)
    if name in ("documents_patch", "documents_reject"):
        account = auth.account("agent")
        response = client.post("/api/documents", json=document_body(), headers=account.headers)
        assert response.status_code == 201, response.json
        document_id = response.json["data"]["id"]
        if name == "documents_reject":
            validateur = auth.account("validateur")
            return Target("POST", f"/api/documents/{document_id}/reject", validateur.headers,
                          {"motif": "Pièce manquante."}, {"motif": "string"})
        body = document_body()
        del body["type"]
        kinds = {key: value for key, value in document_kinds.items() if key != "type"}
        return Target("PATCH", f"/api/documents/{document_id}", account.headers, body, kinds)
    admin = auth.account("administrateur")
    if name == "users_create":
        body = {**auth.registration(email=fresh_email), "role": "validateur"}
        return Target("POST", "/api/users", admin.headers, body, dict.fromkeys(body, "string"))
    if name == "users_patch":
        target = auth.account("agent")
        body = {"nom": "Lefèvre", "prenom": "Anne", "contact": "0601020304", "role": "validateur", "is_active": True}
        kinds = {"nom": "string", "prenom": "string", "contact": "string", "role": "string", "is_active": "boolean"}
        return Target("PATCH", f"/api/users/{target.id}", admin.headers, body, kinds)
    raise ValueError(name)


TARGETS = ["register", "login", "password", "documents_create", "documents_patch", "documents_reject",
           "users_create", "users_patch"]


@pytest.fixture(params=TARGETS)
def target(request, client, auth):
    return build_target(request.param, client, auth)


def assert_client_error(response, statuses=CLIENT_ERRORS):
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json", response.data[:300]
    assert response.json["success"] is False and response.json["code"]


def test_valid_body_is_accepted(client, target):
    """The baseline: without this, every rejection below could be for the wrong reason."""
    response = target.send_json(client, target.body)
    assert response.status_code in (200, 201), response.json


def test_100k_levels_of_nesting_is_400(client, target):
    depth = 100_000
    for raw in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth,
                b'{"objet": ' + b"[" * depth + b"]" * depth + b"}"):
        assert_client_error(target.send(client, data=raw, content_type="application/json"), (400,))


def test_moderate_nesting_with_escapes_is_a_client_error(client, target):
    """Deep enough to strain a recursive check, shallow enough for the JSON parser to accept."""
    for depth in (50, 400, 900):
        field = next(iter(target.kinds))
        raw = b'{"%s": ' % field.encode() + b"[" * depth + b'"\\u0000\\ud800"' + b"]" * depth + b"}"
        assert_client_error(target.send(client, data=raw, content_type="application/json"))


def test_ten_megabyte_body_is_413(client, target):
    raw = b'{"objet": "' + b"x" * 10_000_000 + b'"}'
    assert_client_error(target.send(client, data=raw, content_type="application/json"), (413,))


def test_nul_in_any_field_is_refused(client, target):
    """Login's password aside: it is compared, never stored (a wrong password, tested below)."""
    for field, kind in target.kinds.items():
        if kind != "string" or (target.path == "/api/auth/login" and field == "password"):
            continue
        for value in ("\x00", "a\x00b", target.body[field] + "\x00"):
            response = target.send_json(client, {**target.body, field: value})
            assert_client_error(response, (400, 422))
            if response.status_code == 422:
                assert field in response.json["errors"], (field, response.json)


def test_nul_in_a_key_is_refused(client, target):
    assert_client_error(target.send_json(client, {**target.body, "objet\x00": "x"}), (400, 422))


def test_lone_surrogate_in_any_field_is_400(client, target):
    for field in target.kinds:
        raw = ('{"%s": "a\\ud800b"}' % field).encode()
        assert_client_error(target.send(client, data=raw, content_type="application/json"), (400,))


def test_crlf_in_any_field_never_breaks_the_server(client, target):
    """Line breaks are text like any other: refused by a field's rules or stored as sent, never a 500.

    Once a document is rejected, the next rejections are rightly 409; a registered email, 422.
    """
    for value in ("\r\n", "a\r\nX-Injected: 1", "\r\n\r\n<html>", "\n", "\r", "\u2028\u2029"):
        for field, kind in target.kinds.items():
            if kind != "string":
                continue
            response = target.send_json(client, {**target.body, field: target.body[field] + value})
            assert response.status_code < 500, (field, response.data[:300])
            assert response.mimetype == "application/json"
            assert "X-Injected" not in response.headers


WRONG_TYPES = {
    "string": [{"$ne": None}, {"$gt": ""}, True, False, 12345, 1.5, [], ["a"], {}],
    "date": [{"$ne": None}, True, 20261102, [], {}, "2026-13-45", "demain", "2026-11-02T25:00:00"],
    "boolean": [{"$ne": None}, "true", "false", 1, 0, [], {}, None],
}


def test_wrong_types_are_422_on_the_field(client, target):
    for field, kind in target.kinds.items():
        for value in WRONG_TYPES[kind]:
            response = target.send_json(client, {**target.body, field: value})
            assert_client_error(response, (422,))
            assert field in response.json["errors"], (field, value, response.json)


def test_null_and_odd_numbers_never_break_the_server(client, target):
    for value in (None, 1e308, -1, 10**30):
        for field in target.kinds:
            response = target.send_json(client, {**target.body, field: value})
            assert response.status_code < 500, (field, response.data[:300])


MALFORMED_BODIES = [
    # non-finite and huge numbers
    (b"1e999999", (400,)), (b'{"objet": NaN}', (400, 422)), (b'{"objet": Infinity}', (400, 422)),
    (b'{"objet": -Infinity}', (400, 422)), (b'{"objet": 1' + b"0" * 5000 + b"}", (400, 422)),
    # JSON that is not an object
    (b"[]", (400,)), (b"[{}]", (400,)), (b"[1, 2]", (400,)), (b'"texte"', (400,)), (b"42", (400,)),
    (b"true", (400,)), (b"null", (400,)),
    # empty, or nothing but whitespace (not a JSON text)
    (b"", (422,)), (b"{}", (422,)), (b"   \n\t", (400, 422)),
    # broken encodings and syntax
    (b"\xff\xfe{\x00}", (400,)), (b'{"objet": "\xc3\x28"}', (400,)), (b"\xef\xbb\xbf{}", (400, 422)),
    (b'{"a":1}garbage', (400,)), (b"{'objet': 'x'}", (400,)), (b'{"objet": "x",}', (400,)),
    (b'{"objet": "\x01\x02"}', (400,)),
]


def test_malformed_bodies_are_client_errors(client, target):
    for raw, statuses in MALFORMED_BODIES:
        assert_client_error(target.send(client, data=raw, content_type="application/json"), statuses)
    assert_client_error(target.send(client), (422,))  # no body and no Content-Type at all


def test_the_valid_body_wrapped_in_an_array_is_400(client, target):
    assert_client_error(target.send_json(client, [target.body]), (400,))


def test_unknown_and_privileged_fields_are_refused(client, target):
    for extra in ({"is_admin": True}, {"id": str(uuid.uuid4())}, {"password_hash": "$2b$04$" + "a" * 53},
                  {"__proto__": {"role": "administrateur"}}, {"created_by": "x"}):
        assert_client_error(target.send_json(client, {**target.body, **extra}), (422,))


HOSTILE_QUERIES = ["q=%00", "page=%00", "per_page=1e9", "page=-1", "q=" + "%ff" * 300, "statut[$ne]=x",
                   "page=1&page=2&page=x", "%00=1", "q=%25%5F%5C", "q=' OR '1'='1", "date_from=0000-00-00",
                   "active=%00", "user_id=../../x", "ip=" + "9" * 1000, "type[]=entrant", "per_page=" + "9" * 5000]


@pytest.mark.parametrize("path", ["/api/documents", "/api/users", "/api/audit/events", "/api/audit/sessions",
                                  "/api/auth/sessions"])
def test_hostile_query_strings_are_client_errors(client, auth, path):
    admin = auth.account("administrateur")
    for query in HOSTILE_QUERIES:
        response = client.get(f"{path}?{query}", headers=admin.headers)
        assert response.status_code in (200, 400, 422), (query, response.status_code, response.data[:300])
        assert response.mimetype == "application/json"


@pytest.mark.parametrize("template", ["/api/documents/{}", "/api/documents/{}/history", "/api/documents/{}/attachments",
                                      "/api/users/{}", "/api/documents/{}/attachments/{}"])
def test_hostile_path_segments_are_404(client, auth, template):
    admin = auth.account("administrateur")
    for segment in ("%00", "..%2F..%2Fetc%2Fpasswd", "' OR '1'='1", "x" * 5000, "%ff%fe", "%ed%a0%80",
                    "00000000-0000-0000-0000-000000000000"):
        response = client.get(template.format(segment, segment), headers=admin.headers)
        assert (response.status_code, response.json["code"]) == (404, "not_found"), (segment, response.data[:300])


@pytest.mark.parametrize("user_agent", ["a\x00b", "é" * 5000, "\u202e"])
def test_hostile_user_agent_never_breaks_login(client, auth, user_agent):
    account = auth.account("agent")
    response = auth.login(account.email, STRONG_PASSWORD, headers={"User-Agent": user_agent})
    assert response.status_code in (200, 400), response.data[:300]
    assert response.mimetype == "application/json"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# Werkzeug 3.1 leaves the temporary file of a truncated multipart part for the garbage collector to
# close (a ResourceWarning, no leak beyond the request): not the app's to fix.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_hostile_upload_filenames_and_multipart_bodies(client, auth):
    """Upload names are client data like any other: NUL, CRLF, traversal, 10 000 characters, bidi
    controls, invalid UTF-8; and multipart bodies that are truncated or lack their boundary."""
    agent = auth.account("agent")
    body = {"type": "entrant", "objet": "Pièces", "expediteur": "Mairie", "destinataire": "Service"}
    document_id = client.post("/api/documents", json=body, headers=agent.headers).json["data"]["id"]
    path = f"/api/documents/{document_id}/attachments"
    for name in ("a\x00b.pdf", "a\r\nX-Injected: 1.pdf", "x" * 10_000 + ".pdf", "../../etc/passwd", "", ".",
                 "\u00e9\u202e.pdf", "con.pdf", "a.pdf\x00.exe"):
        response = client.post(path, data={"file": (io.BytesIO(PDF), name)}, headers=agent.headers,
                               content_type="multipart/form-data")
        assert response.status_code in (201, 400, 413, 415, 422), (name, response.data[:300])
        assert response.mimetype == "application/json"
        if response.status_code == 201:
            download = client.get(f"{path}/{response.json['data']['id']}", headers=agent.headers)
            download.close()
            assert download.status_code == 200 and "X-Injected" not in download.headers
            assert "/" not in response.json["data"]["filename"] and "\x00" not in response.json["data"]["filename"]
    part = b'--xx\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n\r\n'
    with_boundary = "multipart/form-data; boundary=xx"
    for raw, content_type in ((part % b"a.pdf" + PDF, with_boundary),  # truncated
                              (b"garbage", with_boundary),
                              (part % b"\xed\xa0\x80.pdf" + PDF + b"\r\n--xx--\r\n", with_boundary),
                              (part % b"a.pdf" + PDF + b"\r\n--xx--\r\n", "multipart/form-data")):
        response = client.post(path, data=raw, headers={**agent.headers, "Content-Type": content_type})
        assert response.status_code in (201, 400, 413, 415, 422), (raw[:80], response.data[:300])
        assert response.mimetype == "application/json"


# ----------------------------------------------------------------- login passwords over 72 bytes


@pytest.mark.parametrize("known", [True, False])
def test_100_byte_password_is_invalid_credentials(client, auth, known):
    email = auth.account("agent").email if known else f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    response = auth.login(email, "p" * 100)
    assert (response.status_code, response.json["code"]) == (401, "invalid_credentials")


@pytest.mark.parametrize("known", [True, False])
@pytest.mark.parametrize("password", ["\x00", STRONG_PASSWORD + "\x00", "\x00" + STRONG_PASSWORD,
                                      STRONG_PASSWORD[:8] + "\x00" + STRONG_PASSWORD[8:]])
def test_login_password_with_a_nul_is_a_wrong_password(client, auth, known, password):
    """Not the 422 of other fields: login tells nothing about a password but that it does not match."""
    email = auth.account("agent").email if known else f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    response = auth.login(email, password)
    assert (response.status_code, response.json["code"]) == (401, "invalid_credentials"), response.json
    assert "errors" not in response.json


def test_password_whose_first_72_bytes_match_is_still_wrong(app, client, auth):
    """bcrypt ignores bytes after the 72nd: the app must not let a longer password through."""
    password = "Tournesol-Quai-Brume-" + "x" * 51  # 72 bytes, registered
    account = auth.register_account(password=password, password_confirmation=password)
    assert auth.login(account.email, password).status_code == 200
    response = auth.login(account.email, password + "anything")
    assert (response.status_code, response.json["code"]) == (401, "invalid_credentials")


def test_multibyte_password_over_72_bytes_is_refused_at_registration(auth):
    password = "é" * 37  # 74 bytes, 37 characters
    response = auth.register(password=password, password_confirmation=password)
    assert response.status_code == 422 and "password" in response.json["errors"]


# ----------------------------------------------------------------- timing


@pytest.fixture
def bcrypt_comparisons(monkeypatch):
    """Every bcrypt comparison made, as the cost of the hash compared against (`$2b$<cost>$…`)."""
    costs = []
    check = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        costs.append(int(hashed.split(b"$")[2]))
        return check(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    return costs


def test_login_time_does_not_reveal_whether_the_account_exists(app, client, auth, bcrypt_comparisons):
    """Unknown email, wrong, over-long or NUL-bearing password and deactivated account: each refusal makes
    exactly one bcrypt comparison at the accounts' cost, the work of a right password, and says the same.

    bcrypt's time depends on its cost only, so the same comparison count and cost is the same time, checked
    here without a clock (a timing measurement fails on a busy machine, not on an oracle)."""
    known = auth.account("agent")
    inactive = auth.account("agent")
    with app.app_context():
        db.session.scalar(select(User).where(User.id == inactive.id)).is_active = False
        db.session.commit()
    cases = {
        "right_password": (known.email, STRONG_PASSWORD),
        "unknown_email": (f"ghost-{uuid.uuid4().hex[:6]}@example.com", STRONG_PASSWORD),
        "wrong_password": (known.email, "Mauvais-Mot-De-Passe-1"),
        "over_long_password": (known.email, "Mauvais-" + "x" * 100),
        "nul_in_password": (known.email, f"{STRONG_PASSWORD}\x00"),
        "deactivated": (inactive.email, STRONG_PASSWORD),
    }
    rounds = app.config["BCRYPT_ROUNDS"]
    answers = {}
    for name, (email, password) in cases.items():
        bcrypt_comparisons.clear()
        response = auth.login(email, password)
        assert bcrypt_comparisons == [rounds], name
        answers[name] = (response.status_code, response.json.get("code"), response.json.get("message"))
    assert answers.pop("right_password")[0] == 200
    assert len(set(answers.values())) == 1 and next(iter(answers.values()))[:2] == (401, "invalid_credentials")


def test_deactivated_account_with_the_right_password_is_the_same_answer(app, client, auth):
    account = auth.account("agent")
    wrong = auth.login(account.email, "Pas-Le-Bon-Mot-De-Passe")
    with app.app_context():
        db.session.scalar(select(User).where(User.id == account.id)).is_active = False
        db.session.commit()
    inactive = auth.login(account.email, STRONG_PASSWORD)
    unknown = auth.login("personne@example.com", STRONG_PASSWORD)
    answers = {(r.status_code, r.json["code"], r.json["message"]) for r in (wrong, inactive, unknown)}
    assert len(answers) == 1 and answers.pop()[:2] == (401, "invalid_credentials")
    assert client.get("/api/auth/me", headers=bearer(account.token)).status_code == 401


# What is blank: the characters both Python and ECMA-262 (JSON Schema's regular expressions) call spaces.
ECMA_262_SPACES = set("\t\v\f \xa0\ufeff\n\r\u2028\u2029\u1680\u202f\u205f\u3000")
ECMA_262_SPACES |= {chr(code) for code in range(0x2000, 0x200B)}
PYTHON_SPACES = {chr(code) for code in range(0x10000) if chr(code).isspace()}


@pytest.mark.parametrize("character", sorted(ECMA_262_SPACES | PYTHON_SPACES), ids=lambda c: f"U+{ord(c):04X}")
def test_the_server_and_the_document_agree_on_what_is_blank(client, auth, character):
    """A required text of one space-like character is refused exactly when the document's pattern refuses it,
    and the pattern names its spaces itself: `\\s` means different sets in Python and in ECMA-262."""
    agent = auth.account("agent")
    pattern = client.get("/api/openapi.json").json["components"]["schemas"]["DocumentCreate"]["properties"][
        "objet"]["pattern"]
    assert "\\s" not in pattern and "\\S" not in pattern
    body = {"type": "entrant", "objet": character, "expediteur": "Mairie", "destinataire": "Préfecture"}
    response = client.post("/api/documents", json=body, headers=agent.headers)
    blank = character in ECMA_262_SPACES and character in PYTHON_SPACES
    assert response.status_code == (422 if blank else 201), response.json
    assert bool(re.fullmatch(pattern, character)) is not blank
