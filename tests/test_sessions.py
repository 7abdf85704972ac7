"""Session lifecycle (issue 3): rotation, reuse detection, idle timeout, devices, password change, pruning."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from courrier.audit.models import AuditEvent
from courrier.auth.models import AuthSession
from courrier.columns import utcnow
from courrier.extensions import db
from tests.conftest import STRONG_PASSWORD, bearer, join, service


def refresh(client, token):
    return client.post("/api/auth/refresh", headers=bearer(token))


def audit_types(app, user_id):
    with app.app_context():
        return [e.type for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_user_id == user_id).order_by(AuditEvent.created_at))]


def test_refresh_rotates_both_tokens_in_the_same_session(app, client, agent):
    response = refresh(client, agent.refresh)
    assert response.status_code == 200
    data = response.json["data"]
    assert data["access_token"] != agent.token and data["refresh_token"] != agent.refresh
    assert client.get("/api/auth/me", headers=bearer(data["access_token"])).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 1
    assert "token_refreshed" in audit_types(app, agent.id)


def test_reused_refresh_token_revokes_the_whole_session(app, client, auth, agent):
    other = auth.login_account(agent.email, agent.password)
    fresh = refresh(client, agent.refresh).json["data"]
    reused = refresh(client, agent.refresh)
    assert (reused.status_code, reused.json["code"]) == (401, "token_revoked")
    assert client.get("/api/auth/me", headers=bearer(fresh["access_token"])).json["code"] == "token_revoked"
    assert refresh(client, fresh["refresh_token"]).json["code"] == "token_revoked"
    assert client.get("/api/auth/me", headers=other.headers).status_code == 200
    assert "refresh_reuse_detected" in audit_types(app, agent.id)


def test_concurrent_refreshes_never_both_succeed(app, agent):
    """The conditional UPDATE on the refresh jti decides; run on PostgreSQL when TEST_DATABASE_URL is set."""
    barrier = threading.Barrier(2)
    statuses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(refresh(client, agent.refresh).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) <= 1
    assert sorted(statuses) in ([200, 401], [401, 401])
    with app.app_context():
        session = db.session.scalar(select(AuthSession))
        # The loser was treated as reuse: the session is dead either way.
        assert session.revoked_at is not None and session.revoked_reason == "refresh_reuse"


def age_session(app, seconds, column="last_used_at"):
    with app.app_context():
        db.session.execute(update(AuthSession).values({column: utcnow() - timedelta(seconds=seconds)}))
        db.session.commit()


def test_idle_session_is_expired(app, client, agent):
    age_session(app, app.config["SESSION_IDLE_TIMEOUT"] + 1)
    assert client.get("/api/auth/me", headers=agent.headers).json["code"] == "token_expired"
    assert refresh(client, agent.refresh).json["code"] == "token_expired"


def test_use_keeps_the_session_alive(app, client, agent):
    age_session(app, app.config["SESSION_IDLE_TIMEOUT"] - 10)
    assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
    with app.app_context():
        last_used = db.session.scalar(select(AuthSession.last_used_at))
    assert utcnow() - last_used < timedelta(seconds=5)


class StatementCounter:
    """Every statement the driver sends while active, whoever sends it (SQLAlchemy or the raw session check).

    The pool is emptied first, so each connection used meanwhile is new and traced from its first
    statement: SQLite's own trace callback (it also sees the BEGIN/COMMIT pysqlite sends by itself),
    a recording cursor on psycopg.
    """

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def __enter__(self):
        self.engine.dispose()
        event.listen(self.engine, "connect", self.trace)
        return self.statements

    def __exit__(self, *exc):
        event.remove(self.engine, "connect", self.trace)
        # Inside the test's app context, the requests' ORM session is still open: close it first, so its
        # connection goes back to the pool that dispose() closes, rather than being dropped while open.
        db.session.remove()
        self.engine.dispose()

    def trace(self, dbapi_connection, _record):
        if self.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(self.statements.append)
            return
        statements = self.statements

        class RecordingCursor(dbapi_connection.cursor_factory):
            def execute(self, query, params=None, **kwargs):
                statements.append(str(query))
                return super().execute(query, params, **kwargs)

        dbapi_connection.cursor_factory = RecordingCursor


def test_session_check_is_one_statement_when_last_use_is_recent(app, client, agent):
    """/me is one statement: the check, with the services and preferences /me shows in the same one."""
    client.get("/api/auth/me", headers=agent.headers)
    with app.app_context(), StatementCounter(db.engine) as statements:
        assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
    assert len(statements) == 1, statements
    assert all(name in statements[0] for name in ("JOIN users", "service_members", "notifications_email"))


def test_other_routes_check_the_session_without_reading_the_services(app, client, agent):
    with app.app_context(), StatementCounter(db.engine) as statements:
        assert client.get("/api/auth/sessions", headers=agent.headers).status_code == 200
    assert "JOIN users" in statements[0] and "service_members" not in statements[0], statements


def test_last_used_at_is_not_written_twice_within_a_minute(app, client, agent):
    age_session(app, 120)
    with app.app_context(), StatementCounter(db.engine) as statements:
        for _ in range(5):
            assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
    assert sum(s.lstrip().upper().startswith("UPDATE SESSIONS") for s in statements) == 1


def test_logout_all_revokes_every_session_of_the_user_only(app, client, auth, agent, validateur):
    other = auth.login_account(agent.email, agent.password)
    assert client.post("/api/auth/logout-all", headers=agent.headers).status_code == 200
    for account in (agent, other):
        assert client.get("/api/auth/me", headers=account.headers).json["code"] == "token_revoked"
    assert client.get("/api/auth/me", headers=validateur.headers).status_code == 200
    assert "logout_all" in audit_types(app, agent.id)


def test_sessions_lists_devices_with_the_current_one(client, auth, agent):
    auth.login(agent.email, agent.password, headers={"User-Agent": "Firefox de test"})
    sessions = client.get("/api/auth/sessions", headers=agent.headers).json["data"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    assert {"ip", "user_agent", "created_at", "last_used_at", "expires_at"} <= set(sessions[0])
    assert "Firefox de test" in {s["user_agent"] for s in sessions}
    assert not any("jti" in key for s in sessions for key in s)


def test_revoked_sessions_are_listed_only_with_active_false(client, auth, agent):
    other = auth.login_account(agent.email, agent.password)
    client.post("/api/auth/logout", headers=other.headers)
    assert len(client.get("/api/auth/sessions", headers=agent.headers).json["data"]) == 1
    everything = client.get("/api/auth/sessions?active=false", headers=agent.headers).json["data"]
    assert len(everything) == 2
    assert {s["revoked_reason"] for s in everything} == {None, "logout"}


def test_delete_own_session_revokes_it_at_once(client, auth, agent):
    other = auth.login_account(agent.email, agent.password)
    sessions = client.get("/api/auth/sessions", headers=agent.headers).json["data"]
    target = next(s["id"] for s in sessions if not s["current"])
    assert client.delete(f"/api/auth/sessions/{target}", headers=agent.headers).status_code == 200
    assert client.get("/api/auth/me", headers=other.headers).json["code"] == "token_revoked"


def test_another_users_session_is_not_found(client, agent, validateur):
    theirs = client.get("/api/auth/sessions", headers=validateur.headers).json["data"][0]["id"]
    response = client.delete(f"/api/auth/sessions/{theirs}", headers=agent.headers)
    assert (response.status_code, response.json["code"]) == (404, "not_found")
    assert client.get("/api/auth/me", headers=validateur.headers).status_code == 200
    assert client.delete("/api/auth/sessions/unknown", headers=agent.headers).status_code == 404


def change_password(client, account, **overrides):
    body = {"current_password": account.password, "password": "Nouveau-Phare-Ardoise-7",
            "password_confirmation": "Nouveau-Phare-Ardoise-7", **overrides}
    return client.post("/api/auth/password", json=body, headers=account.headers)


def test_password_change_revokes_other_sessions_and_keeps_this_one(app, client, auth, agent):
    other = auth.login_account(agent.email, agent.password)
    assert change_password(client, agent).status_code == 200
    assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
    assert client.get("/api/auth/me", headers=other.headers).json["code"] == "token_revoked"
    assert auth.login(agent.email, STRONG_PASSWORD).status_code == 401
    assert auth.login(agent.email, "Nouveau-Phare-Ardoise-7").status_code == 200
    assert "password_changed" in audit_types(app, agent.id)


@pytest.mark.parametrize("overrides, field", [
    ({"current_password": "Not-My-Password-1"}, "current_password"),
    ({"password": "password1", "password_confirmation": "password1"}, "password"),
    ({"password_confirmation": "Autre-Chose-Entiere-9"}, "password_confirmation"),
    ({"password": "é" * 37, "password_confirmation": "é" * 37}, "password"),
])
def test_password_change_applies_the_registration_rules(client, auth, agent, overrides, field):
    response = change_password(client, agent, **overrides)
    assert response.status_code == 422 and field in response.json["errors"]
    assert auth.login(agent.email, agent.password).status_code == 200


@pytest.mark.parametrize("app_config", [{"SESSION_TRACKING": False}])
class TestStatelessMode:
    def test_no_session_row_is_written_or_read(self, app, client, agent):
        assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 0

    def test_me_shows_the_services_and_preferences_too(self, client, admin, agent):
        """No session row to read them with: /me reads them itself."""
        join(client, admin, agent, service(client, admin, "FIN"), service(client, admin, "RH"))
        data = client.get("/api/auth/me", headers=agent.headers).json["data"]
        assert [s["code"] for s in data["services"]] == ["FIN", "RH"] and data["services"][0]["primary"]
        assert data["notifications_email"] is True and data["mfa_enabled"] is False

    def test_logout_answers_but_cannot_revoke(self, client, agent):
        assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
        assert client.get("/api/auth/me", headers=agent.headers).status_code == 200

    def test_session_routes_are_not_found(self, client, agent):
        assert client.get("/api/auth/sessions", headers=agent.headers).status_code == 404
        assert client.delete("/api/auth/sessions/x", headers=agent.headers).status_code == 404

    def test_refresh_rotates_without_reuse_detection(self, client, agent):
        assert refresh(client, agent.refresh).status_code == 200
        assert refresh(client, agent.refresh).status_code == 200

    def test_deactivation_is_still_seen_at_once(self, app, client, agent):
        from courrier.auth.models import User

        with app.app_context():
            db.session.get(User, agent.id).is_active = False
            db.session.commit()
        assert client.get("/api/auth/me", headers=agent.headers).json["code"] == "token_revoked"


def seed_sessions(app, user_id, count, **values):
    import uuid

    now = utcnow()
    rows = [{"id": str(uuid.uuid4()), "user_id": user_id, "access_jti": str(uuid.uuid4()),
             "refresh_jti": str(uuid.uuid4()), "created_at": now, "last_used_at": now,
             "expires_at": now + timedelta(days=7), **values} for _ in range(count)]
    with app.app_context():
        db.session.execute(AuthSession.__table__.insert(), rows)
        db.session.commit()


def test_prune_deletes_only_sessions_dead_for_longer_than_the_retention(app, runner, agent):
    long_ago = utcnow() - timedelta(days=40)
    recently = utcnow() - timedelta(days=2)
    seed_sessions(app, agent.id, 1500, expires_at=long_ago)
    seed_sessions(app, agent.id, 1200, revoked_at=long_ago, revoked_reason="logout")
    seed_sessions(app, agent.id, 700, expires_at=recently)
    seed_sessions(app, agent.id, 600, revoked_at=recently, revoked_reason="logout")
    seed_sessions(app, agent.id, 500)
    result = runner.invoke(args=["sessions", "prune", "--older-than", "30", "--batch-size", "1000"])
    assert result.exit_code == 0, result.output
    assert "2700 session(s) supprimée(s)" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 700 + 600 + 500 + 1
    assert runner.invoke(args=["sessions", "prune", "--older-than", "30"]).output.strip().endswith(
        "0 session(s) supprimée(s).")


def test_prune_refuses_a_negative_retention(runner):
    assert runner.invoke(args=["sessions", "prune", "--older-than", "-1"]).exit_code != 0
