"""Letters and their correspondents, mail nature, acknowledgements and replies (issue 14)."""
from datetime import timedelta

import pytest

from courrier.contacts.models import Contact
from courrier.deadlines import paris_today
from courrier.extensions import db


def create(client, account, expected=201, **fields):
    """A letter with the usual defaults; a field given as None is left out of the body."""
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie", "destinataire": "Préfecture",
            **fields}
    response = client.post("/api/documents", json={k: v for k, v in body.items() if v is not None},
                           headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def contact(app, **fields):
    with app.app_context():
        row = Contact(**{"type": "organisation", "organisation": "Mairie de Lyon",
                         "adresse": {"code_postal": "69001", "commune": "Lyon"}, **fields})
        row.refresh_derived()
        db.session.add(row)
        db.session.commit()
        return row.id


# ------------------------------------------------------------------ correspondents and nature

def test_a_contact_fills_the_omitted_text_and_is_returned_as_a_summary(app, client, agent):
    mairie = contact(app)
    person = contact(app, type="personne", civilite="Mme", nom="Dupont", prenom="Léa", organisation=None)
    letter = create(client, agent, expediteur=None, destinataire=None, expediteur_id=mairie, destinataire_id=person)
    assert (letter["expediteur"], letter["destinataire"]) == ("Mairie de Lyon", "Mme Léa Dupont")
    assert letter["expediteur_contact"]["organisation"] == "Mairie de Lyon"
    assert letter["destinataire_contact"]["nom"] == "Dupont"
    kept = create(client, agent, expediteur="Mairie (cabinet du maire)", expediteur_id=mairie)
    assert kept["expediteur"] == "Mairie (cabinet du maire)"  # what the letter said stays


def test_an_unknown_contact_is_422(client, agent):
    response = create(client, agent, expected=422, expediteur_id="nope")
    assert "expediteur_id" in response["errors"]


def test_without_text_or_contact_the_parties_are_required(client, agent):
    response = create(client, agent, expected=422, expediteur=None, destinataire=None)
    assert {"expediteur", "destinataire"} <= set(response["errors"])


def test_nature_defaults_to_simple_mail(client, agent):
    assert create(client, agent)["nature"] == "courrier_simple"


@pytest.mark.parametrize("numero, stored", [("1A 123 456 789 01", "1A12345678901"), ("RR12345678901", "RR12345678901"),
                                            ("ab12345678901", "AB12345678901")])
def test_a_registered_letter_keeps_its_number_without_spaces(client, agent, numero, stored):
    letter = create(client, agent, nature="recommande_ar", numero_recommande=numero)
    assert letter["numero_recommande"] == stored


@pytest.mark.parametrize("fields", [
    {"nature": "recommande"},
    {"nature": "recommande_ar", "numero_recommande": "1A1234567890"},
    {"nature": "recommande", "numero_recommande": "1A1234567890X"},
    {"nature": "recommande", "numero_recommande": "1-12345678901"},
    {"nature": "pigeon"},
])
def test_bad_natures_and_numbers_are_422(client, agent, fields):
    response = create(client, agent, expected=422, **fields)
    assert set(response["errors"]) & {"nature", "numero_recommande"}


def test_patching_to_registered_mail_needs_the_number(client, agent):
    letter = create(client, agent)
    response = client.patch(f"/api/documents/{letter['id']}", json={"nature": "recommande"}, headers=agent.headers)
    assert response.status_code == 422 and "numero_recommande" in response.json["errors"]
    response = client.patch(f"/api/documents/{letter['id']}", json={"nature": "recommande",
                                                                    "numero_recommande": "1A12345678901"},
                            headers=agent.headers)
    assert response.status_code == 200 and response.json["data"]["nature"] == "recommande"


# ------------------------------------------------------------------ acknowledgement of receipt

REGISTERED = {"nature": "recommande_ar", "numero_recommande": "1A12345678901"}  # only these have one


def test_the_acknowledgement_is_recorded_at_any_state_with_history(client, org):
    letter = create(client, org.registrar, **REGISTERED)
    client.post(f"/api/documents/{letter['id']}/reject", json={"motif": "Doublon"}, headers=org.admin.headers)
    day = (paris_today() - timedelta(days=2)).isoformat()
    response = client.post(f"/api/documents/{letter['id']}/accuse-reception", json={"date": day},
                           headers=org.registrar.headers)
    assert response.status_code == 200 and response.json["data"]["date_accuse_reception"] == day
    history = client.get(f"/api/documents/{letter['id']}/history", headers=org.registrar.headers).json["data"]
    assert history[-1]["action"] == "acknowledged" and history[-1]["details"]["date"] == day


def test_an_acknowledgement_dated_in_the_future_is_422(client, org):
    letter = create(client, org.registrar, **REGISTERED)
    tomorrow = (paris_today() + timedelta(days=1)).isoformat()
    response = client.post(f"/api/documents/{letter['id']}/accuse-reception", json={"date": tomorrow},
                           headers=org.registrar.headers)
    assert response.status_code == 422 and "date" in response.json["errors"]


@pytest.mark.parametrize("who, status", [("registrar", 200), ("fin_agent", 200), ("bc_agent", 200), ("admin", 200),
                                         ("rh_agent", 403), ("outsider", 404)])
def test_who_records_an_acknowledgement(client, org, who, status):
    letter = create(client, org.registrar, service_id=org.fin["id"], copie_service_ids=[org.rh["id"]], **REGISTERED)
    response = client.post(f"/api/documents/{letter['id']}/accuse-reception", json={"date": "2026-11-02"},
                           headers=getattr(org, who).headers)
    assert response.status_code == status


# ------------------------------------------------------------------ replies

def reply(client, account, letter, **body):
    return client.post(f"/api/documents/{letter['id']}/reponses", json=body, headers=account.headers)


def test_a_reply_is_prefilled_from_the_letter_it_answers(app, client, org):
    mairie = contact(app)
    letter = create(client, org.registrar, expediteur_id=mairie, expediteur=None, objet="Demande de subvention",
                    service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    response = reply(client, org.fin_agent, letter)
    assert response.status_code == 201, response.json
    answer = response.json["data"]
    assert (answer["type"], answer["statut"], answer["objet"]) == ("sortant", "en_attente",
                                                                   "Réponse : Demande de subvention")
    assert (answer["destinataire"], answer["destinataire_contact"]["id"]) == ("Mairie de Lyon", mairie)
    assert answer["service"]["id"] == org.fin["id"] and answer["expediteur"] == "Service FIN"
    assert answer["en_reponse_a"]["reference"] == letter["reference"]
    given = reply(client, org.fin_agent, letter, objet="Votre demande du 2 novembre").json["data"]
    assert given["objet"] == "Votre demande du 2 novembre"
    listed = client.get(f"/api/documents/{letter['id']}", headers=org.fin_agent.headers).json["data"]["reponses"]
    assert [r["id"] for r in listed] == [answer["id"], given["id"]]


def test_validating_a_reply_treats_the_letter_with_history_on_both(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"])
    client.post(f"/api/documents/{letter['id']}/validate", headers=org.fin_validateur.headers)
    answer = reply(client, org.fin_agent, letter).json["data"]
    assert client.get(f"/api/documents/{letter['id']}", headers=org.admin.headers).json["data"]["traitement"][
        "etat"] == "a_traiter"
    assert client.post(f"/api/documents/{answer['id']}/validate", headers=org.fin_validateur.headers).status_code == 200
    closed = client.get(f"/api/documents/{letter['id']}", headers=org.admin.headers).json["data"]
    assert closed["traitement"]["etat"] == "traite" and closed["traitement"]["traite_par"]["id"] == org.fin_agent.id
    letter_history = client.get(f"/api/documents/{letter['id']}/history", headers=org.admin.headers).json["data"]
    reply_history = client.get(f"/api/documents/{answer['id']}/history", headers=org.admin.headers).json["data"]
    assert letter_history[-1]["action"] == "treated" and letter_history[-1]["details"]["reponse"] == answer["reference"]
    assert reply_history[-1]["action"] == "answered"


def test_a_rejected_reply_leaves_the_letter_open(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"])
    client.post(f"/api/documents/{letter['id']}/validate", headers=org.fin_validateur.headers)
    answer = reply(client, org.fin_agent, letter).json["data"]
    client.post(f"/api/documents/{answer['id']}/reject", json={"motif": "À reprendre"},
                headers=org.fin_validateur.headers)
    assert client.get(f"/api/documents/{letter['id']}", headers=org.admin.headers).json["data"]["traitement"][
        "etat"] == "a_traiter"


def test_only_incoming_letters_get_replies(client, org):
    outgoing = create(client, org.registrar, type="sortant")
    assert reply(client, org.registrar, outgoing).status_code == 409


@pytest.mark.parametrize("who, status", [("registrar", 201), ("fin_agent2", 201), ("bc_agent", 201), ("admin", 201),
                                         ("rh_agent", 403), ("dg_validateur", 403), ("outsider", 404)])
def test_who_may_reply(client, org, who, status):
    letter = create(client, org.registrar, service_id=org.fin["id"], copie_service_ids=[org.rh["id"]])
    assert reply(client, getattr(org, who), letter).status_code == status


@pytest.mark.parametrize("body", [{"en_reponse_a_id": "x"}, {"type": "entrant"}, {"statut": "valide"},
                                  {"nature": "recommande"}])
def test_bad_replies_are_422(client, org, body):
    letter = create(client, org.registrar)
    assert reply(client, org.registrar, letter, **body).status_code == 422


def test_links_show_only_letters_the_caller_may_see(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"], copie_user_ids=[org.copied_agent.id])
    reply(client, org.fin_agent, letter)
    copied_view = client.get(f"/api/documents/{letter['id']}", headers=org.copied_agent.headers).json["data"]
    assert copied_view["reponses"] == []  # the reply went to FIN, not to the copied agent
    assert create(client, org.registrar, expected=422, en_reponse_a_id=letter["id"])["errors"]


def test_a_reply_with_null_parties_takes_the_defaults(client, org):
    """Found by the OpenAPI fuzz test: `{"expediteur_id": null}` once stored a NULL sender (a 500)."""
    letter = create(client, org.registrar)
    response = reply(client, org.registrar, letter, expediteur_id=None, destinataire_id=None)
    assert response.status_code == 201, response.json
    assert response.json["data"]["destinataire"] == "Mairie"
