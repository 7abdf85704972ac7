"""User management by administrateurs (API.md section 6): access, creation, listing, updates, deactivation."""
import threading
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from courrier.audit.models import AuditEvent
from courrier.auth.models import User
from courrier.columns import utcnow
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.users import service

STRONG_PASSWORD = "Tournesol-Quai-Brume-42"
USER_FIELDS = {"id", "email", "nom", "prenom", "contact", "role", "is_active", "created_at", "services",
               "mfa_enabled"}

# Every admin route, with a body that would succeed for an administrateur ({id} is a real user).
ADMIN_ROUTES = [
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"email": "nouveau@example.com", "password": STRONG_PASSWORD, "nom": "Nouveau",
                            "prenom": "Compte", "role": "administrateur"}),
    ("GET", "/api/users/{id}", None),
    ("PATCH", "/api/users/{id}", {"role": "administrateur"}),
    ("POST", "/api/users/{id}/revoke-sessions", None),
    ("GET", "/api/audit/sessions", None),
    ("GET", "/api/audit/events", None),
]


def call(client, method, path, account=None, json=None):
    headers = account.headers if account else {}
    return client.open(path, method=method, headers=headers, json=json)


def new_user_body(**overrides):
    body = {"email": f"user-{uuid.uuid4().hex[:10]}@example.com", "password": STRONG_PASSWORD,
            "nom": "Lefebvre", "prenom": "Jeanne", "contact": "0102030405", "role": "agent"}
    body.update(overrides)
    return body


def user_row(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def events_of_type(app, event_type):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.type == event_type)).all()


def patch_user(client, admin, user_id, changes):
    return client.patch(f"/api/users/{user_id}", headers=admin.headers, json=changes)


def listed(client, admin, **query):
    response = client.get("/api/users", headers=admin.headers, query_string={"per_page": 100, **query})
    assert response.status_code == 200, response.json
    return response.json["data"]


# ------------------------------------------------------------------ access


@pytest.mark.parametrize("role", ["agent", "validateur"])
@pytest.mark.parametrize("method, path, body", ADMIN_ROUTES)
def test_admin_routes_are_forbidden_to_other_roles(app, client, auth, role, method, path, body):
    caller = auth.account(role)
    target = auth.account("agent")
    before = user_count(app)
    response = call(client, method, path.format(id=target.id), caller, body)
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert user_count(app) == before
    assert user_row(app, target.id).role == "agent"
    assert client.get("/api/auth/me", headers=target.headers).status_code == 200


@pytest.mark.parametrize("method, path, body", ADMIN_ROUTES)
def test_admin_routes_need_a_token(client, agent, method, path, body):
    response = call(client, method, path.format(id=agent.id), None, body)
    assert response.status_code == 401
    assert response.json["code"] == "token_missing"


# ------------------------------------------------------------------ creation


@pytest.mark.parametrize("role", ["agent", "validateur", "administrateur"])
def test_admin_creates_a_user_with_any_role(client, auth, admin, role):
    body = new_user_body(role=role, email=f"  Nouvel.Agent-{uuid.uuid4().hex[:6]}@Example.COM ")
    response = client.post("/api/users", headers=admin.headers, json=body)
    assert response.status_code == 201, response.json
    user = response.json["data"]
    assert set(user) == USER_FIELDS
    assert (user["email"], user["role"], user["is_active"]) == (body["email"].strip().lower(), role, True)
    account = auth.login_account(user["email"], STRONG_PASSWORD)
    assert client.get("/api/auth/me", headers=account.headers).json["data"]["role"] == role


def test_created_user_role_defaults_to_agent(client, admin):
    body = new_user_body()
    del body["role"]
    response = client.post("/api/users", headers=admin.headers, json=body)
    assert response.status_code == 201
    assert response.json["data"]["role"] == "agent"


def test_create_accepts_a_matching_password_confirmation(client, admin):
    body = new_user_body(password_confirmation=STRONG_PASSWORD)
    assert client.post("/api/users", headers=admin.headers, json=body).status_code == 201


@pytest.mark.parametrize("overrides, field", [
    ({"role": "superviseur"}, "role"),
    ({"password_confirmation": "Autre-Mot-De-Passe-99"}, "password_confirmation"),
    ({"password": "motdepasse"}, "password"),
    ({"password": "Court-1"}, "password"),
    ({"password": "é" * 37}, "password"),  # 74 bytes in UTF-8
    ({"email": "pas-une-adresse"}, "email"),
    ({"nom": ""}, "nom"),
    ({"prenom": "x" * 101}, "prenom"),
    ({"contact": "0" * 31}, "contact"),
    ({"is_active": False}, "is_active"),
    ({"password_hash": "x"}, "password_hash"),
])
def test_create_applies_the_registration_rules(app, client, admin, overrides, field):
    before = user_count(app)
    response = client.post("/api/users", headers=admin.headers, json=new_user_body(**overrides))
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert user_count(app) == before


@pytest.mark.parametrize("missing", ["email", "password", "nom", "prenom"])
def test_create_requires_the_registration_fields(client, admin, missing):
    body = new_user_body()
    del body[missing]
    response = client.post("/api/users", headers=admin.headers, json=body)
    assert response.status_code == 422
    assert missing in response.json["errors"]


def test_create_with_an_email_already_used_is_422(app, client, admin, agent):
    before = user_count(app)
    response = client.post("/api/users", headers=admin.headers, json=new_user_body(email=agent.email.upper()))
    assert response.status_code == 422
    assert "email" in response.json["errors"]
    assert user_count(app) == before


# ------------------------------------------------------------------ closed registration


@pytest.mark.parametrize("app_config", [{"REGISTRATION_OPEN": False}])
def test_closed_registration_still_lets_admins_create_users(app, client, auth, admin):
    before = user_count(app)
    response = auth.register()
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert user_count(app) == before
    created = client.post("/api/users", headers=admin.headers, json=new_user_body())
    assert created.status_code == 201
    assert user_count(app) == before + 1


# ------------------------------------------------------------------ listing


def test_list_is_paginated_newest_first(client, auth, admin):
    accounts = [auth.account("agent") for _ in range(3)]
    response = client.get("/api/users", headers=admin.headers, query_string={"per_page": 2})
    assert response.status_code == 200
    assert response.json["meta"] == {"page": 1, "per_page": 2, "total": 4, "pages": 2}
    assert [u["id"] for u in response.json["data"]] == [accounts[2].id, accounts[1].id]
    second = client.get("/api/users", headers=admin.headers, query_string={"per_page": 2, "page": 2})
    assert [u["id"] for u in second.json["data"]] == [accounts[0].id, admin.id]
    assert all(set(u) == USER_FIELDS for u in response.json["data"])


@pytest.mark.parametrize("query, field", [
    ({"per_page": 101}, "per_page"), ({"page": 0}, "page"), ({"role": "superviseur"}, "role"),
    ({"is_active": "peut-etre"}, "is_active"), ({"q": "x" * 101}, "q"),
])
def test_list_refuses_bad_query_values(client, admin, query, field):
    response = client.get("/api/users", headers=admin.headers, query_string=query)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_list_filters_by_role(client, auth, admin, agent, validateur):
    assert [u["id"] for u in listed(client, admin, role="validateur")] == [validateur.id]
    assert [u["id"] for u in listed(client, admin, role="agent")] == [agent.id]


def test_list_filters_by_is_active(client, admin, agent, validateur):
    assert patch_user(client, admin, agent.id, {"is_active": False}).status_code == 200
    assert [u["id"] for u in listed(client, admin, is_active="false")] == [agent.id]
    assert {u["id"] for u in listed(client, admin, is_active="true")} == {admin.id, validateur.id}


@pytest.mark.parametrize("q", ["ZÉPHYRINE", "zéphyrine", "Bellecour", "BELLE", "zeph.b@"])
def test_list_q_searches_email_nom_and_prenom_case_insensitively(client, auth, admin, q):
    target = auth.account("agent", email="zeph.b@example.com", nom="Bellecour", prenom="Zéphyrine")
    auth.account("agent", email="autre@example.com", nom="Martin", prenom="Paul")
    assert [u["id"] for u in listed(client, admin, q=q)] == [target.id]


def test_list_q_treats_wildcards_literally(client, auth, admin):
    auth.account("agent", nom="Cent_pour%cent")
    auth.account("agent", nom="Centpourcent")
    assert [u["nom"] for u in listed(client, admin, q="_pour%")] == ["Cent_pour%cent"]


# ------------------------------------------------------------------ one user


def test_get_user(client, admin, agent):
    response = client.get(f"/api/users/{agent.id}", headers=admin.headers)
    assert response.status_code == 200
    assert response.json["data"]["email"] == agent.email
    assert set(response.json["data"]) == USER_FIELDS


@pytest.mark.parametrize("user_id", ["6f1c2a9e-3b4d-4e8f-9a7b-0c5d2e1f4a3b", "pas-un-uuid", "1"])
@pytest.mark.parametrize("method, suffix, body", [
    ("GET", "", None), ("PATCH", "", {"nom": "Personne"}), ("POST", "/revoke-sessions", None)])
def test_unknown_user_is_404(client, admin, user_id, method, suffix, body):
    response = call(client, method, f"/api/users/{user_id}{suffix}", admin, body)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_patch_names_and_contact(app, client, admin, agent):
    changes = {"nom": "  Bernard ", "prenom": "Louise", "contact": "0600000000"}
    response = patch_user(client, admin, agent.id, changes)
    assert response.status_code == 200
    assert {k: response.json["data"][k] for k in changes} == {"nom": "Bernard", "prenom": "Louise",
                                                              "contact": "0600000000"}
    assert user_row(app, agent.id).nom == "Bernard"
    assert patch_user(client, admin, agent.id, {"contact": None}).json["data"]["contact"] is None


@pytest.mark.parametrize("changes, field", [
    ({"email": "autre@example.com"}, "email"),
    ({"password": STRONG_PASSWORD}, "password"),
    ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
    ({"id": str(uuid.uuid4())}, "id"),
    ({"role": "superviseur"}, "role"),
    ({"is_active": "false"}, "is_active"),
    ({"is_active": 0}, "is_active"),
    ({"nom": ""}, "nom"),
    ({"nom": None}, "nom"),
    ({"contact": "0" * 31}, "contact"),
    ({}, "_schema"),
])
def test_patch_refuses_other_fields_and_bad_values(app, client, admin, agent, changes, field):
    response = patch_user(client, admin, agent.id, {**changes})
    assert response.status_code == 422
    assert field in response.json["errors"]
    user = user_row(app, agent.id)
    assert (user.email, user.role, user.is_active, user.nom) == (agent.email, "agent", True, "Durand")


def test_patch_with_an_invalid_field_changes_nothing_at_all(app, client, admin, agent):
    response = patch_user(client, admin, agent.id, {"nom": "Valide", "email": "autre@example.com"})
    assert response.status_code == 422
    assert user_row(app, agent.id).nom == "Durand"


def test_patch_role(client, auth, admin, agent):
    response = patch_user(client, admin, agent.id, {"role": "validateur"})
    assert response.status_code == 200
    assert response.json["data"]["role"] == "validateur"
    account = auth.login_account(agent.email, STRONG_PASSWORD)
    assert client.get("/api/auth/me", headers=account.headers).json["data"]["role"] == "validateur"


def test_promotion_takes_effect_on_the_existing_token(client, admin, agent):
    assert client.get("/api/users", headers=agent.headers).status_code == 403
    assert patch_user(client, admin, agent.id, {"role": "administrateur"}).status_code == 200
    assert client.get("/api/users", headers=agent.headers).status_code == 200


def test_demoted_admin_token_is_refused_at_once(client, auth, admin):
    other = auth.account("administrateur")
    assert client.get("/api/users", headers=other.headers).status_code == 200
    assert patch_user(client, admin, other.id, {"role": "agent"}).status_code == 200
    for path in ("/api/users", "/api/audit/sessions", "/api/audit/events"):
        response = client.get(path, headers=other.headers)
        assert response.status_code == 403
        assert response.json["code"] == "forbidden"
    assert client.get("/api/auth/me", headers=other.headers).json["data"]["role"] == "agent"


def test_unchanged_values_write_no_audit_event(app, client, admin, agent):
    response = patch_user(client, admin, agent.id, {"role": "agent", "nom": "Durand", "is_active": True})
    assert response.status_code == 200
    assert events_of_type(app, "user_updated") == []


# ------------------------------------------------------------------ deactivation


def test_deactivation_revokes_every_session_at_once(app, client, auth, admin, agent):
    second = auth.login_account(agent.email, STRONG_PASSWORD)
    assert client.get("/api/auth/me", headers=agent.headers).status_code == 200
    response = patch_user(client, admin, agent.id, {"is_active": False})
    assert response.status_code == 200
    assert response.json["data"]["is_active"] is False
    for account in (agent, second):
        me = client.get("/api/auth/me", headers=account.headers)
        assert (me.status_code, me.json["code"]) == (401, "token_revoked")
    refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {second.refresh}"})
    assert (refreshed.status_code, refreshed.json["code"]) == (401, "token_revoked")
    with app.app_context():
        reasons = {s.revoked_reason for s in db.session.get(User, agent.id).sessions}
    assert reasons == {"deactivated"}


def test_deactivated_user_cannot_log_in(client, auth, admin, agent):
    assert patch_user(client, admin, agent.id, {"is_active": False}).status_code == 200
    response = auth.login(agent.email, STRONG_PASSWORD)
    assert (response.status_code, response.json["code"]) == (401, "invalid_credentials")


def test_reactivated_user_logs_in_again_but_old_tokens_stay_dead(client, auth, admin, agent):
    assert patch_user(client, admin, agent.id, {"is_active": False}).status_code == 200
    assert patch_user(client, admin, agent.id, {"is_active": True}).status_code == 200
    account = auth.login_account(agent.email, STRONG_PASSWORD)
    assert client.get("/api/auth/me", headers=account.headers).status_code == 200
    assert client.get("/api/auth/me", headers=agent.headers).json["code"] == "token_revoked"


# ------------------------------------------------------------------ administrateurs and themselves


@pytest.mark.parametrize("changes", [{"is_active": False}, {"role": "agent"}, {"role": "validateur"},
                                     {"nom": "Autre", "role": "agent"}])
def test_admin_cannot_deactivate_or_demote_self(app, client, auth, admin, changes):
    auth.account("administrateur")  # another administrateur exists: the refusal is about oneself
    response = patch_user(client, admin, admin.id, changes)
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    user = user_row(app, admin.id)
    assert (user.role, user.is_active, user.nom) == ("administrateur", True, "Durand")
    assert client.get("/api/users", headers=admin.headers).status_code == 200
    assert events_of_type(app, "user_updated") == []


def test_admin_may_edit_own_names(client, admin):
    response = patch_user(client, admin, admin.id, {"nom": "Moreau", "role": "administrateur", "is_active": True})
    assert response.status_code == 200
    assert response.json["data"]["nom"] == "Moreau"


def test_admin_may_demote_the_only_other_admin(client, auth, admin):
    other = auth.account("administrateur")
    assert patch_user(client, admin, other.id, {"role": "validateur"}).status_code == 200
    assert listed(client, admin, role="administrateur")[0]["id"] == admin.id


def test_last_active_admin_keeps_the_role(app, client, auth, admin):
    other = auth.account("administrateur")
    assert patch_user(client, admin, other.id, {"is_active": False}).status_code == 200
    assert client.get("/api/users", headers=other.headers).json["code"] == "token_revoked"
    # `admin` is now the last active administrateur: nobody can remove that, not even themself.
    for changes in ({"is_active": False}, {"role": "agent"}):
        assert patch_user(client, admin, admin.id, changes).status_code == 403
    with app.app_context():
        for changes in ({"is_active": False}, {"role": "validateur"}):
            # An administrateur acting at the same moment (e.g. `other` just before its deactivation).
            with pytest.raises(ApiError) as refused:
                service.update_user(SimpleNamespace(id=other.id, authenticated_at=utcnow()), admin.id, changes)
            assert refused.value.code == "conflict"
        assert service.count_active_admins() == 1
    user = user_row(app, admin.id)
    assert (user.role, user.is_active) == ("administrateur", True)
    assert [e.subject_user_id for e in events_of_type(app, "user_updated")] == [other.id]


@pytest.mark.parametrize("changes", [{"is_active": False}, {"role": "agent"}])
def test_two_admins_removing_each_other_at_once_leave_one(app, auth, changes):
    """The last-admin rule under a race: whatever the timing, one administrateur stays."""
    for _ in range(5):
        with app.app_context():
            db.session.execute(User.__table__.update().where(User.role == "administrateur").values(role="agent"))
            db.session.commit()
        first, second = auth.account("administrateur"), auth.account("administrateur")
        barrier, statuses = threading.Barrier(2), []

        def remove(actor, target):
            client = app.test_client()
            barrier.wait()
            statuses.append(client.patch(f"/api/users/{target.id}", json=changes, headers=actor.headers).status_code)

        threads = [threading.Thread(target=remove, args=pair) for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (401, 403, 409), statuses
        with app.app_context():
            assert service.count_active_admins() == 1


def test_inactive_admin_is_not_counted_and_can_be_demoted(app, client, auth, admin):
    other = auth.account("administrateur")
    assert patch_user(client, admin, other.id, {"is_active": False}).status_code == 200
    assert patch_user(client, admin, other.id, {"role": "agent"}).status_code == 200
    assert patch_user(client, admin, other.id, {"is_active": True}).status_code == 200
    assert user_row(app, other.id).role == "agent"


# ------------------------------------------------------------------ forced logout


def test_revoke_sessions_kills_every_live_token(client, auth, admin, agent):
    second = auth.login_account(agent.email, STRONG_PASSWORD)
    response = client.post(f"/api/users/{agent.id}/revoke-sessions", headers=admin.headers)
    assert response.status_code == 200
    assert response.json["data"] == {"revoked": 2}
    for account in (agent, second):
        assert client.get("/api/auth/me", headers=account.headers).json["code"] == "token_revoked"
        refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {account.refresh}"})
        assert refreshed.json["code"] == "token_revoked"
    # The account itself stays active: the user simply logs in again.
    assert auth.login(agent.email, STRONG_PASSWORD).status_code == 200
    assert client.get("/api/auth/me", headers=admin.headers).status_code == 200


def test_revoke_sessions_counts_only_what_it_revoked(client, auth, admin, agent):
    assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
    auth.login_account(agent.email, STRONG_PASSWORD)
    first = client.post(f"/api/users/{agent.id}/revoke-sessions", headers=admin.headers)
    again = client.post(f"/api/users/{agent.id}/revoke-sessions", headers=admin.headers)
    assert (first.json["data"], again.json["data"]) == ({"revoked": 1}, {"revoked": 0})


def test_revoke_sessions_of_another_user_leaves_others_alone(client, admin, agent, validateur):
    assert client.post(f"/api/users/{agent.id}/revoke-sessions", headers=admin.headers).status_code == 200
    assert client.get("/api/auth/me", headers=validateur.headers).status_code == 200


@pytest.mark.parametrize("app_config", [{"SESSION_TRACKING": False}])
def test_without_session_tracking_deactivation_still_blocks_at_once(client, admin, agent):
    assert client.post(f"/api/users/{agent.id}/revoke-sessions", headers=admin.headers).json["data"] == {"revoked": 0}
    assert patch_user(client, admin, agent.id, {"is_active": False}).status_code == 200
    assert client.get("/api/auth/me", headers=agent.headers).json["code"] == "token_revoked"


# ------------------------------------------------------------------ the first login after an administrateur's password

FIRST_LOGIN = pytest.mark.parametrize("app_config", [{"PASSWORD_CHANGE_ON_FIRST_LOGIN": True}])
NEW_PASSWORD = "Lichen-Falaise-Orge-93"


def created_by_admin(client, admin, **overrides):
    response = client.post("/api/users", headers=admin.headers, json=new_user_body(**overrides))
    assert response.status_code == 201, response.json
    return response.json["data"]


def change_password(client, account, current, new=NEW_PASSWORD):
    return client.post("/api/auth/password", headers=account.headers,
                       json={"current_password": current, "password": new, "password_confirmation": new})


@FIRST_LOGIN
def test_a_password_set_by_an_administrateur_must_be_changed_at_first_login(app, client, auth, admin):
    user = created_by_admin(client, admin)
    assert events_of_type(app, "user_created")[-1].details == {"role": "agent", "password_change_required": True}
    login = auth.login(user["email"], STRONG_PASSWORD)
    assert login.status_code == 200 and login.json["data"]["restriction"] == "password_change_required"
    account = auth.login_account(user["email"], STRONG_PASSWORD)
    assert client.get("/api/auth/me", headers=account.headers).json["data"]["restriction"] == \
        "password_change_required"
    for path in ("/api/documents", "/api/services", f"/api/users/{user['id']}"):
        refused = client.get(path, headers=account.headers)
        assert (refused.status_code, refused.json["code"]) == (403, "password_change_required"), path

    assert change_password(client, account, STRONG_PASSWORD).status_code == 200
    # The same session is now a full one; the change is audited as the one that was required.
    assert client.get("/api/documents", headers=account.headers).status_code == 200
    assert client.get("/api/auth/me", headers=account.headers).json["data"]["restriction"] is None
    assert events_of_type(app, "password_changed")[-1].details["required_change"] is True
    assert user_row(app, user["id"]).password_change_required is False
    again = auth.login(user["email"], NEW_PASSWORD)
    assert again.status_code == 200 and "restriction" not in again.json["data"]


@FIRST_LOGIN
def test_the_user_s_own_passwords_are_never_forced(app, client, auth):
    """Public registration, and a later change by the user: they chose it, nobody else knows it."""
    account = auth.register_account()
    assert "restriction" not in auth.login(account.email, account.password).json["data"]
    assert change_password(client, account, account.password).status_code == 200
    assert "required_change" not in events_of_type(app, "password_changed")[-1].details
    assert "restriction" not in auth.login(account.email, NEW_PASSWORD).json["data"]


@FIRST_LOGIN
def test_with_mfa_required_the_password_change_comes_first_then_enrolment(app, client, auth, admin):
    app.config["MFA_REQUIRED_ROLES"] = ("validateur",)
    user = created_by_admin(client, admin, role="validateur", password="Tournesol-Quai-Brume-4242")
    account = auth.login_account(user["email"], "Tournesol-Quai-Brume-4242")
    assert account.user and client.get("/api/documents", headers=account.headers).json["code"] == \
        "password_change_required"
    changed = change_password(client, account, "Tournesol-Quai-Brume-4242", "Lichen-Falaise-Orge-Sel-93")
    assert changed.status_code == 200
    assert client.get("/api/documents", headers=account.headers).json["code"] == "mfa_enrollment_required"


def test_without_the_setting_an_administrateur_s_password_is_used_as_given(app, client, auth, admin):
    assert app.config["PASSWORD_CHANGE_ON_FIRST_LOGIN"] is False  # tests/conftest.py, as the contract's suite
    user = created_by_admin(client, admin)
    assert events_of_type(app, "user_created")[-1].details == {"role": "agent"}
    login = auth.login(user["email"], STRONG_PASSWORD)
    assert login.status_code == 200 and "restriction" not in login.json["data"]
    assert user_row(app, user["id"]).password_change_required is False


@FIRST_LOGIN
def test_turning_the_setting_off_lifts_a_pending_change(app, client, auth, admin):
    user = created_by_admin(client, admin)
    app.config["PASSWORD_CHANGE_ON_FIRST_LOGIN"] = False
    assert "restriction" not in auth.login(user["email"], STRONG_PASSWORD).json["data"]


def test_the_migration_adds_the_flag_without_forcing_existing_accounts(tmp_path, scratch_database_url):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import TEST_DATABASE_URL, AuthActions, base_config
    from courrier import create_app, register_migrations

    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": scratch_database_url,
                      "PASSWORD_CHANGE_ON_FIRST_LOGIN": True})
    register_migrations(app)
    with app.app_context():
        if TEST_DATABASE_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision="7a1c0de0a003")
        from courrier.auth.passwords import hash_password
        db.session.execute(text(
            "INSERT INTO users (id, email, password_hash, nom, prenom, role, is_active, created_at, updated_at) "
            "VALUES ('u-old', 'ancien@example.fr', :hash, 'Ancien', 'Agent', 'agent', true, :now, :now)"),
            {"hash": hash_password(STRONG_PASSWORD), "now": "2026-11-01 10:00:00"})
        db.session.commit()
        upgrade()
    try:
        login = AuthActions(app, app.test_client()).login("ancien@example.fr", STRONG_PASSWORD)
        assert login.status_code == 200 and "restriction" not in login.json["data"]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@FIRST_LOGIN
def test_a_password_chosen_at_the_console_is_never_forced(app, client, auth, admin, runner):
    user = created_by_admin(client, admin)
    result = runner.invoke(args=["create-admin", "--email", user["email"], "--nom", "X", "--prenom", "Y",
                                 "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert user_row(app, user["id"]).password_change_required is False
    login = auth.login(user["email"], NEW_PASSWORD)
    assert login.status_code == 200 and "restriction" not in login.json["data"]
