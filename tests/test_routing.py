"""Routing letters to services and who sees them (issue 12): the visibility matrix, /assign, decisions."""
import threading

import pytest
from sqlalchemy import select

from courrier.audit.models import AuditEvent
from courrier.documents.models import DocumentEvent
from courrier.extensions import db
from tests.conftest import assign, create, join


def sees(client, account, document):
    """Whether the letter is visible to `account`, by its detail (200 / 404) and in the register — both agree."""
    detail = client.get(f"/api/documents/{document['id']}", headers=account.headers).status_code
    listed = client.get("/api/documents", query_string={"per_page": 100}, headers=account.headers).json["data"]
    in_list = document["id"] in {d["id"] for d in listed}
    assert (detail == 200) == in_list and detail in (200, 404), (detail, in_list)
    return in_list


@pytest.fixture
def routed(client, org):
    """A letter registered by `registrar`, treated by FIN (responsable fin_agent), copied to RH and copied_agent."""
    return create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id,
                  copie_service_ids=[org.rh["id"]], copie_user_ids=[org.copied_agent.id])


# ------------------------------------------------------------------ who sees what

@pytest.mark.parametrize("who", [
    "registrar",           # registered it
    "admin",               # administrateur
    "bc_agent",            # member of the mail office
    "fin_agent2",          # member of its treating service
    "dg_validateur",       # validateur of a service above it
    "fin_validateur",      # validateur of the treating service itself
    "copied_agent",        # in its copies
    "rh_agent",            # in its copies through their service
    "fin_agent",           # its responsable (and a member)
])
def test_these_see_a_routed_letter(client, org, routed, who):
    assert sees(client, getattr(org, who), routed)


@pytest.mark.parametrize("who", [
    "outsider",            # no service, not in copies
    "dg_agent",            # an agent (not validateur) of a service above it
    "compta_validateur",   # validateur of a service below it
    "lone_validateur",     # validateur of no service: a routed letter is not theirs to see
])
def test_these_do_not_see_a_routed_letter(client, org, routed, who):
    assert not sees(client, getattr(org, who), routed)


def test_a_letter_without_service_or_copies_follows_api_md_section_4(client, org):
    letter = create(client, org.registrar)
    assert letter["service"] is None and letter["responsable"] is None
    assert letter["copies"] == {"services": [], "users": []}
    for account in (org.registrar, org.admin, org.lone_validateur, org.rh_validateur, org.bc_agent):
        assert sees(client, account, letter)
    for account in (org.outsider, org.fin_agent, org.rh_agent):
        assert not sees(client, account, letter)


def test_copies_alone_make_an_unrouted_letter_visible(client, org):
    letter = create(client, org.registrar, copie_user_ids=[org.copied_agent.id], copie_service_ids=[org.fin["id"]])
    assert sees(client, org.copied_agent, letter) and sees(client, org.fin_agent, letter)
    assert not sees(client, org.rh_agent, letter)


def test_a_letter_stays_visible_in_a_deactivated_service(client, org, routed):
    response = client.patch(f"/api/services/{org.fin['id']}", json={"is_active": False}, headers=org.admin.headers)
    assert response.status_code == 200
    assert sees(client, org.fin_agent2, routed)
    refused = create(client, org.registrar, expected=422, service_id=org.fin["id"])
    assert "service_id" in refused["errors"]


# ------------------------------------------------------------------ the routing fields

def test_a_routed_letter_shows_its_service_responsable_and_copies(client, org, routed):
    assert routed["service"] == {"id": org.fin["id"], "code": "FIN", "nom": "Service FIN"}
    assert routed["responsable"] == {"id": org.fin_agent.id, "nom": "fin_agent", "prenom": "Paul"}
    assert routed["copies"] == {"services": [{"id": org.rh["id"], "code": "RH", "nom": "Service RH"}],
                                "users": [{"id": org.copied_agent.id, "nom": "copied_agent", "prenom": "Paul"}]}


@pytest.mark.parametrize("fields, field", [
    ({"service_id": "nope"}, "service_id"),
    ({"service_id": None, "responsable_id": "x"}, "responsable_id"),
    ({"copie_service_ids": ["nope"]}, "copie_service_ids"),
    ({"copie_user_ids": ["nope"]}, "copie_user_ids"),
    ({"copie_user_ids": "x"}, "copie_user_ids"),
    ({"service_id": 12}, "service_id"),
    ({"copie_service_ids": [None]}, "copie_service_ids"),
])
def test_bad_routing_at_registration_is_422(client, org, fields, field):
    assert field in create(client, org.registrar, expected=422, **fields)["errors"]


def test_the_responsable_must_be_an_active_member_of_the_treating_service(client, org):
    for account in (org.rh_agent, org.outsider):
        refused = create(client, org.registrar, expected=422, service_id=org.fin["id"], responsable_id=account.id)
        assert "responsable_id" in refused["errors"]
    client.patch(f"/api/users/{org.fin_agent2.id}", json={"is_active": False}, headers=org.admin.headers)
    refused = create(client, org.registrar, expected=422, service_id=org.fin["id"], responsable_id=org.fin_agent2.id)
    assert "responsable_id" in refused["errors"]


def test_inactive_users_and_services_cannot_be_copied(client, org):
    client.patch(f"/api/users/{org.outsider.id}", json={"is_active": False}, headers=org.admin.headers)
    client.patch(f"/api/services/{org.rh['id']}", json={"is_active": False}, headers=org.admin.headers)
    assert "copie_user_ids" in create(client, org.registrar, expected=422, copie_user_ids=[org.outsider.id])["errors"]
    assert "copie_service_ids" in create(client, org.registrar, expected=422,
                                         copie_service_ids=[org.rh["id"]])["errors"]


def test_registration_with_copies_is_recorded_as_a_routing(app, client, org):
    """Copies set on the registration form: one transaction, the same history row and audit event as /assign."""
    letter = create(client, org.registrar, service_id=org.fin["id"], copie_service_ids=[org.rh["id"]],
                    copie_user_ids=[org.copied_agent.id])
    assert [s["code"] for s in letter["copies"]["services"]] == ["RH"]
    assert [u["id"] for u in letter["copies"]["users"]] == [org.copied_agent.id]
    history = client.get(f"/api/documents/{letter['id']}/history", headers=org.admin.headers).json["data"]
    assert [entry["action"] for entry in history] == ["created", "assigned"]
    details = history[-1]["details"]
    assert details["from"] == {"service": None, "responsable": None, "copies": {"services": [], "users": []}}
    assert details["to"]["service"]["code"] == "FIN"
    assert [s["code"] for s in details["to"]["copies"]["services"]] == ["RH"]
    assert [u["id"] for u in details["to"]["copies"]["users"]] == [org.copied_agent.id]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "document_assigned")).one()
        assert event.actor_id == org.registrar.id and event.details["document_id"] == letter["id"]
        assert [s["code"] for s in event.details["to"]["copies"]["services"]] == ["RH"]


def test_copies_alone_at_registration_are_a_routing_and_empty_lists_are_none(client, org):
    copied = create(client, org.registrar, copie_service_ids=[org.rh["id"]])
    history = client.get(f"/api/documents/{copied['id']}/history", headers=org.admin.headers).json["data"]
    assert [entry["action"] for entry in history] == ["created", "assigned"]
    assert history[-1]["details"]["to"]["service"] is None
    plain = create(client, org.registrar, copie_service_ids=[], copie_user_ids=[])
    history = client.get(f"/api/documents/{plain['id']}/history", headers=org.admin.headers).json["data"]
    assert [entry["action"] for entry in history] == ["created"]


def test_a_refused_copy_at_registration_registers_nothing(app, client, org):
    """The copies are checked in the registering transaction: a bad one leaves no letter and no reference used."""
    first = create(client, org.registrar)
    refused = create(client, org.registrar, expected=422, service_id=org.fin["id"],
                     copie_user_ids=[org.copied_agent.id, "nope"])
    assert "copie_user_ids" in refused["errors"]
    with app.app_context():
        assert db.session.scalars(select(DocumentEvent.document_id).distinct()).all() == [first["id"]]
    following = create(client, org.registrar)
    assert int(following["reference"][-6:]) == int(first["reference"][-6:]) + 1


def test_patch_does_not_route(client, org, routed):
    response = client.patch(f"/api/documents/{routed['id']}", json={"service_id": org.rh["id"]},
                            headers=org.registrar.headers)
    assert response.status_code == 422 and "/assign" in response.json["errors"]["service_id"][0]


# ------------------------------------------------------------------ /assign

@pytest.mark.parametrize("who", ["bc_agent", "admin", "dg_validateur", "fin_validateur", "fin_agent"])
def test_these_may_route_a_letter(client, org, routed, who):
    response = assign(client, getattr(org, who), routed, service_id=org.compta["id"])
    assert response.status_code == 200, response.json
    assert response.json["data"]["service"]["code"] == "COMPTA"


@pytest.mark.parametrize("who", ["fin_agent2", "registrar", "copied_agent", "rh_agent"])
def test_these_see_but_may_not_route_a_letter(client, org, routed, who):
    response = assign(client, getattr(org, who), routed, service_id=org.compta["id"])
    assert response.status_code == 403 and response.json["code"] == "forbidden"


@pytest.mark.parametrize("who", ["outsider", "compta_validateur"])
def test_routing_a_letter_one_cannot_see_is_404(client, org, routed, who):
    assert assign(client, getattr(org, who), routed, service_id=org.rh["id"]).status_code == 404


def test_an_unrouted_letter_is_routed_by_the_mail_office_not_by_a_validateur(client, org):
    letter = create(client, org.registrar)
    assert assign(client, org.rh_validateur, letter, service_id=org.rh["id"]).status_code == 403
    assert assign(client, org.bc_agent, letter, service_id=org.rh["id"]).status_code == 200


def test_a_rejected_letter_cannot_be_routed(client, org):
    letter = create(client, org.registrar)
    assert client.post(f"/api/documents/{letter['id']}/reject", json={"motif": "Hors sujet"},
                       headers=org.lone_validateur.headers).status_code == 200
    response = assign(client, org.bc_agent, letter, service_id=org.fin["id"])
    assert response.status_code == 409 and response.json["code"] == "conflict"


def test_a_validated_letter_can_still_be_routed(client, org):
    letter = create(client, org.registrar)
    client.post(f"/api/documents/{letter['id']}/validate", headers=org.lone_validateur.headers)
    assert assign(client, org.bc_agent, letter, service_id=org.fin["id"]).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({}, "service_id"),
    ({"service_id": None}, "service_id"),
    ({"service_id": "nope"}, "service_id"),
    ({"service_id": "RH-ID", "responsable_id": "FIN-AGENT"}, "responsable_id"),
    ({"service_id": "FIN-ID", "copie_user_ids": ["nope"]}, "copie_user_ids"),
    ({"service_id": "FIN-ID", "motif": "x" * 2001}, "motif"),
    ({"service_id": "FIN-ID", "statut": "valide"}, "statut"),
])
def test_bad_assignments_are_422_and_change_nothing(client, org, routed, body, field):
    ids = {"RH-ID": org.rh["id"], "FIN-ID": org.fin["id"], "FIN-AGENT": org.fin_agent.id}
    body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    response = assign(client, org.bc_agent, routed, **body)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    after = client.get(f"/api/documents/{routed['id']}", headers=org.admin.headers).json["data"]
    assert (after["service"], after["responsable"], after["copies"]) == \
        (routed["service"], routed["responsable"], routed["copies"])


def test_rerouting_records_history_and_audit(app, client, org, routed):
    response = assign(client, org.bc_agent, routed, service_id=org.rh["id"], responsable_id=org.rh_agent.id,
                      copie_user_ids=[], motif="Erreur d'aiguillage")
    assert response.status_code == 200
    moved = response.json["data"]
    assert moved["responsable"]["id"] == org.rh_agent.id and moved["copies"]["users"] == []
    assert moved["copies"]["services"] == routed["copies"]["services"]  # omitted: kept
    history = client.get(f"/api/documents/{routed['id']}/history", headers=org.admin.headers).json["data"]
    assert [entry["action"] for entry in history] == ["created", "assigned", "assigned"]
    details = history[-1]["details"]
    assert details["from"]["service"]["code"] == "FIN" and details["from"]["responsable"]["id"] == org.fin_agent.id
    assert details["to"]["service"]["code"] == "RH" and details["to"]["responsable"]["id"] == org.rh_agent.id
    assert details["motif"] == "Erreur d'aiguillage"
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "document_assigned")
                                    .order_by(AuditEvent.created_at)).all()
        assert [(e.actor_id, e.details["to"]["service"]["code"]) for e in events] == \
            [(org.registrar.id, "FIN"), (org.bc_agent.id, "RH")]
    # The previous responsable no longer treats it, and no longer sees it.
    assert not sees(client, org.fin_agent, routed)


def test_an_omitted_responsable_stays_within_the_service_and_goes_with_a_new_one(client, org, routed):
    same = assign(client, org.bc_agent, routed, service_id=org.fin["id"]).json["data"]
    assert same["responsable"]["id"] == org.fin_agent.id
    cleared = assign(client, org.bc_agent, routed, service_id=org.fin["id"], responsable_id=None).json["data"]
    assert cleared["responsable"] is None
    assign(client, org.bc_agent, routed, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    elsewhere = assign(client, org.bc_agent, routed, service_id=org.rh["id"]).json["data"]
    assert elsewhere["responsable"] is None


def test_two_routings_at_once_both_apply_in_order(app, org, routed):
    """Each request on its own client and thread: both succeed, and each history entry's "from" is what it
    really replaced, so the two entries chain."""
    targets = [org.rh, org.compta]
    results = []
    barrier = threading.Barrier(2)

    def route(target):
        client = app.test_client()
        barrier.wait()
        results.append(assign(client, org.bc_agent, routed, service_id=target["id"]).status_code)

    threads = [threading.Thread(target=route, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    with app.app_context():
        entries = db.session.scalars(
            select(DocumentEvent).where(DocumentEvent.document_id == routed["id"], DocumentEvent.action == "assigned")
            .order_by(DocumentEvent.at, DocumentEvent.id)).all()
        hops = [(e.details["from"]["service"]["code"], e.details["to"]["service"]["code"]) for e in entries[1:]]
    assert len(hops) == 2 and hops[0][0] == "FIN" and hops[1][0] == hops[0][1]
    assert {hop[1] for hop in hops} == {"RH", "COMPTA"}


# ------------------------------------------------------------------ decisions on a routed letter

@pytest.mark.parametrize("who, status", [
    ("fin_validateur", 200), ("dg_validateur", 200), ("admin", 200),
    ("rh_validateur", 403),      # sees it through the copy to RH, but RH is not above FIN
    ("compta_validateur", 404),  # below FIN: does not even see it
    ("lone_validateur", 404),
])
def test_a_routed_letter_is_decided_by_validateurs_of_its_service_or_above(client, org, routed, who, status):
    assert client.post(f"/api/documents/{routed['id']}/validate",
                       headers=getattr(org, who).headers).status_code == status


def test_four_eyes_still_holds_for_a_routed_letter(client, org):
    letter = create(client, org.fin_validateur, service_id=org.fin["id"])
    response = client.post(f"/api/documents/{letter['id']}/validate", headers=org.fin_validateur.headers)
    assert response.status_code == 403 and "quatre yeux" in response.json["message"]


# ------------------------------------------------------------------ register filters

def test_register_filters_by_service_subtree_responsable_and_unrouted(client, org):
    at_fin = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    at_compta = create(client, org.registrar, service_id=org.compta["id"])
    at_rh = create(client, org.registrar, service_id=org.rh["id"])
    unrouted = create(client, org.registrar)

    def listed(**query):
        response = client.get("/api/documents", query_string=query, headers=org.admin.headers)
        assert response.status_code == 200, response.json
        return {d["id"] for d in response.json["data"]}

    assert listed(service_id=org.fin["id"]) == {at_fin["id"]}
    assert listed(service_id=org.fin["id"], sous_services="true") == {at_fin["id"], at_compta["id"]}
    assert listed(service_id=org.dg["id"], sous_services="true") == {at_fin["id"], at_compta["id"]}
    assert listed(responsable_id=org.fin_agent.id) == {at_fin["id"]}
    assert listed(non_affecte="true") == {unrouted["id"]}
    assert listed(service_id=org.rh["id"]) == {at_rh["id"]}
    assert listed(service_id="unknown") == set()


def test_the_responsable_keeps_their_letter_after_leaving_the_service(client, org, routed):
    """Leaving FIN does not hide what fin_agent is in charge of until someone re-routes it."""
    join(client, org.admin, org.fin_agent)
    assert sees(client, org.fin_agent, routed)
    assert not sees(client, org.fin_agent, create(client, org.registrar, service_id=org.fin["id"]))
