"""GET /api/auth/history and /api/auth/history/sessions: every user's own security events and
connection history (RGPD right of access), never anyone else's; and what a letter's history entries say
of a routing and of a treatment (GET /api/documents/{id}/history)."""
import pytest

from tests.conftest import STRONG_PASSWORD, assign, create


def history(client, account, path="", **query):
    response = client.get(f"/api/auth/history{path}", headers=account.headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def from_ip(ip):
    return {"environ_base": {"REMOTE_ADDR": ip}, "headers": {"User-Agent": "Navigateur/2.0"}}


@pytest.mark.parametrize("path", ["", "/sessions"])
def test_history_needs_a_login(client, path):
    response = client.get(f"/api/auth/history{path}")
    assert response.status_code == 401 and response.json["code"] == "token_missing"


def test_history_shows_the_callers_logins_failures_and_changes(client, auth, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1", **from_ip("198.51.100.20"))
    auth.login(agent.email, STRONG_PASSWORD, **from_ip("198.51.100.21"))
    events = history(client, agent)["data"]
    assert [e["type"] for e in events] == ["login_succeeded", "login_failed", "login_succeeded"]
    assert (events[0]["ip"], events[0]["user_agent"], events[0]["by_self"]) == ("198.51.100.21", "Navigateur/2.0", True)
    assert events[1]["details"] == {"reason": "wrong_password"} and events[1]["by_self"] is False
    assert set(events[0]) == {"id", "type", "created_at", "ip", "user_agent", "by_self", "details"}


def test_history_never_shows_anyone_elses_events(client, auth, agent, validateur):
    auth.login(validateur.email, "Mauvais-Mot-De-Passe-1")
    auth.login("inconnu@example.com", "Mauvais-Mot-De-Passe-1")
    mine = history(client, agent, per_page=100)["data"]
    assert mine and {e["type"] for e in mine} == {"login_succeeded"}
    assert len(history(client, validateur, per_page=100)["data"]) == 2


def test_an_admins_changes_to_another_account_are_in_that_accounts_history_not_the_admins(client, admin, agent):
    response = client.patch(f"/api/users/{agent.id}", json={"nom": "Nouveau"}, headers=admin.headers)
    assert response.status_code == 200, response.json
    changed = [e for e in history(client, agent)["data"] if e["type"] == "user_updated"]
    assert len(changed) == 1 and changed[0]["by_self"] is False
    assert "user_updated" not in {e["type"] for e in history(client, admin)["data"]}


def test_history_leaves_out_what_is_not_security(client, admin, agent):
    refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {agent.refresh}"})
    assert refreshed.status_code == 200
    agent.token = refreshed.json["data"]["access_token"]
    created = client.post("/api/services", json={"code": "FIN", "nom": "Finances"}, headers=admin.headers)
    assert created.status_code == 201
    assert {e["type"] for e in history(client, agent)["data"]} == {"login_succeeded"}
    assert {e["type"] for e in history(client, admin)["data"]} == {"login_succeeded"}


def test_history_is_paginated_and_filtered(client, auth, agent):
    for _ in range(3):
        auth.login(agent.email, "Mauvais-Mot-De-Passe-1")
    first = history(client, agent, per_page=2)
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 4, "pages": 2}
    second = history(client, agent, per_page=2, page=2)
    assert len({e["id"] for e in first["data"] + second["data"]}) == 4
    assert history(client, agent, type="login_failed")["meta"]["total"] == 3
    assert history(client, agent, date_to="2020-01-01")["data"] == []


@pytest.mark.parametrize("query", [{"type": "document_validated"}, {"type": "inconnu"}, {"per_page": 0},
                                   {"date_from": "hier"}, {"date_from": "2026-05-02", "date_to": "2026-05-01"}])
def test_history_refuses_bad_filters(client, agent, query):
    response = client.get("/api/auth/history", headers=agent.headers, query_string=query)
    assert response.status_code == 422 and response.json["code"] == "validation_error"


def test_connection_history_lists_the_callers_sessions_live_and_ended(client, auth, agent, validateur):
    second = auth.login_account(agent.email, STRONG_PASSWORD)
    assert client.post("/api/auth/logout", headers=second.headers).status_code == 200
    sessions = history(client, agent, "/sessions")
    assert sessions["meta"]["total"] == 2
    ended, live = sessions["data"]
    assert (ended["active"], ended["revoked_reason"], live["active"]) == (False, "logout", True)
    assert "user" not in live and {"ip", "user_agent", "created_at", "revoked_at"} <= set(live)
    assert history(client, validateur, "/sessions")["meta"]["total"] == 1


# ------------------------------------------------------------------ a letter's history

def last_entry(client, account, letter, action):
    response = client.get(f"/api/documents/{letter['id']}/history", headers=account.headers)
    assert response.status_code == 200, response.json
    return [entry for entry in response.json["data"] if entry["action"] == action][-1]["details"]


def unit(service):
    return {"id": service["id"], "code": service["code"], "nom": service["nom"]}


def test_a_copy_only_routing_names_the_copies_added_and_removed_and_no_service_change(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    assert assign(client, org.bc_agent, letter, service_id=org.fin["id"],
                  copie_service_ids=[org.rh["id"]], copie_user_ids=[org.copied_agent.id]).status_code == 200
    added = last_entry(client, org.admin, letter, "assigned")
    assert added["changed"] == ["copies"]
    assert added["copies_added"]["services"] == [unit(org.rh)]
    assert [user["id"] for user in added["copies_added"]["users"]] == [org.copied_agent.id]
    assert added["copies_removed"] == {"services": [], "users": []}
    # Both states stay whole (the notifications and the audit read them).
    assert added["from"]["service"] == added["to"]["service"] == unit(org.fin)

    assert assign(client, org.bc_agent, letter, service_id=org.fin["id"], copie_service_ids=[]).status_code == 200
    removed = last_entry(client, org.admin, letter, "assigned")
    assert removed["changed"] == ["copies"]
    assert removed["copies_removed"] == {"services": [unit(org.rh)], "users": []}
    assert removed["copies_added"] == {"services": [], "users": []}


def test_a_rerouting_says_which_parts_changed(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    assert last_entry(client, org.admin, letter, "assigned")["changed"] == ["service", "responsable"]
    assert assign(client, org.bc_agent, letter, service_id=org.rh["id"], motif="Erreur").status_code == 200
    moved = last_entry(client, org.admin, letter, "assigned")
    assert moved["changed"] == ["service", "responsable"] and "copies_added" not in moved
    assert moved["motif"] == "Erreur"
    assert assign(client, org.bc_agent, letter, service_id=org.rh["id"]).status_code == 200
    assert last_entry(client, org.admin, letter, "assigned")["changed"] == []


@pytest.mark.parametrize("taken_in_charge, before", [(True, "en_cours"), (False, "a_traiter")])
def test_treatment_through_a_reply_records_the_state_it_replaced(client, org, taken_in_charge, before):
    letter = create(client, org.registrar, service_id=org.fin["id"])
    assert client.post(f"/api/documents/{letter['id']}/validate", headers=org.fin_validateur.headers).status_code == 200
    if taken_in_charge:
        taken = client.post(f"/api/documents/{letter['id']}/prendre-en-charge", headers=org.fin_agent.headers)
        assert taken.status_code == 200, taken.json
    answer = client.post(f"/api/documents/{letter['id']}/reponses", json={}, headers=org.fin_agent.headers)
    assert answer.status_code == 201, answer.json
    validated = client.post(f"/api/documents/{answer.json['data']['id']}/validate", headers=org.fin_validateur.headers)
    assert validated.status_code == 200, validated.json
    treated = last_entry(client, org.admin, letter, "treated")
    assert (treated["from"], treated["to"]) == (before, "traite")
    assert treated["reponse"] == answer.json["data"]["reference"]
