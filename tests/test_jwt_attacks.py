"""Attacks on the access token (API.md section 2) beyond the basic rules of test_tokens.py.

Every forged token here is refused with 401 and a token code; none of them may reach a view. The
`jku` header over a real server (a listener that must receive nothing) is in tests/system.
"""
import base64
import hashlib
import hmac
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import delete

from courrier.auth.models import AuthSession, User
from courrier.extensions import db


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def me(client, token):
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def assert_refused(response, *codes):
    codes = codes or ("token_invalid",)
    assert response.status_code == 401, response.data
    assert response.mimetype == "application/json"
    assert response.json["success"] is False and response.json["code"] in codes, response.json


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(claims, key, header=None):
    """Sign by hand, so that any key works, the empty one included (PyJWT refuses it)."""
    key = key if isinstance(key, bytes) else key.encode()
    head = b64(header if isinstance(header, bytes) else {"alg": "HS256", "typ": "JWT", **(header or {})})
    body = b64(claims)
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_rs256_token_signed_with_an_attacker_key_is_invalid(client, agent, rsa_key):
    token = pyjwt.encode(claims_of(agent.token), rsa_key, algorithm="RS256")
    assert_refused(me(client, token))


def test_rs256_token_carrying_its_own_public_key_is_invalid(client, agent, rsa_key):
    """The `jwk` header (CVE-2018-0114 style): the server must never trust a key the token brings."""
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    token = pyjwt.encode(claims_of(agent.token), rsa_key, algorithm="RS256", headers={"jwk": jwk, "kid": "attacker"})
    assert_refused(me(client, token))


def test_es256_token_is_invalid(client, agent):
    key = ec.generate_private_key(ec.SECP256R1())
    assert_refused(me(client, pyjwt.encode(claims_of(agent.token), key, algorithm="ES256")))


def test_hs256_signed_with_a_public_key_as_secret_is_invalid(client, agent, rsa_key):
    """Algorithm confusion: HMAC keyed with a public PEM an attacker can know."""
    assert_refused(me(client, hs256(claims_of(agent.token), public_pem(rsa_key))))


def test_hs512_re_signed_with_the_real_secret_is_invalid(app, client, agent):
    """Even the right secret does not make another algorithm acceptable (no algorithm downgrade/upgrade)."""
    token = pyjwt.encode(claims_of(agent.token), app.config["JWT_SECRET_KEY"], algorithm="HS512")
    assert_refused(me(client, token))


def test_token_signed_with_secret_key_instead_of_jwt_secret_key_is_invalid(app, client, agent):
    token = pyjwt.encode(claims_of(agent.token), app.config["SECRET_KEY"], algorithm="HS256")
    assert_refused(me(client, token))


@pytest.mark.parametrize("kid", [
    "../../../../../../dev/null",
    "/dev/null",
    "../../../../etc/passwd",
    "' OR '1'='1",
    "x' UNION SELECT 'secret' --",
    "1; DROP TABLE sessions; --",
    "\u0000",
    "k" * 10_000,
])
def test_kid_never_selects_the_key(client, agent, kid):
    """A kid naming an empty file (or an SQL string) must not make the server verify with that content."""
    for key in ("", "\n", "secret", "root:x:0:0:root:/root:/bin/bash\n", kid):
        assert_refused(me(client, hs256(claims_of(agent.token), key, {"kid": kid})))


def test_kid_with_the_real_signature_changes_nothing(app, client, agent):
    token = pyjwt.encode(claims_of(agent.token), app.config["JWT_SECRET_KEY"], algorithm="HS256",
                         headers={"kid": "' OR '1'='1"})
    assert me(client, token).status_code == 200
    with app.app_context():
        assert db.session.query(AuthSession).count() == 1  # no statement of the kid ran


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_with_a_signature_part_is_invalid(client, agent, alg):
    """The unsigned token with a leftover signature, and with an empty one, both refused."""
    head, body, signature = agent.token.split(".")
    forged = f"{b64({'alg': alg, 'typ': 'JWT'})}.{body}"
    assert_refused(me(client, f"{forged}.{signature}"))
    assert_refused(me(client, f"{forged}."))


@pytest.mark.parametrize("claim", ["exp", "jti"])
def test_token_without_exp_or_jti_is_invalid_even_well_signed(app, client, agent, claim):
    claims = claims_of(agent.token)
    del claims[claim]
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_refused(me(client, token))


def test_far_future_exp_cannot_outlive_the_session(app, client, agent):
    """A token re-signed with exp in the year 9999 still dies with its session."""
    claims = {**claims_of(agent.token), "exp": 253402300799}
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
    assert_refused(me(client, token), "token_revoked")


def test_nbf_in_the_future_by_one_minute_is_invalid(app, client, agent):
    claims = {**claims_of(agent.token), "nbf": int(time.time()) + 60}
    assert_refused(me(client, pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")))


def test_access_token_whose_session_row_was_deleted_is_revoked(app, client, agent):
    assert me(client, agent.token).status_code == 200
    with app.app_context():
        db.session.execute(delete(AuthSession).where(AuthSession.user_id == agent.id))
        db.session.commit()
    assert_refused(me(client, agent.token), "token_revoked")
    assert_refused(client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {agent.refresh}"}),
                   "token_revoked")


def test_token_of_a_deleted_user_is_refused(app, client, agent):
    with app.app_context():
        db.session.execute(delete(AuthSession).where(AuthSession.user_id == agent.id))
        db.session.execute(delete(User).where(User.id == agent.id))
        db.session.commit()
    assert_refused(me(client, agent.token), "token_revoked", "token_invalid")


def test_session_of_another_user_cannot_be_borrowed(app, client, agent, validateur):
    """A valid jti of one session with the userId of another: the pair must match."""
    claims = {**claims_of(validateur.token), "userId": agent.id}
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_refused(me(client, token), "token_invalid", "token_revoked")


@pytest.mark.parametrize("role", ["administrateur", "validateur"])
def test_role_claim_does_not_grant_the_role(app, client, agent, role):
    """Even with the real secret, a raised `role` claim opens nothing: the role is read from the database."""
    token = pyjwt.encode({**claims_of(agent.token), "role": role}, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    response = client.get("/api/users", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json["code"]) == (403, "forbidden")
    assert me(client, token).json["data"]["role"] == "agent"


@pytest.mark.parametrize("where", [
    "query_jwt", "query_access_token", "query_token", "body", "cookie", "x_access_token", "basic_scheme",
    "token_scheme", "lowercase_header_only_in_query",
])
def test_token_outside_the_bearer_header_is_not_read(client, agent, where):
    token = agent.token
    kwargs = {}
    path = "/api/auth/me"
    if where.startswith("query_"):
        path += f"?{where.removeprefix('query_')}={token}"
    elif where == "lowercase_header_only_in_query":
        path += f"?authorization=Bearer%20{token}"
    elif where == "body":
        response = client.post("/api/auth/logout", json={"access_token": token, "jwt": token})
        assert_refused(response, "token_missing")
        return
    elif where == "cookie":
        client.set_cookie("access_token_cookie", token)
        client.set_cookie("jwt", token)
    elif where == "x_access_token":
        kwargs["headers"] = {"X-Access-Token": token, "X-Auth-Token": token}
    elif where == "basic_scheme":
        kwargs["headers"] = {"Authorization": f"Basic {token}"}
    elif where == "token_scheme":
        kwargs["headers"] = {"Authorization": f"Token {token}"}
    response = client.get(path, **kwargs)
    assert_refused(response, "token_missing", "token_invalid")


@pytest.mark.parametrize("mangle", [
    lambda t: t + ".extra",
    lambda t: t.replace(".", ".."),
    lambda t: t.split(".")[0] + "." + b64(b"\xff\xfe not json") + "." + t.split(".")[2],
    lambda t: b64(b"[]") + "." + t.split(".", 1)[1],
    lambda t: b64({"alg": "HS256", "typ": "JWT", "b64": False, "crit": ["b64"]}) + "." + t.split(".", 1)[1],
    lambda t: t + " " + t,
    lambda t: "\u00e9" + t,
])
def test_malformed_variants_of_a_real_token_are_invalid(client, agent, mangle):
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer " + mangle(agent.token)})
    assert_refused(response, "token_invalid", "token_missing")


def test_payload_that_is_a_json_array_is_invalid(app, client, agent):
    assert_refused(me(client, hs256([1, 2], app.config["JWT_SECRET_KEY"])))


@pytest.mark.parametrize("header", [b"[]", b"null", b'"HS256"', b'{"alg": ["HS256"]}', b'{"alg": null}'])
def test_header_that_is_not_an_object_is_invalid(app, client, agent, header):
    assert_refused(me(client, hs256(claims_of(agent.token), app.config["JWT_SECRET_KEY"], header)))
