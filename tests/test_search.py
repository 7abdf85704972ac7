"""Full-text `q` on the register (issue 25): accents and case, French forms, every indexed field, the
attachments' text, visibility, ranking, extracts as data, hostile input, and `flask search reindex`."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from courrier.columns import new_uuid
from courrier.documents import service
from courrier.documents.models import Attachment
from courrier.extensions import db
from courrier.search.index import index_document
from tests.conftest import create

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def search(client, account, **query):
    response = client.get("/api/documents", query_string={"per_page": 100, **query}, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json


def found(client, account, q, **query):
    return [d["id"] for d in search(client, account, q=q, **query)["data"]]


def is_postgresql(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def add_text(app, document_id, texte):
    """An attachment whose text the extraction job stored, then indexed as the job does."""
    with app.app_context():
        db.session.add(Attachment(id=new_uuid(), document_id=document_id, filename="scan.pdf",
                                  content_type="application/pdf", size=1, sha256="0" * 64, storage_name="0" * 64,
                                  texte_etat="reconnu", texte=texte))
        db.session.flush()
        index_document(document_id)
        db.session.commit()


def at(monkeypatch, minutes):
    monkeypatch.setattr(service, "utcnow", lambda: START + timedelta(minutes=minutes))


def test_q_is_blind_to_case_and_accents_and_needs_every_word(client, agent):
    letter = create(client, agent, objet="Demande de permis", expediteur="M. Jean-François Dupré",
                    destinataire="Urbanisme")
    create(client, agent, objet="Autre demande", expediteur="Mairie")
    for q in ("dupré", "dupre", "DUPRÉ", "Dupre", "jean francois", "permis dupre", "JEAN-FRANÇOIS"):
        assert found(client, agent, q) == [letter["id"]], q
    assert found(client, agent, "permisdupre") == []
    assert found(client, agent, "permis inconnu") == []


def test_q_finds_french_word_forms(app, client, agent):
    plural = create(client, agent, objet="Envoi des courriers recommandés")
    assert found(client, agent, "courrier") == [plural["id"]]
    if is_postgresql(app):  # SQLite has no French stemmer: only the last word's prefix
        singular = create(client, agent, objet="Un seul courrier recommandé")
        assert set(found(client, agent, "courriers")) == {plural["id"], singular["id"]}
    else:
        listed = search(client, agent, q="recommandes courri")["data"]
        assert [d["id"] for d in listed] == [plural["id"]]
        assert [s["texte"] for s in listed[0]["extrait"] if s["surligne"]] == ["courriers", "recommandés"]


def test_q_finds_the_reference_correspondents_and_registered_number(client, agent):
    contact = client.post("/api/contacts", json={"type": "personne", "nom": "Bellecour", "prenom": "Zéphyrine"},
                          headers=agent.headers).json["data"]
    letter = create(client, agent, expediteur_id=contact["id"], expediteur="Cabinet médical",
                    nature="recommande", numero_recommande="1A 123 456 789 01")
    other = create(client, agent)
    assert found(client, agent, letter["reference"]) == [letter["id"]]
    assert found(client, agent, letter["reference"].lower().split("-")[-1]) == [letter["id"]]
    assert found(client, agent, "zephyrine bellecour") == [letter["id"]]
    assert found(client, agent, "1A12345678901") == [letter["id"]]
    assert found(client, agent, other["reference"]) == [other["id"]]
    # A renamed correspondent: their letters are found by the new name, no longer by the old one.
    renamed = client.patch(f"/api/contacts/{contact['id']}", json={"nom": "Montplaisir"}, headers=agent.headers)
    assert renamed.status_code == 200, renamed.json
    assert found(client, agent, "zephyrine montplaisir") == [letter["id"]]
    assert found(client, agent, "bellecour") == []


def test_q_finds_the_text_of_attachments_and_edits_reindex_the_letter(app, client, agent):
    letter = create(client, agent, objet="Travaux de voirie")
    assert found(client, agent, "assainissement") == []
    add_text(app, letter["id"], "Objet : le raccordement au réseau d'assainissement collectif de la commune.")
    listed = search(client, agent, q="assainissement")
    assert [d["id"] for d in listed["data"]] == [letter["id"]]
    assert {"texte": "assainissement", "surligne": True} in listed["data"][0]["extrait"]
    changed = client.patch(f"/api/documents/{letter['id']}", json={"objet": "Chaussée rénovée"}, headers=agent.headers)
    assert changed.status_code == 200, changed.json
    assert found(client, agent, "voirie") == []
    assert found(client, agent, "chaussee assainissement") == [letter["id"]]


def test_an_agent_never_finds_a_letter_they_may_not_see(client, agent, auth, admin):
    other = auth.account("agent")
    secret = create(client, other, objet="Dossier Quetzalcoatl confidentiel")
    listed = search(client, agent, q="quetzalcoatl")
    assert (listed["data"], listed["meta"]["total"]) == ([], 0)
    assert found(client, admin, "quetzalcoatl") == [secret["id"]]


def test_q_keeps_every_filter(client, agent, validateur):
    entrant = create(client, agent, objet="Bornage cadastral", type="entrant", priorite="urgente")
    sortant = create(client, agent, objet="Bornage cadastral", type="sortant")
    client.post(f"/api/documents/{sortant['id']}/validate", headers=validateur.headers)
    assert found(client, agent, "bornage", type="sortant") == [sortant["id"]]
    assert found(client, agent, "bornage", priorite="urgente") == [entrant["id"]]
    assert found(client, agent, "bornage", statut="valide") == [sortant["id"]]
    assert found(client, agent, "bornage", date_from="2000-01-01", date_to="2000-01-02") == []


def test_relevance_ranks_objet_above_attachments_and_equal_matches_newest_first(app, client, agent, monkeypatch):
    at(monkeypatch, 0)
    in_objet = create(client, agent, objet="Élagage des platanes")
    at(monkeypatch, 10)
    in_text = create(client, agent, objet="Courrier divers")
    add_text(app, in_text["id"], "Il est question d'un élagage parmi bien d'autres choses dans ce long texte.")
    at(monkeypatch, 20)
    same_objet = create(client, agent, objet="Élagage des platanes")
    assert found(client, agent, "elagage") == [same_objet["id"], in_objet["id"], in_text["id"]]
    assert found(client, agent, "elagage", tri="pertinence") == [same_objet["id"], in_objet["id"], in_text["id"]]
    assert found(client, agent, "elagage", tri="date") == [same_objet["id"], in_text["id"], in_objet["id"]]
    page = search(client, agent, q="elagage", per_page=2, page=2)
    assert ([d["id"] for d in page["data"]], page["meta"]["total"]) == ([in_text["id"]], 3)
    assert "extrait" not in search(client, agent)["data"][0]


def test_the_extract_marks_matched_words_as_data_never_html(client, agent):
    create(client, agent, objet="Facture <b>urgente</b> & <script>alert(1)</script> de la société Müller")
    extrait = search(client, agent, q="MULLER")["data"][0]["extrait"]
    assert {"texte": "Müller", "surligne": True} in extrait
    assert all(set(segment) == {"texte", "surligne"} for segment in extrait)
    whole = "".join(segment["texte"] for segment in extrait)
    assert "<b>urgente</b>" in whole and "\ue000" not in whole and "\ue001" not in whole
    assert [s["texte"] for s in extrait if s["surligne"]] == ["Müller"]


HOSTILE = ['"', "'", '"unterminated', "(", ")", "a AND", "OR b", "NOT", "*", "-", "--x", "x -y", "NEAR(a b",
           "objet: a", "reference:*", "^a", "a + b", "{a b}", "a:*", "!a", "a & b | c", "<->", ":", "'' OR ''='",
           "\\", "%", "_", "…", "\u00a0x", "a" * 255]


def test_hostile_q_is_plain_text_never_an_error(client, agent):
    letter = create(client, agent, objet="NEAR objet AND reference OR NOT")
    for q in HOSTILE:
        response = client.get("/api/documents", query_string={"q": q}, headers=agent.headers)
        assert response.status_code == 200, (q, response.json)
    for q in ("NEAR(objet", "objet: reference", '"and" OR', "-NOT"):
        assert found(client, agent, q) == [letter["id"]], q


def test_flask_search_reindex_rebuilds_the_index(app, client, agent, runner):
    letter = create(client, agent, objet="Ravalement de façade")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("UPDATE documents SET recherche = NULL"))
        else:
            db.session.execute(text("DELETE FROM recherche"))
        db.session.commit()
    assert found(client, agent, "facade") == []
    result = runner.invoke(args=["search", "reindex", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "1 courrier(s) réindexé(s)." in result.output
    assert found(client, agent, "facade") == [letter["id"]]
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0  # re-runnable
    assert found(client, agent, "facade") == [letter["id"]]


def test_every_way_to_see_a_letter_has_its_words_in_the_sqlite_index():
    from courrier.documents.visibility import WAYS_TO_SEE
    from courrier.search.access import ACCESS_WORDS

    assert set(ACCESS_WORDS) == set(WAYS_TO_SEE)


def test_routing_and_copies_reach_the_index(client, org):
    """A letter routed to a service, or copied, is found by those who now see it (SQLite re-indexes who may
    see it; PostgreSQL reads visibility from the letters' table)."""
    letter = create(client, org.admin, objet="Convention de déneigement")
    readers = (org.fin_agent, org.rh_agent, org.copied_agent)
    assert [found(client, reader, "deneigement") for reader in readers] == [[], [], []]
    routed = client.post(f"/api/documents/{letter['id']}/assign", headers=org.admin.headers, json={
        "service_id": org.fin["id"], "copie_service_ids": [org.rh["id"]], "copie_user_ids": [org.copied_agent.id]})
    assert routed.status_code == 200, routed.json
    assert [found(client, reader, "deneigement") for reader in readers] == [[letter["id"]]] * 3
    rerouted = client.post(f"/api/documents/{letter['id']}/assign", headers=org.admin.headers, json={
        "service_id": org.rh["id"], "copie_service_ids": [], "copie_user_ids": []})
    assert rerouted.status_code == 200, rerouted.json
    assert [found(client, reader, "deneigement") for reader in readers] == [[], [letter["id"]], []]
