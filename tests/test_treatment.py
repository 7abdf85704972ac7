"""Treatment, deadlines in working days, typologies and work queues (issue 13)."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courrier import deadlines
from courrier.audit.models import AuditEvent
from courrier.extensions import db
from tests.conftest import create

CONFIG = {"DELAI_NORMALE": 30, "DELAI_URGENTE": 8, "ALERTE_JOURS": 3, "HOLIDAYS_SUBDIVISION": None}


# ------------------------------------------------------------------ working days

@pytest.mark.parametrize("start, days, expected, subdivision", [
    (date(2026, 4, 2), 1, date(2026, 4, 3), None),      # Thursday → Good Friday is worked in most of France
    (date(2026, 4, 2), 2, date(2026, 4, 7), None),      # … then the Easter weekend and Easter Monday
    (date(2026, 4, 2), 1, date(2026, 4, 7), "57"),      # Moselle: Good Friday is a public holiday
    (date(2026, 12, 24), 1, date(2026, 12, 28), "6AE"),  # Alsace: 25 and 26 December
    (date(2026, 12, 24), 1, date(2026, 12, 28), None),   # elsewhere the 26th is a Saturday anyway
    (date(2026, 5, 13), 1, date(2026, 5, 15), None),    # Ascension Thursday skipped
    (date(2026, 7, 10), 1, date(2026, 7, 13), None),    # Friday → Monday
    (date(2026, 7, 10), 2, date(2026, 7, 15), None),    # … 14 July skipped
    (date(2026, 11, 1), 30, date(2026, 12, 14), None),
])
def test_working_days_skip_weekends_and_french_public_holidays(start, days, expected, subdivision):
    assert deadlines.add_working_days(start, days, subdivision) == expected


def test_the_deadline_follows_the_typologie_else_the_priority():
    class Typologie:
        delai_jours = 2

    monday = date(2026, 6, 1)
    assert deadlines.echeance(CONFIG, monday, "normale") == date(2026, 7, 13)
    assert deadlines.echeance(CONFIG, monday, "urgente") == date(2026, 6, 11)
    assert deadlines.echeance(CONFIG, monday, "urgente", Typologie()) == date(2026, 6, 3)


# ------------------------------------------------------------------ typologies

def typologie(client, admin, expected=201, **fields):
    body = {"code": "PC", "nom": "Permis de construire", "delai_jours": 10, **fields}
    response = client.post("/api/typologies", json=body, headers=admin.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def test_typologies_are_written_by_administrateurs_and_read_by_everyone(client, admin, agent):
    created = typologie(client, admin, code="pc", mode="sva")
    assert (created["code"], created["mode"], created["is_active"]) == ("PC", "sva", True)
    assert client.post("/api/typologies", json={"code": "X", "nom": "X", "delai_jours": 1},
                       headers=agent.headers).status_code == 403
    assert client.patch(f"/api/typologies/{created['id']}", json={"nom": "Y"}, headers=agent.headers).status_code == 403
    assert [t["code"] for t in client.get("/api/typologies", headers=agent.headers).json["data"]] == ["PC"]
    changed = client.patch(f"/api/typologies/{created['id']}", json={"delai_jours": 20, "is_active": False},
                           headers=admin.headers)
    assert changed.status_code == 200 and changed.json["data"]["delai_jours"] == 20
    assert client.get("/api/typologies", query_string={"is_active": "true"}, headers=agent.headers).json["data"] == []
    assert client.get("/api/typologies/nope", headers=agent.headers).status_code == 404


@pytest.mark.parametrize("fields, field", [
    ({"delai_jours": 0}, "delai_jours"), ({"delai_jours": 366}, "delai_jours"), ({"delai_jours": "10"}, "delai_jours"),
    ({"delai_jours": 1.5}, "delai_jours"), ({"mode": "tacite"}, "mode"), ({"code": "a b"}, "code"),
    ({"nom": ""}, "nom"),
])
def test_bad_typologies_are_422(client, admin, fields, field):
    assert field in typologie(client, admin, expected=422, **fields)["errors"]


def test_a_typologie_code_is_unique_whatever_its_case(client, admin):
    typologie(client, admin, code="PC")
    assert "code" in typologie(client, admin, expected=422, code="pc")["errors"]


def test_renaming_a_typologie_to_a_used_code_is_422(client, admin):
    typologie(client, admin, code="PC")
    other = typologie(client, admin, code="AUTRE")
    response = client.patch(f"/api/typologies/{other['id']}", json={"code": "pc"}, headers=admin.headers)
    assert response.status_code == 422 and "code" in response.json["errors"]


# ------------------------------------------------------------------ deadlines of letters

def test_a_letter_gets_its_deadline_in_working_days(client, admin, agent):
    normale = create(client, agent, date_reception="2026-07-10")
    urgente = create(client, agent, date_reception="2026-07-10", priorite="urgente")
    quick = typologie(client, admin, delai_jours=2)["id"]
    typed = create(client, agent, date_reception="2026-07-10", typologie_id=quick)
    assert normale["traitement"]["echeance"] == "2026-08-24"  # 30 working days, 14 July and 15 August skipped
    assert urgente["traitement"]["echeance"] == "2026-07-23"
    assert typed["traitement"]["echeance"] == "2026-07-15" and typed["typologie"]["code"] == "PC"


@pytest.mark.parametrize("app_config", [{"HOLIDAYS_SUBDIVISION": "57", "DELAI_URGENTE": 1}])
def test_the_subdivision_and_delays_are_configurable(client, agent):
    letter = create(client, agent, date_reception="2026-04-02", priorite="urgente")
    assert letter["traitement"]["echeance"] == "2026-04-07"


def test_the_deadline_is_recomputed_when_priority_typologie_or_reception_change(client, admin, agent):
    letter = create(client, agent, date_reception="2026-07-10")

    def patch(**changes):
        response = client.patch(f"/api/documents/{letter['id']}", json=changes, headers=agent.headers)
        assert response.status_code == 200, response.json
        return response.json["data"]["traitement"]["echeance"]

    assert patch(objet="Autre objet") == "2026-08-24"
    assert patch(priorite="urgente") == "2026-07-23"
    assert patch(date_reception="2026-07-13") == "2026-07-24"
    assert patch(typologie_id=typologie(client, admin, delai_jours=1)["id"]) == "2026-07-15"
    assert patch(typologie_id=None) == "2026-07-24"


def test_an_inactive_or_unknown_typologie_is_422(client, admin, agent):
    old = typologie(client, admin, is_active=False)
    for typologie_id in (old["id"], "nope"):
        assert "typologie_id" in create(client, agent, expected=422, typologie_id=typologie_id)["errors"]


def test_late_and_due_soon_are_judged_on_todays_paris_date(client, admin, agent):
    today = deadlines.paris_today()
    quick = typologie(client, admin, delai_jours=1)["id"]
    late = create(client, agent, date_reception=(today - timedelta(days=30)).isoformat(), typologie_id=quick)
    soon = create(client, agent, date_reception=today.isoformat(), typologie_id=quick)
    far = create(client, agent, date_reception=today.isoformat())
    assert (late["traitement"]["en_retard"], late["traitement"]["bientot_en_retard"]) == (True, False)
    assert (soon["traitement"]["en_retard"], soon["traitement"]["bientot_en_retard"]) == (False, True)
    assert (far["traitement"]["en_retard"], far["traitement"]["bientot_en_retard"]) == (False, False)


def test_sva_and_svr_say_what_the_silence_will_mean(client, admin, agent):
    letter = create(client, agent, typologie_id=typologie(client, admin, mode="svr")["id"])
    assert letter["traitement"]["mode"] == "svr" and "rejet" in letter["traitement"]["silence"]
    assert create(client, agent)["traitement"]["silence"] is None


# ------------------------------------------------------------------ treatment states

def validated(client, org, **fields):
    letter = create(client, org.registrar, **fields)
    response = client.post(f"/api/documents/{letter['id']}/validate", headers=org.admin.headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def step(client, account, letter, name, **body):
    return client.post(f"/api/documents/{letter['id']}/{name}", json=body, headers=account.headers)


def etat(client, org, letter):
    return client.get(f"/api/documents/{letter['id']}", headers=org.admin.headers).json["data"]["traitement"]["etat"]


def test_the_state_is_null_until_the_letter_is_valid_and_routed(client, org):
    pending = create(client, org.registrar, service_id=org.fin["id"])
    assert pending["traitement"]["etat"] is None
    assert validated(client, org)["traitement"]["etat"] is None  # no treating service
    letter = validated(client, org, service_id=org.fin["id"])
    assert letter["traitement"]["etat"] == "a_traiter"
    rejected = create(client, org.registrar, service_id=org.fin["id"])
    client.post(f"/api/documents/{rejected['id']}/reject", json={"motif": "Non"}, headers=org.admin.headers)
    assert etat(client, org, rejected) is None
    assert step(client, org.fin_agent, rejected, "prendre-en-charge").status_code == 409
    assert step(client, org.fin_agent, pending, "traiter").status_code == 409


def test_a_member_takes_a_letter_in_charge_treats_it_and_a_validateur_reopens_it(app, client, org):
    letter = validated(client, org, service_id=org.fin["id"])
    taken = step(client, org.fin_agent2, letter, "prendre-en-charge")
    assert taken.status_code == 200
    assert taken.json["data"]["traitement"]["etat"] == "en_cours"
    assert taken.json["data"]["responsable"]["id"] == org.fin_agent2.id  # none before: the caller
    assert step(client, org.fin_agent2, letter, "prendre-en-charge").status_code == 409
    treated = step(client, org.fin_agent2, letter, "traiter", commentaire="Réponse envoyée le 3.")
    assert treated.status_code == 200
    traitement = treated.json["data"]["traitement"]
    assert (traitement["etat"], traitement["commentaire"], traitement["traite_par"]["id"]) == \
        ("traite", "Réponse envoyée le 3.", org.fin_agent2.id)
    assert step(client, org.fin_agent2, letter, "traiter").status_code == 409
    assert step(client, org.fin_agent2, letter, "rouvrir", motif="Incomplet").status_code == 403
    assert step(client, org.fin_validateur, letter, "rouvrir").status_code == 422  # a motif is required
    reopened = step(client, org.dg_validateur, letter, "rouvrir", motif="Pièce manquante")
    assert reopened.status_code == 200
    assert reopened.json["data"]["traitement"]["etat"] == "a_traiter"
    assert reopened.json["data"]["traitement"]["traite_at"] is None
    history = client.get(f"/api/documents/{letter['id']}/history", headers=org.admin.headers).json["data"]
    assert [entry["action"] for entry in history][-3:] == ["taken_in_charge", "treated", "reopened"]
    assert history[-1]["details"]["motif"] == "Pièce manquante"
    with app.app_context():
        types = set(db.session.scalars(select(AuditEvent.type)))
    assert {"document_taken_in_charge", "document_treated", "document_reopened"} <= types


def test_a_letter_may_be_treated_without_being_taken_in_charge_first(client, org):
    letter = validated(client, org, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    assert step(client, org.fin_agent, letter, "traiter").status_code == 200


@pytest.mark.parametrize("who, status", [
    ("fin_agent", 200),        # the responsable
    ("fin_agent2", 200),       # a member of the treating service
    ("admin", 200),
    ("rh_agent", 403),         # sees it through the copy to RH, may not treat it
    ("dg_validateur", 403),    # supervises, does not treat
    ("outsider", 404),
])
def test_who_may_treat_a_letter(client, org, who, status):
    letter = validated(client, org, service_id=org.fin["id"], responsable_id=org.fin_agent.id,
                       copie_service_ids=[org.rh["id"]])
    assert step(client, getattr(org, who), letter, "traiter").status_code == status


def test_an_admin_who_is_no_member_does_not_become_responsable(client, org):
    letter = validated(client, org, service_id=org.fin["id"])
    taken = step(client, org.admin, letter, "prendre-en-charge").json["data"]
    assert taken["traitement"]["etat"] == "en_cours" and taken["responsable"] is None


def test_two_people_taking_one_letter_at_once_one_wins(app, org):
    letter = validated(Client(app), org, service_id=org.fin["id"])
    results, barrier = [], threading.Barrier(2)

    def take(account):
        client = app.test_client()
        barrier.wait()
        results.append(step(client, account, letter, "prendre-en-charge").status_code)

    threads = [threading.Thread(target=take, args=(account,)) for account in (org.fin_agent, org.fin_agent2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]


def Client(app):
    return app.test_client()


# ------------------------------------------------------------------ work queues

def queues(client, account):
    response = client.get("/api/bannettes", headers=account.headers)
    assert response.status_code == 200, response.json
    return {queue["code"]: queue["count"] for queue in response.json["data"]}


def listed(client, account, code):
    response = client.get("/api/documents", query_string={"bannette": code, "per_page": 100}, headers=account.headers)
    assert response.status_code == 200, response.json
    return {d["id"] for d in response.json["data"]}


def test_only_the_queues_that_apply_are_shown_in_order(client, org):
    assert list(queues(client, org.admin)) == ["a_qualifier", "a_orienter", "a_traiter", "en_copie", "en_retard",
                                               "mes_enregistrements"]
    assert list(queues(client, org.bc_agent))[:2] == ["a_qualifier", "a_orienter"]
    assert list(queues(client, org.fin_validateur)) == ["a_valider", "a_traiter", "en_copie", "en_retard",
                                                        "mes_enregistrements"]
    assert list(queues(client, org.fin_agent)) == ["a_traiter", "a_venir", "en_copie", "en_retard",
                                                   "mes_enregistrements"]
    assert "a_venir" not in queues(client, org.outsider)  # an agent of no service
    assert "a_venir" not in queues(client, org.bc_agent)  # the mail office qualifies them


def test_each_queue_holds_what_it_says_for_whom_it_says(client, org):
    long_ago = (deadlines.paris_today() - timedelta(days=90)).isoformat()
    pending_fin = create(client, org.registrar, service_id=org.fin["id"])
    unrouted = validated(client, org)
    to_treat = validated(client, org, service_id=org.fin["id"])
    mine = validated(client, org, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    late = validated(client, org, service_id=org.fin["id"], responsable_id=org.fin_agent2.id, date_reception=long_ago)
    copied = validated(client, org, service_id=org.rh["id"], copie_user_ids=[org.fin_agent.id])
    own_pending = create(client, org.fin_validateur, service_id=org.fin["id"])
    pending_rh = create(client, org.registrar, service_id=org.rh["id"])

    expected = {
        (org.bc_agent, "a_orienter"): {pending_fin["id"], unrouted["id"], own_pending["id"], pending_rh["id"]},
        (org.fin_validateur, "a_valider"): {pending_fin["id"]},  # not its own, not RH's
        (org.dg_validateur, "a_valider"): {pending_fin["id"], own_pending["id"]},
        (org.fin_agent, "a_traiter"): {to_treat["id"], mine["id"]},
        (org.fin_agent, "a_venir"): {pending_fin["id"], own_pending["id"]},  # routed to FIN, not yet validated
        (org.rh_agent, "a_venir"): {pending_rh["id"]},
        (org.dg_agent, "a_venir"): set(),  # FIN is below DG: its validateurs see them, its agents do not
        (org.fin_agent2, "a_traiter"): {to_treat["id"], late["id"]},
        (org.rh_agent, "a_traiter"): {copied["id"]},
        (org.fin_agent, "en_copie"): {copied["id"]},
        (org.fin_agent2, "en_retard"): {late["id"]},
        (org.fin_agent, "en_retard"): {late["id"]},  # late in their service
        (org.rh_agent, "en_retard"): set(),
        (org.registrar, "mes_enregistrements"): {pending_fin["id"], unrouted["id"], to_treat["id"], mine["id"],
                                                 late["id"], copied["id"], pending_rh["id"]},
    }
    for (account, code), ids in expected.items():
        assert listed(client, account, code) == ids, code
        assert queues(client, account)[code] == len(ids), code

    # Opening a copy takes it out of `en_copie`; treating takes letters out of `a_traiter` and the registrar's list.
    assert client.get(f"/api/documents/{copied['id']}", headers=org.fin_agent.headers).json["data"]["lu"] is True
    assert queues(client, org.fin_agent)["en_copie"] == 0
    step(client, org.fin_agent, mine, "traiter")
    assert listed(client, org.fin_agent, "a_traiter") == {to_treat["id"]}
    assert mine["id"] not in listed(client, org.registrar, "mes_enregistrements")


def test_a_letter_routed_to_a_service_is_announced_to_it_before_its_validation(client, org):
    """Its agents find it in « En attente de validation » and may open it; its validateurs in « À valider »;
    once validated it leaves that queue for « À traiter »."""
    letter = create(client, org.bc_agent, service_id=org.fin["id"])
    for account in (org.fin_agent, org.fin_agent2):
        assert listed(client, account, "a_venir") == {letter["id"]}
        opened = client.get(f"/api/documents/{letter['id']}", headers=account.headers)
        assert opened.status_code == 200 and opened.json["data"]["statut"] == "en_attente"
        assert opened.json["data"]["actions"] == ["repondre"]  # readable; its service may prepare the reply
    assert listed(client, org.fin_validateur, "a_valider") == {letter["id"]}
    assert client.get(f"/api/documents/{letter['id']}", headers=org.fin_validateur.headers).status_code == 200
    assert client.post(f"/api/documents/{letter['id']}/validate", headers=org.fin_validateur.headers).status_code == 200
    assert listed(client, org.fin_agent, "a_venir") == set()
    assert listed(client, org.fin_agent, "a_traiter") == {letter["id"]}
    assert listed(client, org.rh_agent, "a_venir") == set()


def test_documents_carry_lu_for_the_caller(client, org):
    letter = create(client, org.registrar, copie_user_ids=[org.copied_agent.id])
    page = client.get("/api/documents", headers=org.copied_agent.headers).json["data"]
    assert [d["lu"] for d in page if d["id"] == letter["id"]] == [False]
    client.get(f"/api/documents/{letter['id']}", headers=org.copied_agent.headers)
    page = client.get("/api/documents", headers=org.copied_agent.headers).json["data"]
    assert [d["lu"] for d in page if d["id"] == letter["id"]] == [True]
    other = client.get("/api/documents", headers=org.admin.headers).json["data"]
    assert [d["lu"] for d in other if d["id"] == letter["id"]] == [False]  # read by one, not by all


def test_an_unknown_queue_is_422(client, agent):
    response = client.get("/api/documents", query_string={"bannette": "tout"}, headers=agent.headers)
    assert response.status_code == 422 and "bannette" in response.json["errors"]


def test_queue_counts_are_one_statement(app, client, org):
    from tests.test_sessions import StatementCounter

    queues(client, org.fin_agent)
    with app.app_context(), StatementCounter(db.engine) as statements:
        queues(client, org.fin_agent)
    counting = [s for s in statements if "count(*)" in s]
    assert len(counting) == 1 and counting[0].count("count(*)") == 5, statements  # the agent's five queues
