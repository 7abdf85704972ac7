"""The audit (API.md section 6): each event type written by its action, the connection history and
the event log with their filters, pagination and order, and the log being append-only."""
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from courrier.audit.models import AuditEvent
from courrier.auth.models import AuthSession
from courrier.extensions import db
from courrier.signals import AUDIT_EVENT_TYPES
from tests.conftest import assign, create

STRONG_PASSWORD = "Tournesol-Quai-Brume-42"
NEW_PASSWORD = "Phare-Ecume-Granit-73"
SESSION_FIELDS = {"id", "user", "ip", "user_agent", "created_at", "last_used_at", "expires_at", "revoked_at",
                  "revoked_reason", "active"}
EVENT_FIELDS = {"id", "type", "actor", "subject_user", "email", "ip", "user_agent", "created_at", "details", "label",
                "summary", "document"}


def from_ip(ip, user_agent="courrier-tests/1.0"):
    """Request options that make the test client look like a client at `ip`."""
    return {"environ_base": {"REMOTE_ADDR": ip}, "headers": {"User-Agent": user_agent}}


def bearer(token, **options):
    headers = {**options.pop("headers", {}), "Authorization": f"Bearer {token}"}
    return {"headers": headers, **options}


def audit_list(client, admin, path, **query):
    response = client.get(f"/api/audit/{path}", headers=admin.headers, query_string={"per_page": 100, **query})
    assert response.status_code == 200, response.json
    return response.json["data"]


def events(client, admin, **query):
    return audit_list(client, admin, "events", **query)


def sessions(client, admin, **query):
    return audit_list(client, admin, "sessions", **query)


def only_event(client, admin, event_type, **query):
    found = events(client, admin, type=event_type, **query)
    assert len(found) == 1, found
    assert set(found[0]) == EVENT_FIELDS
    return found[0]


def summary(account):
    return {"id": account.id, "email": account.email, "nom": account.user["nom"], "prenom": account.user["prenom"]}


def at(text):
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def set_times(app, model, row_id, **values):
    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def session_ids(app, user_id):
    with app.app_context():
        return db.session.scalars(select(AuthSession.id).where(AuthSession.user_id == user_id)
                                  .order_by(AuthSession.created_at)).all()


# ------------------------------------------------------------------ one test per event type


def test_login_succeeded_is_recorded(client, auth, admin, agent):
    assert auth.login(agent.email, STRONG_PASSWORD, **from_ip("10.0.0.11", "Navigateur/1.0")).status_code == 200
    event = only_event(client, admin, "login_succeeded", ip="10.0.0.11")
    assert event["actor"] == event["subject_user"] == summary(agent)
    assert (event["email"], event["ip"], event["user_agent"]) == (agent.email, "10.0.0.11", "Navigateur/1.0")


@pytest.mark.parametrize("known", [True, False], ids=["wrong-password", "unknown-email"])
def test_login_failed_records_the_email_tried_and_never_the_password(app, client, auth, admin, agent, known):
    email = agent.email if known else f"Intrus-{uuid.uuid4().hex[:8]}@Example.com"
    password = f"Secret-{uuid.uuid4().hex}"
    response = auth.login(f"  {email.upper()} ", password, **from_ip("10.0.0.12"))
    assert response.json["code"] == "invalid_credentials"
    event = only_event(client, admin, "login_failed", email=email)
    assert event["email"] == email.lower() and event["ip"] == "10.0.0.12"
    assert event["actor"] is None
    assert event["subject_user"] == (summary(agent) if known else None)
    assert password not in json.dumps(events(client, admin))
    with app.app_context():
        row = db.session.get(AuditEvent, event["id"])
        stored = [getattr(row, column.key) for column in AuditEvent.__table__.columns]
    assert all(password not in json.dumps(value, default=str) for value in stored)


def test_logout_is_recorded(client, admin, agent):
    assert client.post("/api/auth/logout", **bearer(agent.token, **from_ip("10.0.0.13"))).status_code == 200
    event = only_event(client, admin, "logout", user_id=agent.id)
    assert event["actor"] == summary(agent) and event["ip"] == "10.0.0.13"


def test_logout_all_is_recorded(client, auth, admin, agent):
    auth.login_account(agent.email, STRONG_PASSWORD)
    assert client.post("/api/auth/logout-all", **bearer(agent.token)).status_code == 200
    event = only_event(client, admin, "logout_all", user_id=agent.id)
    assert event["actor"] == summary(agent)
    assert event["details"]["revoked"] == 2


def test_token_refreshed_is_recorded(client, admin, agent):
    assert client.post("/api/auth/refresh", **bearer(agent.refresh, **from_ip("10.0.0.14"))).status_code == 200
    event = only_event(client, admin, "token_refreshed", user_id=agent.id)
    assert event["subject_user"] == summary(agent) and event["ip"] == "10.0.0.14"


def test_refresh_reuse_detected_is_recorded(client, admin, agent):
    assert client.post("/api/auth/refresh", **bearer(agent.refresh)).status_code == 200
    reused = client.post("/api/auth/refresh", **bearer(agent.refresh, **from_ip("10.0.0.15")))
    assert reused.json["code"] == "token_revoked"
    event = only_event(client, admin, "refresh_reuse_detected", user_id=agent.id)
    assert event["subject_user"] == summary(agent) and event["ip"] == "10.0.0.15"
    # Found by the user's email too, though the event itself records none.
    assert [e["id"] for e in events(client, admin, type="refresh_reuse_detected", email=agent.email)] == [event["id"]]


def test_password_changed_is_recorded_without_the_passwords(client, admin, agent):
    body = {"current_password": STRONG_PASSWORD, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    assert client.post("/api/auth/password", json=body, **bearer(agent.token)).status_code == 200
    event = only_event(client, admin, "password_changed", user_id=agent.id)
    assert event["actor"] == summary(agent)
    dumped = json.dumps(event)
    assert STRONG_PASSWORD not in dumped and NEW_PASSWORD not in dumped


def test_user_created_is_recorded_for_admin_creation_and_registration(client, auth, admin):
    body = {"email": f"cree-{uuid.uuid4().hex[:8]}@example.com", "password": STRONG_PASSWORD, "nom": "Roux",
            "prenom": "Ines", "role": "validateur"}
    created = client.post("/api/users", json=body, **bearer(admin.token, **from_ip("10.0.0.16")))
    assert created.status_code == 201
    event = only_event(client, admin, "user_created", email=body["email"])
    assert event["actor"] == summary(admin)
    assert event["subject_user"]["id"] == created.json["data"]["id"]
    assert event["details"] == {"role": "validateur"} and event["ip"] == "10.0.0.16"
    assert STRONG_PASSWORD not in json.dumps(event)
    registered = auth.register_account()
    own = only_event(client, admin, "user_created", email=registered.email)
    assert own["actor"]["id"] == own["subject_user"]["id"] == registered.id


def test_user_updated_records_old_and_new_values(client, admin, agent):
    changes = {"nom": "Garnier", "role": "validateur", "is_active": False}
    response = client.patch(f"/api/users/{agent.id}", json=changes, **bearer(admin.token, **from_ip("10.0.0.17")))
    assert response.status_code == 200
    event = only_event(client, admin, "user_updated", user_id=agent.id)
    assert event["actor"] == summary(admin) and event["subject_user"]["id"] == agent.id
    assert event["ip"] == "10.0.0.17"
    assert event["details"] == {
        "changes": {"role": {"old": "agent", "new": "validateur"}, "is_active": {"old": True, "new": False},
                    "nom": {"old": "Durand", "new": "Garnier"}},
        "revoked_sessions": 1,
    }


def test_sessions_revoked_is_recorded(client, auth, admin, agent):
    auth.login_account(agent.email, STRONG_PASSWORD)
    response = client.post(f"/api/users/{agent.id}/revoke-sessions", **bearer(admin.token, **from_ip("10.0.0.18")))
    assert response.status_code == 200
    event = only_event(client, admin, "sessions_revoked", user_id=agent.id)
    assert event["actor"] == summary(admin) and event["subject_user"] == summary(agent)
    assert event["details"] == {"revoked": 2} and event["ip"] == "10.0.0.18"
    assert {s["revoked_reason"] for s in sessions(client, admin, user_id=agent.id)} == {"admin_revoked"}


def create_document(client, account):
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Association des riverains",
            "destinataire": "Service urbanisme"}
    response = client.post("/api/documents", json=body, headers=account.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def test_document_validated_is_recorded(client, admin, agent, validateur):
    document = create_document(client, agent)
    response = client.post(f"/api/documents/{document['id']}/validate", **bearer(validateur.token,
                                                                                 **from_ip("10.0.0.19")))
    assert response.status_code == 200
    event = only_event(client, admin, "document_validated")
    assert event["actor"] == summary(validateur) and event["subject_user"] == summary(agent)
    assert event["details"]["document_id"] == document["id"]
    assert event["details"]["reference"] == document["reference"] and event["ip"] == "10.0.0.19"
    assert [e["id"] for e in events(client, admin, type="document_validated", user_id=validateur.id)] == [event["id"]]


def test_document_rejected_is_recorded(client, admin, agent, validateur):
    document = create_document(client, agent)
    response = client.post(f"/api/documents/{document['id']}/reject", json={"motif": "Pièce illisible"},
                           **bearer(validateur.token, **from_ip("10.0.0.20")))
    assert response.status_code == 200
    event = only_event(client, admin, "document_rejected")
    assert event["actor"] == summary(validateur) and event["subject_user"] == summary(agent)
    assert event["details"]["document_id"] == document["id"]
    assert event["details"]["reference"] == document["reference"] and event["ip"] == "10.0.0.20"
    assert events(client, admin, type="document_validated") == []


def test_a_refused_change_writes_no_audit_event(client, auth, admin):
    other = auth.account("administrateur")
    assert client.patch(f"/api/users/{admin.id}", json={"role": "agent"}, headers=admin.headers).status_code == 403
    assert client.patch(f"/api/users/{other.id}", json={"email": "x@example.com"},
                        headers=admin.headers).status_code == 422
    assert events(client, admin, type="user_updated") == []


# ------------------------------------------------------------------ connection history


def test_audit_sessions_shows_every_session_with_its_user(client, auth, admin, agent):
    auth.login(agent.email, STRONG_PASSWORD, **from_ip("10.0.1.1", "Firefox/140"))
    rows = sessions(client, admin, user_id=agent.id)
    assert len(rows) == 2
    row = rows[0]
    assert set(row) == SESSION_FIELDS
    assert row["user"] == summary(agent)
    assert (row["ip"], row["user_agent"], row["active"]) == ("10.0.1.1", "Firefox/140", True)
    assert row["revoked_at"] is None and row["revoked_reason"] is None
    for key in ("created_at", "last_used_at", "expires_at"):
        assert at(row[key]).utcoffset() == timedelta(0) and row[key].endswith("+00:00")


def test_audit_sessions_shows_revocation(client, admin, agent):
    assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
    [row] = sessions(client, admin, user_id=agent.id)
    assert row["active"] is False and row["revoked_reason"] == "logout"
    assert at(row["revoked_at"]) <= datetime.now(timezone.utc)


def test_audit_sessions_filters_by_active(app, client, auth, admin, agent):
    now = datetime.now(timezone.utc)
    revoked, idle, expired, live = [auth.login_account(agent.email, STRONG_PASSWORD) for _ in range(4)]
    assert client.post("/api/auth/logout", headers=revoked.headers).status_code == 200
    ids = session_ids(app, agent.id)  # oldest first: the fixture's login, then the four above
    set_times(app, AuthSession, ids[2], last_used_at=now - timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60))
    set_times(app, AuthSession, ids[3], expires_at=now - timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=idle.headers).json["code"] == "token_expired"
    assert client.get("/api/auth/me", headers=expired.headers).json["code"] == "token_expired"
    active = sessions(client, admin, user_id=agent.id, active="true")
    assert {r["id"] for r in active} == {ids[0], ids[4]} and all(r["active"] for r in active)
    ended = sessions(client, admin, user_id=agent.id, active="false")
    assert {r["id"] for r in ended} == set(ids[1:4]) and not any(r["active"] for r in ended)
    assert len(sessions(client, admin, user_id=agent.id)) == 5


def test_audit_sessions_filters_by_user_id_and_email(client, auth, admin, agent, validateur):
    auth.login_account(agent.email, STRONG_PASSWORD)
    by_id = sessions(client, admin, user_id=agent.id)
    assert len(by_id) == 2 and {r["user"]["id"] for r in by_id} == {agent.id}
    assert sessions(client, admin, email=f"  {agent.email.upper()} ") == by_id
    assert sessions(client, admin, email="personne@example.com") == []
    assert sessions(client, admin, user_id=str(uuid.uuid4())) == []


def test_audit_sessions_filters_by_ip(client, auth, admin, agent, validateur):
    auth.login(agent.email, STRONG_PASSWORD, **from_ip("192.0.2.7"))
    auth.login(validateur.email, STRONG_PASSWORD, **from_ip("2001:db8::7"))
    assert [r["user"]["id"] for r in sessions(client, admin, ip="192.0.2.7")] == [agent.id]
    assert [r["user"]["id"] for r in sessions(client, admin, ip="2001:db8::7")] == [validateur.id]
    assert sessions(client, admin, ip="192.0.2.70") == []


@pytest.mark.parametrize("query, expected", [
    ({"date_from": "2026-01-11", "date_to": "2026-01-11"}, ["midi"]),
    ({"date_from": "2026-01-11"}, ["minuit", "midi"]),
    ({"date_to": "2026-01-11"}, ["midi", "veille"]),
    ({"date_from": "2026-01-10T23:30:00+00:00", "date_to": "2026-01-11T12:00:00Z"}, ["midi", "veille"]),
    ({"date_from": "2026-01-11T12:00:00.000001+00:00"}, ["minuit"]),
    ({"date_to": "2026-01-11T00:30:00+01:00"}, ["veille"]),  # 2026-01-10T23:30 UTC, inclusive
    ({"date_from": "2026-01-11T00:00:00"}, ["minuit", "midi"]),  # no offset: UTC
    ({"date_from": "2026-01-13"}, []),
])
def test_audit_sessions_filter_by_period(app, client, auth, admin, query, expected):
    times = {"veille": "2026-01-10T23:30:00+00:00", "midi": "2026-01-11T12:00:00+00:00",
             "minuit": "2026-01-12T00:00:00+00:00"}
    accounts = {}
    for label, moment in times.items():
        accounts[label] = auth.account("agent", nom=label)
        [session_id] = session_ids(app, accounts[label].id)
        set_times(app, AuthSession, session_id, created_at=at(moment))
    found = [r["user"]["nom"] for r in sessions(client, admin, **query)
             if r["user"]["nom"] in times]
    assert found == expected


@pytest.mark.parametrize("path", ["sessions", "events"])
@pytest.mark.parametrize("query, field", [
    ({"date_from": "hier"}, "date_from"), ({"date_to": "2026-02-30"}, "date_to"),
    ({"date_from": "2026-01-12", "date_to": "2026-01-11"}, "date_to"),
    ({"user_id": "pas-un-uuid"}, "user_id"), ({"per_page": 101}, "per_page"), ({"page": 0}, "page"),
])
def test_audit_filters_refuse_bad_values(client, admin, path, query, field):
    response = client.get(f"/api/audit/{path}", headers=admin.headers, query_string=query)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_audit_sessions_filter_refuses_a_bad_active_value(client, admin):
    response = client.get("/api/audit/sessions", headers=admin.headers, query_string={"active": "parfois"})
    assert response.status_code == 422 and "active" in response.json["errors"]


def test_audit_sessions_are_newest_first_and_paginated(app, client, auth, admin):
    base = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    accounts = [auth.account("agent") for _ in range(4)]
    for account in accounts:
        [session_id] = session_ids(app, account.id)
        set_times(app, AuthSession, session_id, created_at=base)  # a tie: the id decides, page after page
    [admin_session] = session_ids(app, admin.id)
    set_times(app, AuthSession, admin_session, created_at=base - timedelta(days=1))
    pages = [client.get("/api/audit/sessions", headers=admin.headers, query_string={"per_page": 2, "page": page})
             for page in (1, 2, 3)]
    assert pages[0].json["meta"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    ids = [row["id"] for page in pages for row in page.json["data"]]
    assert ids[:4] == sorted(ids[:4], reverse=True) and ids[4] == admin_session
    assert len(set(ids)) == 5


# ------------------------------------------------------------------ event log


@pytest.mark.parametrize("event_type", AUDIT_EVENT_TYPES)
def test_events_accept_every_known_type(client, admin, event_type):
    assert all(e["type"] == event_type for e in events(client, admin, type=event_type))


def test_events_refuse_an_unknown_type(client, admin):
    response = client.get("/api/audit/events", headers=admin.headers, query_string={"type": "document_deleted"})
    assert response.status_code == 422 and "type" in response.json["errors"]


def test_events_filter_by_type(client, auth, admin, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1")
    assert {e["type"] for e in events(client, admin, type="login_failed")} == {"login_failed"}
    assert {e["type"] for e in events(client, admin, type="login_succeeded")} == {"login_succeeded"}


def test_events_filter_by_user_id_matches_actor_or_subject(client, admin, agent, validateur):
    assert client.patch(f"/api/users/{agent.id}", json={"nom": "Petit"}, headers=admin.headers).status_code == 200
    about_agent = events(client, admin, user_id=agent.id)
    assert {e["type"] for e in about_agent} == {"login_succeeded", "user_updated"}
    by_admin = events(client, admin, user_id=admin.id, type="user_updated")
    assert [e["subject_user"]["id"] for e in by_admin] == [agent.id]
    assert all(validateur.id not in json.dumps(e) for e in about_agent)


def test_events_filter_by_email(client, auth, admin, agent):
    first, second = f"a-{uuid.uuid4().hex[:6]}@example.com", f"b-{uuid.uuid4().hex[:6]}@example.com"
    for email in (first, second):
        auth.login(email, "Mauvais-Mot-De-Passe-1")
    found = events(client, admin, email=first.upper())
    assert [(e["type"], e["email"]) for e in found] == [("login_failed", first)]
    assert events(client, admin, email=first, type="login_succeeded") == []
    assert {e["type"] for e in events(client, admin, email=agent.email)} == {"login_succeeded"}


def test_events_filter_by_ip(client, auth, admin, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1", **from_ip("198.51.100.9"))
    auth.login(agent.email, STRONG_PASSWORD, **from_ip("198.51.100.10"))
    assert [e["type"] for e in events(client, admin, ip="198.51.100.9")] == ["login_failed"]
    assert [e["type"] for e in events(client, admin, ip="198.51.100.10")] == ["login_succeeded"]


def test_events_filter_by_period_and_are_newest_first(app, client, auth, admin):
    emails = [f"periode-{n}@example.com" for n in range(3)]
    moments = ["2026-05-01T09:00:00+00:00", "2026-05-02T09:00:00+00:00", "2026-05-03T09:00:00+00:00"]
    with app.app_context():  # events of past days, written as the listener writes them (rows cannot be updated)
        for email, moment in zip(emails, moments):
            db.session.add(AuditEvent(type="login_failed", email=email, created_at=at(moment)))
        db.session.commit()
    found = events(client, admin, type="login_failed", date_from="2026-05-02", date_to="2026-05-03")
    assert [e["email"] for e in found] == [emails[2], emails[1]]
    assert [e["email"] for e in events(client, admin, type="login_failed", date_to="2026-05-01")] == [emails[0]]
    assert events(client, admin, type="login_failed", date_from="2026-05-03T09:00:01Z",
                  date_to="2026-05-31") == []


def test_events_are_paginated(client, auth, admin):
    for _ in range(3):
        auth.login("pagination@example.com", "Mauvais-Mot-De-Passe-1")
    query = {"email": "pagination@example.com", "per_page": 2}
    first = client.get("/api/audit/events", headers=admin.headers, query_string=query)
    second = client.get("/api/audit/events", headers=admin.headers, query_string={**query, "page": 2})
    assert first.json["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert len(first.json["data"]) == 2 and len(second.json["data"]) == 1
    assert len({e["id"] for e in first.json["data"] + second.json["data"]}) == 3


# ------------------------------------------------------------------ append-only


@pytest.mark.parametrize("path", ["/api/audit/events", "/api/audit/sessions"])
@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "POST"])
def test_audit_is_read_only(app, client, admin, path, method):
    with app.app_context():
        before = db.session.scalars(select(AuditEvent.id)).all()
    response = client.open(path, method=method, headers=admin.headers, json={})
    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.id)).all() == before


# ------------------------------------------------------------------ the log in words (the Journal screen)

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def valid_letter(client, org, **fields):
    letter = create(client, org.registrar, **fields)
    assert client.post(f"/api/documents/{letter['id']}/validate", headers=org.admin.headers).status_code == 200
    return letter


def take_charge(client, account, letter):
    response = client.post(f"/api/documents/{letter['id']}/prendre-en-charge", json={}, headers=account.headers)
    assert response.status_code == 200, response.json


def lines(event):
    return {line["label"]: line["value"] for line in event["summary"]}


def test_the_types_route_lists_every_type_with_its_french_label(client, admin, agent):
    response = client.get("/api/audit/types", headers=admin.headers)
    assert response.status_code == 200, response.json
    types = response.json["data"]
    assert [t["type"] for t in types] == list(AUDIT_EVENT_TYPES)
    labels = {t["type"]: t["label"] for t in types}
    assert labels["mfa_enabled"] == "Double authentification activée"
    assert labels["mfa_recovery_used"] == "Code de secours utilisé"
    assert all("_" not in label and label[0].isupper() for label in labels.values())
    assert len(set(labels.values())) == len(labels)
    assert client.get("/api/audit/types", headers=agent.headers).status_code == 403


def test_events_say_their_details_in_words_with_names_instead_of_ids(app, client, org):
    admin = org.admin
    letter = valid_letter(client, org, service_id=org.fin["id"])
    assert assign(client, admin, letter, service_id=org.rh["id"], responsable_id=org.rh_agent.id,
                  copie_service_ids=[org.dg["id"]]).status_code == 200
    take_charge(client, org.rh_agent, letter)
    assert client.patch(f"/api/users/{org.outsider.id}", json={"role": "validateur", "is_active": False},
                        headers=admin.headers).status_code == 200
    assert client.put(f"/api/users/{org.registrar.id}/services", json={"services": [org.fin["id"], org.rh["id"]],
                      "primary": org.rh["id"]}, headers=admin.headers).status_code == 200
    assert client.post("/api/services", json={"code": "URBA", "nom": "Urbanisme", "parent_id": org.dg["id"]},
                       headers=admin.headers).status_code == 201
    assert client.get("/api/registre", query_string={"type": "entrant", "date_from": "2026-01-01",
                                                     "date_to": "2026-12-31", "format": "csv"},
                      headers=admin.headers).status_code == 200
    all_events = events(client, admin)
    by_type = {}
    for event in all_events:
        by_type.setdefault(event["type"], event)

    routed = by_type["document_assigned"]
    assert routed["label"] == "Courrier imputé"
    assert routed["document"] == {"id": letter["id"], "reference": letter["reference"]}
    assert lines(routed) == {"Service": "de FIN à RH", "Responsable": "Paul rh_agent", "Copies ajoutées": "DG"}
    assert lines(by_type["document_taken_in_charge"])["État"] == "de à traiter à en cours"
    assert lines(by_type["user_updated"]) == {"Rôle": "agent → validateur", "État": "actif → désactivé",
                                              "Sessions fermées": "1"}
    assert lines(by_type["memberships_changed"]) == {"Services": "FIN, RH", "Service principal": "RH"}
    assert lines(by_type["service_created"]) == {"Service": "URBA — Urbanisme", "Service parent": "DG — Service DG",
                                                 "Bureau du courrier": "non"}
    assert lines(by_type["register_exported"]) == {"Registre": "courrier entrant", "Format": "CSV",
                                                   "Période": "du 01/01/2026 au 31/12/2026", "Lignes exportées": "1"}
    assert lines(by_type["login_succeeded"]) == {"Méthode": "mot de passe", "Double authentification": "non"}
    for event in all_events:  # no raw key, no id, no JSON left for a person to decode
        for line in event["summary"]:
            text = f"{line['label']} {line['value']}"
            assert "_" not in line["label"] and not UUID_PATTERN.search(text) and "{" not in text, event


def test_a_failed_login_and_a_password_reset_read_in_french(client, auth, admin, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1")
    assert lines(only_event(client, admin, "login_failed")) == {"Motif": "mot de passe erroné"}
    assert client.post(f"/api/users/{agent.id}/mfa/reset", headers=admin.headers).status_code == 200
    assert lines(only_event(client, admin, "mfa_reset")) == {"Double authentification active avant": "non",
                                                             "Sessions fermées": "1"}


def test_a_page_of_events_names_its_ids_in_one_query_per_kind(app, client, org):
    """However many letters a page routes, their responsables are read in one query."""
    from sqlalchemy import event as sa_event

    for account in (org.fin_agent, org.fin_agent2, org.rh_agent):
        take_charge(client, account, valid_letter(client, org, service_id=org.rh["id"] if account is
                                                  org.rh_agent else org.fin["id"]))
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(events(client, org.admin)) > 20
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    # Actors, subjects (the relationships' loads) and the ids named in details: one statement each.
    assert sum("FROM users" in s and " IN (" in s for s in statements) == 3
