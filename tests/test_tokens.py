"""JWT rules of API.md section 2: claims, algorithm, types and every way a token can be wrong."""
import time

import jwt as pyjwt
import pytest


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def forge(app, claims, key=None, algorithm="HS256", headers=None):
    return pyjwt.encode(claims, key or app.config["JWT_SECRET_KEY"], algorithm=algorithm, headers=headers)


def me(client, token):
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def assert_token_error(response, code):
    assert (response.status_code, response.json["code"]) == (401, code), response.json
    assert response.json["success"] is False


def test_access_token_carries_the_contract_claims(agent):
    claims = claims_of(agent.token)
    assert {"userId", "role", "jti", "type", "iat", "nbf", "exp"} <= set(claims)
    assert (claims["userId"], claims["role"], claims["type"]) == (agent.id, "agent", "access")
    assert claims["exp"] - claims["iat"] == 900
    assert pyjwt.get_unverified_header(agent.token)["alg"] == "HS256"
    refresh = claims_of(agent.refresh)
    assert refresh["type"] == "refresh" and refresh["exp"] - refresh["iat"] == 604800


def test_token_re_signed_with_the_secret_is_accepted(app, client, agent):
    assert me(client, forge(app, claims_of(agent.token))).status_code == 200


def test_missing_header_is_token_missing(client):
    assert_token_error(client.get("/api/auth/me"), "token_missing")


def test_token_in_query_string_or_cookie_is_ignored(client, agent):
    assert_token_error(client.get(f"/api/auth/me?jwt={agent.token}&access_token={agent.token}"), "token_missing")
    client.set_cookie("access_token_cookie", agent.token)
    assert_token_error(client.get("/api/auth/me"), "token_missing")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", "Bearer", "e30.e30."])
def test_malformed_token_is_invalid(client, token):
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["code"] in ("token_invalid", "token_missing")


def test_tampered_payload_is_invalid(app, client, agent):
    head, _, signature = agent.token.split(".")
    payload = forge(app, {**claims_of(agent.token), "role": "administrateur"}).split(".")[1]
    assert_token_error(me(client, f"{head}.{payload}.{signature}"), "token_invalid")


def test_token_signed_with_another_key_is_invalid(app, client, agent):
    assert_token_error(me(client, forge(app, claims_of(agent.token), key="another-key-" + "k" * 40)), "token_invalid")


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_invalid(app, client, agent, algorithm):
    assert_token_error(me(client, forge(app, claims_of(agent.token), algorithm=algorithm)), "token_invalid")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_invalid(client, agent, alg):
    import base64
    import json

    def encode(part):
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    token = f"{encode({'alg': alg, 'typ': 'JWT'})}.{encode(claims_of(agent.token))}."
    assert_token_error(me(client, token), "token_invalid")


@pytest.mark.parametrize("claim", ["userId", "role", "jti", "type", "iat", "nbf", "exp"])
def test_missing_claim_is_invalid(app, client, agent, claim):
    claims = claims_of(agent.token)
    del claims[claim]
    assert_token_error(me(client, forge(app, claims)), "token_invalid")


@pytest.mark.parametrize("claim, value", [("userId", 42), ("jti", ["x"]), ("exp", "tomorrow"), ("type", "admin")])
def test_claim_of_the_wrong_type_is_invalid(app, client, agent, claim, value):
    assert_token_error(me(client, forge(app, {**claims_of(agent.token), claim: value})), "token_invalid")


def test_crit_header_is_invalid(app, client, agent):
    assert_token_error(me(client, forge(app, claims_of(agent.token), headers={"crit": ["exp"]})), "token_invalid")


def test_future_nbf_is_invalid(app, client, agent):
    claims = claims_of(agent.token)
    claims["nbf"] = int(time.time()) + 600
    assert_token_error(me(client, forge(app, claims)), "token_invalid")


def test_passed_exp_is_expired(app, client, agent):
    now = int(time.time())
    claims = {**claims_of(agent.token), "iat": now - 600, "nbf": now - 600, "exp": now - 300}
    assert_token_error(me(client, forge(app, claims)), "token_expired")


def test_unknown_jti_is_revoked(app, client, agent):
    assert_token_error(me(client, forge(app, {**claims_of(agent.token), "jti": "no-such-session"})), "token_revoked")


def test_token_of_another_user_id_is_refused(app, client, agent, validateur):
    response = me(client, forge(app, {**claims_of(agent.token), "userId": validateur.id}))
    assert response.status_code == 401 and response.json["code"] in ("token_invalid", "token_revoked")


def test_refresh_token_on_an_access_route_is_invalid(client, agent):
    assert_token_error(me(client, agent.refresh), "token_invalid")


def test_access_token_on_refresh_is_invalid(client, agent):
    assert_token_error(client.post("/api/auth/refresh", headers=agent.headers), "token_invalid")


def test_kid_and_jku_headers_are_ignored(app, client, agent):
    headers = {"kid": "../../../../dev/null' OR '1'='1", "jku": "http://127.0.0.1:9/keys"}
    assert me(client, forge(app, claims_of(agent.token), headers=headers)).status_code == 200


def test_large_authorization_header_is_answered_in_json(client):
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer " + "a" * 16000})
    assert response.status_code == 401 and response.json["code"] == "token_invalid"


def test_session_keys_are_time_ordered_uuids(auth):
    """UUIDv7: a later login's session and jti sort after an earlier one's (old rows prune together)."""
    import uuid

    first = auth.register_account()
    time.sleep(0.002)
    second = auth.login_account(first.email, first.password)
    for token in (first.token, second.token):
        assert uuid.UUID(claims_of(token)["jti"]).version == 7
    assert claims_of(first.token)["jti"] < claims_of(second.token)["jti"]
    assert claims_of(first.refresh)["sid"] < claims_of(second.refresh)["sid"]
