"""A letter's `actions` (issue 22): what the caller may do to it now, from the tables that authorise it.

The matrix: letters in every statut and treatment state, routed or not, registered by an agent, a
validateur or an administrateur, seen by callers of each role and place in the organisation (its
creator, its responsable, a member of its service, the mail office, a validateur above it, a validateur
who sees it only through a copy, an administrateur). For each, every listed action succeeds when
performed (on a fresh copy of the letter), and every unlisted one is refused, with the status and the
message the rules give, leaving the letter as it was.
"""
import io

import pytest
from sqlalchemy import event, func, select

from courrier.auth.models import User
from courrier.capture import drafts
from courrier.deadlines import paris_today
from courrier.documents import rules, service, treatment, visibility
from courrier.documents.models import Attachment, Document, DocumentEvent
from courrier.extensions import db
from tests.test_documents import PDF

ACTIONS = tuple(rules.ACTIONS)

# Each scene: whether the letter is routed (to FIN, responsable fin_agent, copied to RH) and the steps
# taken after its registration, by a decider who is not its creator.
SCENES = {
    "en_attente": (False, ()),
    "en_attente_impute": (True, ()),
    "valide": (False, ("validate",)),
    "a_traiter": (True, ("validate",)),
    "en_cours": (True, ("validate", "prendre-en-charge")),
    "traite": (True, ("validate", "traiter")),
    "rejete": (False, ("reject",)),
    "rejete_impute": (True, ("reject",)),
    # Drafts (courrier.capture): scanned by the creator, then set aside or not; the mail office's alone.
    "a_qualifier": (False, ("draft",)),
    "ecarte": (False, ("draft", "set_aside")),
}
CREATORS = ("registrar", "fin_validateur", "admin")  # an agent, a validateur (of FIN), an administrateur
# Its creator (or not), its responsable (fin_agent), a member of its service, the mail office, a validateur
# above its service, one of its service, one who sees it through a copy (or, unrouted, as any validateur).
CALLERS = ("registrar", "fin_agent", "fin_agent2", "bc_agent", "dg_validateur", "fin_validateur", "rh_validateur",
           "admin")


def perform(client, account, document_id, action, org):
    """Do `action` through the API, as a client would."""
    url = f"/api/documents/{document_id}"
    post = {
        "modifier": lambda: client.patch(url, json={"objet": "Objet corrigé"}, headers=account.headers),
        "valider": lambda: client.post(f"{url}/validate", headers=account.headers),
        "rejeter": lambda: client.post(f"{url}/reject", json={"motif": "Incomplet"}, headers=account.headers),
        "affecter": lambda: client.post(f"{url}/assign", json={"service_id": org.fin["id"]}, headers=account.headers),
        "prendre_en_charge": lambda: client.post(f"{url}/prendre-en-charge", headers=account.headers),
        "traiter": lambda: client.post(f"{url}/traiter", json={}, headers=account.headers),
        "rouvrir": lambda: client.post(f"{url}/rouvrir", json={"motif": "À revoir"}, headers=account.headers),
        "repondre": lambda: client.post(f"{url}/reponses", json={}, headers=account.headers),
        "joindre": lambda: client.post(f"{url}/attachments", headers=account.headers,
                                       content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(PDF), "lettre.pdf", "application/pdf")}),
        "accuser_reception": lambda: client.post(f"{url}/accuse-reception", json={"date": paris_today().isoformat()},
                                                 headers=account.headers),
        "qualifier": lambda: client.post(f"{url}/qualifier", json={}, headers=account.headers),
        "ecarter": lambda: client.post(f"{url}/ecarter", json={"motif": "Doublon"}, headers=account.headers),
    }
    return post[action]()


class Scenes:
    """Letters built by the service functions (no HTTP), each in a scene."""

    def __init__(self, app, org):
        self.app, self.org = app, org

    def _user(self, name):
        return db.session.get(User, getattr(self.org, name).id)

    def build(self, scene, creator):
        routed, steps = SCENES[scene]
        decider = "dg_validateur" if creator == "admin" else "admin"
        data = {"type": "entrant", "objet": "Demande", "expediteur": "Mairie", "destinataire": "Préfecture",
                "nature": "recommande_ar", "numero_recommande": "1A12345678901"}
        if routed:
            data.update(service_id=self.org.fin["id"], responsable_id=self.org.fin_agent.id,
                        copie_service_ids=[self.org.rh["id"]])
        with self.app.test_request_context():
            if "draft" in steps:
                document = drafts.new_draft(objet="Demande", origine="numerisation", created_by=self._user(creator),
                                            expediteur="Mairie", destinataire="Préfecture")
                db.session.commit()
            else:
                document = service.create_document(self._user(creator), data)
            for step in steps:
                if step == "draft":
                    continue
                if step == "set_aside":
                    drafts.set_aside(self._user("admin"), document.id, "Doublon")
                elif step in rules.TRANSITIONS:
                    service.decide(self._user(decider), document.id, step, motif="Non conforme")
                else:
                    treatment.take_step(self._user("admin"), document.id, step, {})
            document_id = document.id
            db.session.remove()
        return document_id

    def state(self, document_id):
        """What an action would change: the columns of the letter and its number of history rows."""
        with self.app.app_context():
            document = db.session.get(Document, document_id)
            counts = [db.session.scalar(select(func.count()).select_from(model).where(model.document_id == document_id))
                      for model in (DocumentEvent, Attachment)]
            state = (document.statut, document.traitement_etat, document.service_id, document.responsable_id,
                     document.objet, document.date_accuse_reception, *counts)
            db.session.remove()
        return state

    def refusals(self, caller, document_id):
        """{action: the rules' refusal (None when allowed)} of the caller on the letter."""
        with self.app.app_context():
            viewer = visibility.viewer_of(self._user(caller))
            document = db.session.get(Document, document_id)
            refused = {action: rules.refusal(action, viewer, document) for action in ACTIONS}
            db.session.remove()
        return refused


@pytest.mark.parametrize("scene", SCENES)
def test_listed_actions_succeed_and_the_others_are_refused_as_the_rules_say(app, client, org, scene):
    scenes = Scenes(app, org)
    seen = 0
    for creator in CREATORS:
        document_id = scenes.build(scene, creator)
        for caller in CALLERS:
            account = getattr(org, caller)
            detail = client.get(f"/api/documents/{document_id}", headers=account.headers)
            if detail.status_code == 404:
                continue  # not visible: no actions to list (visibility has its own tests)
            seen += 1
            listed = detail.json["data"]["actions"]
            assert set(listed) <= set(ACTIONS) and listed == [a for a in ACTIONS if a in listed]
            before, refusals = scenes.state(document_id), scenes.refusals(caller, document_id)
            for action in ACTIONS:
                where = (scene, creator, caller, action)
                if action in listed:
                    fresh = scenes.build(scene, creator)
                    response = perform(client, account, fresh, action, org)
                    assert response.status_code in (200, 201), (where, response.json)
                else:
                    response = perform(client, account, document_id, action, org)
                    refused = refusals[action]
                    assert refused is not None, where
                    assert response.status_code in (403, 409), (where, response.json)
                    assert (response.status_code, response.json["message"]) == (refused.status, refused.message), where
            assert scenes.state(document_id) == before, (scene, creator, caller)  # nothing refused changed it
    # The scene was seen by callers of every kind; a draft by the mail office and the administrateur alone.
    assert seen == len(CREATORS) * 2 if "draft" in SCENES[scene][1] else seen >= len(CREATORS) * 4


def test_the_matrix_covers_what_the_issue_names(app, client, org):
    """The cases that drifted in the client: routing and deciding need the supervising validateur."""
    scenes = Scenes(app, org)
    routed = scenes.build("en_attente_impute", "registrar")

    def actions(account, document_id):
        return client.get(f"/api/documents/{document_id}", headers=account.headers).json["data"]["actions"]

    # A validateur of a service above FIN decides and routes; one who sees the letter through a copy does neither.
    assert {"valider", "rejeter", "affecter"} <= set(actions(org.dg_validateur, routed))
    assert not {"valider", "rejeter", "affecter"} & set(actions(org.rh_validateur, routed))
    assert perform(client, org.rh_validateur, routed, "valider", org).status_code == 403
    # Four eyes: the validateur who registered it may not decide it.
    own = scenes.build("en_attente", "fin_validateur")
    assert "valider" not in actions(org.fin_validateur, own) and "modifier" in actions(org.fin_validateur, own)
    # An agent never decides; the mail office routes; nobody edits a decided letter.
    assert actions(org.bc_agent, routed) == ["affecter", "repondre", "accuser_reception"]
    valid = scenes.build("a_traiter", "registrar")
    # Its responsable re-routes and treats it; another member of its service only treats it.
    treat = ["prendre_en_charge", "traiter", "repondre", "accuser_reception"]
    assert actions(org.fin_agent, valid) == ["affecter", *treat]
    assert actions(org.fin_agent2, valid) == treat
    assert actions(org.admin, valid) == ["affecter", "prendre_en_charge", "traiter", "repondre", "accuser_reception"]


def test_every_letter_returned_carries_the_callers_actions(app, client, org):
    """The list, a contact's letters, the detail and the response of each write say the same."""
    created = client.post("/api/documents", headers=org.registrar.headers, json={
        "type": "entrant", "objet": "Demande", "expediteur": "Mairie", "destinataire": "Préfecture",
        "nature": "recommande_ar", "numero_recommande": "1A12345678901"}).json["data"]
    assert created["actions"] == ["modifier", "repondre", "joindre", "accuser_reception"]
    listed = client.get("/api/documents", headers=org.registrar.headers).json
    assert [d["actions"] for d in listed["data"]] == [created["actions"]]
    assert listed["meta"]["actions"] == []  # an agent outside the mail office does not export the register
    assert client.get("/api/documents", headers=org.bc_agent.headers).json["meta"]["actions"] == ["exporter_registre"]
    validated = client.post(f"/api/documents/{created['id']}/validate", headers=org.admin.headers).json["data"]
    assert validated["actions"] == ["affecter", "repondre", "accuser_reception"]  # the administrateur's
    queue = client.get("/api/documents", query_string={"bannette": "mes_enregistrements"},
                       headers=org.registrar.headers).json["data"]
    assert queue[0]["actions"] == ["repondre", "accuser_reception"]
    contact = client.post("/api/contacts", headers=org.registrar.headers,
                          json={"type": "organisation", "organisation": "Mairie de Lyon"}).json["data"]
    pending = client.post("/api/documents", headers=org.registrar.headers, json={
        "type": "entrant", "objet": "Autre", "expediteur_id": contact["id"], "destinataire": "Préfecture"}).json["data"]
    letters = client.get(f"/api/contacts/{contact['id']}/documents", headers=org.registrar.headers).json["data"]
    assert [(d["id"], d["actions"]) for d in letters] == [(pending["id"], pending["actions"])]


def test_only_registered_mail_has_an_acknowledgement_of_receipt(client, org):
    """The acknowledgement card is the server's rule (the web client shows it when listed): 409 otherwise."""
    simple = client.post("/api/documents", headers=org.registrar.headers, json={
        "type": "entrant", "objet": "Demande", "expediteur": "Mairie", "destinataire": "Préfecture",
        "nature": "courrier_simple"}).json["data"]
    assert "accuser_reception" not in simple["actions"] and "repondre" in simple["actions"]
    response = client.post(f"/api/documents/{simple['id']}/accuse-reception", json={"date": "2026-11-02"},
                           headers=org.registrar.headers)
    assert response.status_code == 409 and response.json["code"] == "conflict"
    assert "recommandé" in response.json["message"]


def test_listing_actions_costs_no_query_per_letter(app, client, org):
    """The caller's services and sub-trees are read once per request, not once per letter."""
    statements = []

    def count(account):
        statements.clear()
        response = client.get("/api/documents", query_string={"per_page": 100}, headers=account.headers)
        assert response.status_code == 200
        assert all(isinstance(d["actions"], list) for d in response.json["data"])
        return len(statements), len(response.json["data"])

    scenes = Scenes(app, org)
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
    try:
        scenes.build("a_traiter", "registrar")
        few = {name: count(getattr(org, name)) for name in ("dg_validateur", "fin_agent", "admin")}
        for scene in ("en_attente_impute", "a_traiter", "en_cours", "valide") * 5:
            scenes.build(scene, "registrar")
        many = {name: count(getattr(org, name)) for name in ("dg_validateur", "fin_agent", "admin")}
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", listener)
    for name in few:
        assert few[name][1] < many[name][1], name
        assert few[name][0] == many[name][0], (name, few[name], many[name])


def test_openapi_describes_actions_as_an_enumeration(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    actions = schemas["Document"]["properties"]["actions"]
    assert actions["type"] == "array" and actions["items"]["enum"] == list(ACTIONS)
    assert "description" in actions
    meta = schemas["RegisterMeta"]["properties"]["actions"]
    assert meta["items"]["enum"] == ["exporter_registre"]
