"""Several instances: two gunicorn servers (2 workers each) on different ports share one PostgreSQL
database and one Redis. A revocation on one is seen by the other at the very next request, and the
login rate limit counts across both.

Both servers trust one proxy hop (TRUSTED_PROXIES=1), so that each test speaks from its own client
address (X-Forwarded-For) and its rate-limit counters start at zero; the Redis key prefix is unique
to this run, so parallel runs sharing the Redis never meet.
"""
import uuid

import pytest

from tests.system.conftest import (
    ADMIN_PASSWORD, TEST_REDIS_URL, Client, needs_postgres, needs_redis, registration, server_env,
    unique_email,
)

pytestmark = [pytest.mark.system, needs_postgres, needs_redis]


def client_ip():
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


@pytest.fixture(scope="module")
def pair(postgres_database, servers, tmp_path_factory):
    """Instances A and B: same database, same Redis, same secrets (one deployment)."""
    env = server_env(postgres_database.url_string, tmp_path_factory.mktemp("pair"), AUTH_RATE_LIMIT="5 per minute",
                     RATELIMIT_STORAGE_URI=TEST_REDIS_URL, RATELIMIT_KEY_PREFIX=f"system-{uuid.uuid4().hex}",
                     TRUSTED_PROXIES=1)
    admin_email = postgres_database.prepare(env)
    a = servers.start("instance-a", env)
    b = servers.start("instance-b", env)
    return a, b, admin_email


def registered(server):
    account = Client(server, unique_email())
    reply = account.register(headers=client_ip())
    assert reply.status == 201, reply.body
    return account


def test_token_from_one_instance_works_on_the_other(pair):
    a, b, _ = pair
    account = registered(a)
    assert b.call("GET", "/api/auth/me", token=account.token).status == 200


def test_logout_on_a_is_refused_on_b_at_the_next_request(pair):
    a, b, _ = pair
    account = registered(a)
    assert b.call("GET", "/api/auth/me", token=account.token).status == 200
    assert a.call("POST", "/api/auth/logout", token=account.token).status == 200
    reply = b.call("GET", "/api/auth/me", token=account.token)
    assert (reply.status, reply.code) == (401, "token_revoked")
    assert b.call("POST", "/api/auth/refresh", token=account.refresh).status == 401


def test_refresh_rotation_on_b_kills_the_old_access_token_on_a(pair):
    a, b, _ = pair
    account = registered(a)
    reply = b.call("POST", "/api/auth/refresh", token=account.refresh)
    assert reply.status == 200
    assert (a.call("GET", "/api/auth/me", token=account.token).status) == 401
    assert a.call("GET", "/api/auth/me", token=reply.data["access_token"]).status == 200
    # Reuse of the rotated refresh token on A: theft, the whole session dies on B too.
    assert a.call("POST", "/api/auth/refresh", token=account.refresh).code == "token_revoked"
    assert b.call("GET", "/api/auth/me", token=reply.data["access_token"]).code == "token_revoked"


def test_admin_deactivation_on_b_is_seen_on_a(pair):
    a, b, admin_email = pair
    admin = Client(b, admin_email, ADMIN_PASSWORD)
    assert admin.login(headers=client_ip()).status == 200
    account = registered(a)
    reply = b.call("PATCH", f"/api/users/{account.user_id}", {"is_active": False}, token=admin.token)
    assert reply.status == 200, reply.body
    assert a.call("GET", "/api/auth/me", token=account.token).status == 401


def test_password_change_on_a_revokes_the_other_sessions_on_b(pair):
    a, b, _ = pair
    account = registered(a)
    other = Client(b, account.email)
    assert other.login(headers=client_ip()).status == 200
    new_password = "Lanterne-Gravier-Houle-77"
    reply = a.call("POST", "/api/auth/password", {"current_password": account.password, "password": new_password,
                                                  "password_confirmation": new_password}, token=account.token)
    assert reply.status == 200, reply.body
    assert b.call("GET", "/api/auth/me", token=other.token).code == "token_revoked"
    assert b.call("GET", "/api/auth/me", token=account.token).status == 200  # the changing session lives on


def test_login_limit_counts_across_instances(pair):
    a, b, _ = pair
    headers = client_ip()
    email = unique_email("cible")
    for attempt in range(5):
        reply = a.call("POST", "/api/auth/login", {"email": email, "password": "Mauvais-Mot-De-Passe"},
                       headers=headers)
        assert (reply.status, reply.code) == (401, "invalid_credentials"), (attempt, reply.body)
    reply = b.call("POST", "/api/auth/login", {"email": email, "password": "Mauvais-Mot-De-Passe"}, headers=headers)
    assert (reply.status, reply.code) == (429, "rate_limited"), reply.body
    assert int(reply.headers["retry-after"]) > 0


def test_login_limit_per_email_counts_across_instances_and_addresses(pair):
    a, b, _ = pair
    email = unique_email("cible")
    for attempt in range(5):
        server = (a, b)[attempt % 2]
        reply = server.call("POST", "/api/auth/login", {"email": email, "password": "x"}, headers=client_ip())
        assert reply.status == 401, (attempt, reply.body)
    reply = a.call("POST", "/api/auth/login", {"email": email, "password": "x"}, headers=client_ip())
    assert (reply.status, reply.code) == (429, "rate_limited"), reply.body


def test_registration_limit_counts_across_instances(pair):
    a, b, _ = pair
    headers = client_ip()
    for attempt in range(5):
        server = (a, b)[attempt % 2]
        reply = server.call("POST", "/api/auth/register", registration(unique_email()), headers=headers)
        assert reply.status == 201, (attempt, reply.body)
    reply = b.call("POST", "/api/auth/register", registration(unique_email()), headers=headers)
    assert (reply.status, reply.code) == (429, "rate_limited"), reply.body
