"""The workflow: who validates and rejects (role matrix, four-eyes rule), final decisions (409),
history and audit rows committed with the decision or not at all, and races decided by the database."""
import os
import threading

import pytest
from sqlalchemy import select, update

from courrier.audit.models import AuditEvent
from courrier.auth.models import User
from courrier.documents import rules, service
from courrier.documents.models import Document, DocumentEvent
from courrier.extensions import db
from tests.test_documents import assert_error, assert_field_error, create_doc, history_actions, upload


def validate(client, account, doc):
    return client.post(f"/api/documents/{doc['id']}/validate", headers=account.headers)


def reject(client, account, doc, motif="Pièce manquante"):
    return client.post(f"/api/documents/{doc['id']}/reject", json={"motif": motif}, headers=account.headers)


def decide(client, account, doc, decision):
    return validate(client, account, doc) if decision == "validate" else reject(client, account, doc)


def without_actions(document):
    """The letter as every caller sees it: its `actions` are the caller's own (tests/test_actions.py)."""
    return {name: value for name, value in document.items() if name != "actions"}


def statut_of(client, account, doc):
    return client.get(f"/api/documents/{doc['id']}", headers=account.headers).json["data"]["statut"]


# ------------------------------------------------------------------ decisions

def test_validateur_validates_another_users_document(client, agent, validateur):
    doc = create_doc(client, agent)
    response = validate(client, validateur, doc)
    assert response.status_code == 200, response.json
    done = response.json["data"]
    assert done["statut"] == "valide" and done["motif_rejet"] is None
    assert done["validated_by"] == {"id": validateur.id, "nom": validateur.user["nom"],
                                    "prenom": validateur.user["prenom"]}
    assert done["validated_at"].endswith("+00:00") and done["updated_at"] == done["validated_at"]
    assert without_actions(client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"]) == \
        without_actions(done)


def test_reject_records_the_motif_and_the_decider(client, agent, admin):
    doc = create_doc(client, agent)
    done = reject(client, admin, doc, motif="  Signature absente  ").json["data"]
    assert done["statut"] == "rejete"
    assert done["motif_rejet"] == "Signature absente"
    assert done["validated_by"]["id"] == admin.id and done["validated_at"]


@pytest.mark.parametrize("decision", ["validate", "reject"])
def test_agent_cannot_decide(client, agent, decision):
    doc = create_doc(client, agent)
    assert_error(decide(client, agent, doc, decision), 403, "forbidden")
    assert statut_of(client, agent, doc) == "en_attente"


@pytest.mark.parametrize("role", ["validateur", "administrateur"])
@pytest.mark.parametrize("decision", ["validate", "reject"])
def test_nobody_decides_on_their_own_document(client, auth, role, decision):
    account = auth.account(role)
    doc = create_doc(client, account)
    body = assert_error(decide(client, account, doc, decision), 403, "forbidden")
    assert "quatre yeux" in body["message"]
    assert statut_of(client, account, doc) == "en_attente"
    assert history_actions(client, account, doc["id"]) == ["created"]


def test_four_eyes_follows_the_creator_not_the_role(app, client, auth):
    """An agent promoted to validateur still cannot validate what they registered as an agent."""
    account = auth.account("agent")
    doc = create_doc(client, account)
    with app.app_context():
        db.session.execute(update(User).where(User.id == account.id).values(role="validateur"))
        db.session.commit()
    assert_error(validate(client, account, doc), 403, "forbidden")


def test_role_is_read_from_the_database_for_decisions(app, client, auth, agent):
    demoted = auth.account("validateur")
    with app.app_context():
        db.session.execute(update(User).where(User.id == demoted.id).values(role="agent"))
        db.session.commit()
    doc = create_doc(client, agent)
    assert_error(validate(client, demoted, doc), 404, "not_found")  # an agent no longer sees it
    assert statut_of(client, agent, doc) == "en_attente"


@pytest.mark.parametrize("motif", [None, "", "   ", "m" * 2001, 12])
def test_reject_needs_a_motif_of_1_to_2000_characters(client, agent, validateur, motif):
    doc = create_doc(client, agent)
    body = {} if motif is None else {"motif": motif}
    response = client.post(f"/api/documents/{doc['id']}/reject", json=body, headers=validateur.headers)
    assert_field_error(response, "motif")
    assert statut_of(client, agent, doc) == "en_attente"


def test_a_2000_character_motif_is_accepted(client, agent, validateur):
    doc = create_doc(client, agent)
    assert reject(client, validateur, doc, motif="m" * 2000).json["data"]["motif_rejet"] == "m" * 2000


def test_deciding_an_unknown_document_is_404(client, validateur):
    assert_error(client.post("/api/documents/00000000-0000-4000-8000-000000000000/validate",
                             headers=validateur.headers), 404, "not_found")


# ------------------------------------------------------------------ decisions are final (409)

@pytest.mark.parametrize("first, second", [("validate", "validate"), ("validate", "reject"),
                                           ("reject", "validate"), ("reject", "reject")])
def test_a_decided_document_cannot_be_decided_again(client, auth, agent, first, second):
    deciders = auth.account("validateur"), auth.account("administrateur")
    doc = create_doc(client, agent)
    assert decide(client, deciders[0], doc, first).status_code == 200
    for decider in deciders:
        assert_error(decide(client, decider, doc, second), 409, "conflict")
    assert statut_of(client, agent, doc) == ("valide" if first == "validate" else "rejete")
    assert history_actions(client, agent, doc["id"]) == ["created", "validated" if first == "validate" else "rejected"]


@pytest.mark.parametrize("decision", ["validate", "reject"])
@pytest.mark.parametrize("editor", ["creator", "admin"])
def test_patch_after_decision_is_409(client, agent, validateur, admin, decision, editor):
    doc = create_doc(client, agent)
    decided = decide(client, validateur, doc, decision).json["data"]
    account = agent if editor == "creator" else admin
    assert_error(client.patch(f"/api/documents/{doc['id']}", json={"objet": "Trop tard"}, headers=account.headers),
                 409, "conflict")
    assert without_actions(client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"]) == \
        without_actions(decided)


# ------------------------------------------------------------------ history and audit

@pytest.mark.parametrize("decision, action, event_type", [("validate", "validated", "document_validated"),
                                                          ("reject", "rejected", "document_rejected")])
def test_decision_writes_history_and_audit(app, client, agent, validateur, decision, action, event_type):
    doc = create_doc(client, agent)
    decide(client, validateur, doc, decision)
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers).json["data"]
    assert [e["action"] for e in entries] == ["created", action]
    assert entries[-1]["actor"]["id"] == validateur.id
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.type == event_type)).all()
        assert len(events) == 1
        assert (events[0].actor_id, events[0].subject_user_id) == (validateur.id, agent.id)
        assert events[0].details["document_id"] == doc["id"]
        assert events[0].details["reference"] == doc["reference"]


@pytest.mark.parametrize("decision", ["validate", "reject"])
def test_refused_decisions_leave_no_audit_row(app, client, agent, validateur, decision):
    doc = create_doc(client, agent)
    decide(client, agent, doc, decision)  # 403
    decide(client, validateur, doc, decision)
    decide(client, validateur, doc, decision)  # 409
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.type.like("document_%"))).all()) == 1


def _raise(*args, **kwargs):
    raise RuntimeError("panne simulée")


@pytest.mark.parametrize("decision", ["validate", "reject"])
@pytest.mark.parametrize("failing", ["audit", "history"])
def test_a_decision_failing_midway_changes_nothing(app, client, agent, validateur, monkeypatch, decision, failing):
    doc = create_doc(client, agent)
    if failing == "audit":
        monkeypatch.setattr(rules.TRANSITIONS[decision].signal, "send", _raise)
    else:
        real_record = service.record
        monkeypatch.setattr(service, "record", lambda document, action, *a: (
            _raise() if action in ("validated", "rejected") else real_record(document, action, *a)))
    assert_error(decide(client, validateur, doc, decision), 500, "internal_error")
    monkeypatch.undo()
    assert client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"] == doc
    assert history_actions(client, agent, doc["id"]) == ["created"]
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.type.like("document_%"))).all() == []
    assert decide(client, validateur, doc, decision).status_code == 200  # nothing was left locked


# ------------------------------------------------------------------ races, decided by the database

def run_concurrently(app, calls):
    """Run each call (a function of a test client) in its own thread; returns their responses in order."""
    results = [None] * len(calls)

    def worker(index, call):
        try:
            results[index] = call(app.test_client())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert not any(isinstance(result, Exception) for result in results), results
    return results


def hold_after_checks(monkeypatch, parties):
    """Make every decider wait, once its role and four-eyes checks have passed, until all of them have
    read the document as pending: only the database's conditional UPDATE is left to arbitrate."""
    barrier = threading.Barrier(parties, timeout=20)
    real_require = rules.require

    def require(action, viewer, document, **kwargs):
        real_require(action, viewer, document, **kwargs)
        barrier.wait()

    monkeypatch.setattr(rules, "require", require)


@pytest.mark.parametrize("decisions", [("validate", "validate"), ("validate", "reject")])
def test_concurrent_decisions_end_with_one_200_and_one_409(app, client, auth, agent, monkeypatch, decisions):
    deciders = auth.account("validateur"), auth.account("administrateur")
    doc = create_doc(client, agent)
    hold_after_checks(monkeypatch, 2)
    responses = run_concurrently(app, [
        lambda c, account=account, decision=decision: decide(c, account, doc, decision)
        for account, decision in zip(deciders, decisions)])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.json for r in responses]
    winner = next(r.json["data"] for r in responses if r.status_code == 200)
    seen = client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"]
    assert without_actions(seen) == without_actions(winner)
    assert len(history_actions(client, agent, doc["id"])) == 2
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.type.like("document_%"))).all()) == 1


def decide_between_checks_and_write(app, monkeypatch, checked_action, decision, validateur, doc):
    """Have `decision` committed once `checked_action`'s checks have passed, before its write."""
    real_require = rules.require

    def decided_meanwhile(action, viewer, document, **kwargs):
        real_require(action, viewer, document, **kwargs)
        if action == checked_action:  # the decision itself passes through `require` too
            assert decision(app.test_client(), validateur, doc).status_code == 200

    monkeypatch.setattr(rules, "require", decided_meanwhile)


def test_edit_racing_a_decision_is_409(app, client, agent, validateur, monkeypatch):
    """A decision committed between the edit's checks and its UPDATE wins: the edit is refused."""
    doc = create_doc(client, agent)
    decide_between_checks_and_write(app, monkeypatch, "modifier", validate, validateur, doc)
    response = client.patch(f"/api/documents/{doc['id']}", json={"objet": "Trop tard"}, headers=agent.headers)
    assert_error(response, 409, "conflict")
    monkeypatch.undo()
    current = client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"]
    assert (current["statut"], current["objet"]) == ("valide", doc["objet"])
    assert history_actions(client, agent, doc["id"]) == ["created", "validated"]


def test_upload_racing_a_decision_is_409_and_stores_nothing(app, client, agent, validateur, monkeypatch):
    doc = create_doc(client, agent)
    decide_between_checks_and_write(app, monkeypatch, "joindre", reject, validateur, doc)
    assert_error(upload(client, agent, doc["id"]), 409, "conflict")
    monkeypatch.undo()
    assert client.get(f"/api/documents/{doc['id']}/attachments", headers=agent.headers).json["data"] == []
    folder = app.config["UPLOAD_FOLDER"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_decision_timestamps_are_stored_in_utc(app, client, agent, validateur):
    doc = create_doc(client, agent)
    validate(client, validateur, doc)
    with app.app_context():
        stored = db.session.get(Document, doc["id"])
        assert stored.validated_at.utcoffset().total_seconds() == 0
        assert stored.validated_by_id == validateur.id
        assert db.session.scalar(select(DocumentEvent.actor_id).where(
            DocumentEvent.document_id == doc["id"], DocumentEvent.action == "validated")) == validateur.id
