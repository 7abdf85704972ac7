"""The mail register: fields and defaults, editing, scope and the role matrix, filters, pagination,
history, the SQL cost of a page and the OpenAPI description (API.md sections 4 and 5)."""
import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from courrier.documents import service
from courrier.documents.models import Document, DocumentEvent
from courrier.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def doc_body(**overrides):
    body = {"type": "entrant", "objet": "Demande de subvention " + uuid.uuid4().hex[:8],
            "expediteur": "Association des riverains", "destinataire": "Service urbanisme"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def create_doc(client, account, **overrides):
    response = client.post("/api/documents", json=doc_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def assert_error(response, status, code):
    assert response.status_code == status, response.json
    assert response.json["success"] is False and response.json["code"] == code, response.json
    assert response.json["message"]
    return response.json


def assert_field_error(response, field):
    body = assert_error(response, 422, "validation_error")
    assert field in body["errors"], body["errors"]
    return body


def upload(client, account, document_id, content=PDF, filename="lettre.pdf", content_type="application/pdf"):
    return client.post(f"/api/documents/{document_id}/attachments", headers=account.headers,
                       data={"file": (io.BytesIO(content), filename, content_type)}, content_type="multipart/form-data")


def listed_ids(client, account, **query):
    query.setdefault("per_page", 100)
    response = client.get("/api/documents", query_string=query, headers=account.headers)
    assert response.status_code == 200, response.json
    return [doc["id"] for doc in response.json["data"]]


def history_actions(client, account, document_id):
    response = client.get(f"/api/documents/{document_id}/history", headers=account.headers)
    assert response.status_code == 200, response.json
    return [entry["action"] for entry in response.json["data"]]


def count_rows(app, model, **where):
    with app.app_context():
        return len(db.session.scalars(select(model).filter_by(**where)).all())


# ------------------------------------------------------------------ creation

def test_create_returns_every_field_with_server_values(client, agent):
    body = doc_body(type="sortant", date_courrier="2026-01-15", description="Deux exemplaires.", priorite="urgente")
    response = client.post("/api/documents", json=body, headers=agent.headers)
    assert response.status_code == 201
    doc = response.json["data"]
    assert set(doc) >= {"id", "reference", "type", "objet", "expediteur", "destinataire", "date_courrier",
                        "date_reception", "priorite", "description", "statut", "motif_rejet", "created_by",
                        "validated_by", "created_at", "updated_at", "validated_at"}
    uuid.UUID(doc["id"])
    for key in ("type", "objet", "expediteur", "destinataire", "date_courrier", "description", "priorite"):
        assert doc[key] == body[key]
    assert doc["statut"] == "en_attente"
    assert doc["created_by"] == {"id": agent.id, "nom": agent.user["nom"], "prenom": agent.user["prenom"]}
    assert doc["validated_by"] is None and doc["validated_at"] is None and doc["motif_rejet"] is None
    for key in ("created_at", "updated_at"):
        assert datetime.fromisoformat(doc[key]).utcoffset() == timedelta(0)
        assert doc[key].endswith("+00:00")
    assert "Courrier enregistré" in response.json["message"]


def test_priorite_defaults_to_normale(client, agent):
    assert create_doc(client, agent)["priorite"] == "normale"


def test_entrant_date_reception_defaults_to_today_in_paris(client, agent, monkeypatch):
    """At 23:30 UTC it is already the next day in Paris: the day the web form prefills, and the office's."""
    monkeypatch.setattr(service, "utcnow", lambda: datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc))
    assert create_doc(client, agent, type="entrant")["date_reception"] == "2026-03-03"


@pytest.mark.parametrize("type_", ["sortant", "interne"])
def test_only_entrant_gets_a_default_date_reception(client, agent, type_):
    assert create_doc(client, agent, type=type_)["date_reception"] is None


def test_given_dates_are_kept(client, agent):
    doc = create_doc(client, agent, date_courrier="2025-12-31", date_reception="2026-01-02")
    assert (doc["date_courrier"], doc["date_reception"]) == ("2025-12-31", "2026-01-02")


def test_text_fields_are_trimmed(client, agent):
    doc = create_doc(client, agent, objet="  Objet  ", expediteur=" Mairie ")
    assert (doc["objet"], doc["expediteur"]) == ("Objet", "Mairie")


@pytest.mark.parametrize("field, value", [
    ("type", None), ("type", "autre"), ("objet", None), ("objet", ""), ("objet", "   "), ("objet", "o" * 256),
    ("objet", 42), ("objet", "nul\x00"), ("expediteur", None), ("expediteur", ""), ("expediteur", "e" * 256),
    ("destinataire", None), ("destinataire", "d" * 256), ("description", "x" * 5001), ("priorite", "haute"),
    ("date_courrier", "2026-13-45"), ("date_courrier", "15/01/2026"), ("date_reception", "demain"),
])
def test_invalid_document_is_refused(app, client, agent, field, value):
    body = doc_body()
    if value is None:
        del body[field]
    else:
        body[field] = value
    assert_field_error(client.post("/api/documents", json=body, headers=agent.headers), field)
    assert count_rows(app, Document) == 0


def test_longest_values_are_accepted(client, agent):
    doc = create_doc(client, agent, objet="o" * 255, expediteur="e" * 255, destinataire="d" * 255,
                     description="x" * 5000)
    assert len(doc["objet"]) == 255 and len(doc["description"]) == 5000


@pytest.mark.parametrize("field, value", [("statut", "valide"), ("reference", "ENT-1999-000001"),
                                          ("created_by", "x"), ("couleur", "bleu")])
def test_client_cannot_set_server_or_unknown_fields(app, client, agent, field, value):
    assert_field_error(client.post("/api/documents", json=doc_body(**{field: value}), headers=agent.headers), field)
    assert count_rows(app, Document) == 0


def test_create_needs_a_token(client):
    assert_error(client.post("/api/documents", json=doc_body()), 401, "token_missing")


def test_create_writes_a_created_history_entry(client, agent):
    doc = create_doc(client, agent)
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers).json["data"]
    assert entries == [{"action": "created", "actor": doc["created_by"], "at": doc["created_at"],
                        "details": {"reference": doc["reference"]}}]


# ------------------------------------------------------------------ reading

def test_get_returns_the_document(client, agent):
    doc = create_doc(client, agent)
    assert client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"] == doc


@pytest.mark.parametrize("document_id", ["6f1c2a9e-3b4d-4e8f-9a7b-0c5d2e1f4a3b", "not-a-uuid"])
def test_unknown_document_is_404(client, validateur, document_id):
    assert_error(client.get(f"/api/documents/{document_id}", headers=validateur.headers), 404, "not_found")


# ------------------------------------------------------------------ editing

def test_creator_edits_a_pending_document(client, agent):
    doc = create_doc(client, agent)
    changes = {"objet": "Objet rectifié", "expediteur": "Préfecture", "destinataire": "Cabinet",
               "date_courrier": "2026-02-01", "date_reception": "2026-02-03", "priorite": "urgente",
               "description": "Corrigé."}
    response = client.patch(f"/api/documents/{doc['id']}", json=changes, headers=agent.headers)
    assert response.status_code == 200, response.json
    edited = response.json["data"]
    assert {key: edited[key] for key in changes} == changes
    assert (edited["reference"], edited["statut"], edited["type"]) == (doc["reference"], "en_attente", doc["type"])
    assert edited["updated_at"] > doc["updated_at"]
    assert client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"] == edited


def test_optional_fields_can_be_cleared(client, agent):
    doc = create_doc(client, agent, date_courrier="2026-01-15", description="Texte")
    edited = client.patch(f"/api/documents/{doc['id']}", json={"date_courrier": None, "description": ""},
                          headers=agent.headers).json["data"]
    assert edited["date_courrier"] is None and edited["description"] is None


@pytest.mark.parametrize("field, value", [("type", "sortant"), ("statut", "valide"), ("reference", "ENT-2026-999999"),
                                          ("created_by", "x"), ("validated_at", "2026-01-01T00:00:00+00:00")])
def test_patch_cannot_change_server_fields(client, agent, field, value):
    doc = create_doc(client, agent)
    assert_field_error(client.patch(f"/api/documents/{doc['id']}", json={field: value}, headers=agent.headers), field)
    assert client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"] == doc


@pytest.mark.parametrize("field, value", [("objet", ""), ("objet", None), ("expediteur", "e" * 256),
                                          ("priorite", "haute"), ("date_reception", "31/12/2026")])
def test_patch_validates_values(client, agent, field, value):
    doc = create_doc(client, agent)
    assert_field_error(client.patch(f"/api/documents/{doc['id']}", json={field: value}, headers=agent.headers), field)


def test_empty_patch_is_422(client, agent):
    doc = create_doc(client, agent)
    assert_error(client.patch(f"/api/documents/{doc['id']}", json={}, headers=agent.headers), 422, "validation_error")


def test_edit_records_what_changed(client, agent):
    doc = create_doc(client, agent, priorite="normale")
    client.patch(f"/api/documents/{doc['id']}", json={"objet": "Nouvel objet", "priorite": "normale"},
                 headers=agent.headers)
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers).json["data"]
    assert [e["action"] for e in entries] == ["created", "updated"]
    assert entries[1]["actor"]["id"] == agent.id
    assert entries[1]["details"] == {"changes": {"objet": {"before": doc["objet"], "after": "Nouvel objet"}}}


def test_edit_without_a_change_records_nothing(client, agent):
    doc = create_doc(client, agent)
    edited = client.patch(f"/api/documents/{doc['id']}", json={"objet": doc["objet"]}, headers=agent.headers)
    assert edited.json["data"]["updated_at"] == doc["updated_at"]
    assert history_actions(client, agent, doc["id"]) == ["created"]


# ------------------------------------------------------------------ the role matrix (API.md section 4)

ACTIONS = {
    "create": lambda c, actor, own, other: c.post("/api/documents", json=doc_body(), headers=actor.headers),
    "get_others": lambda c, actor, own, other: c.get(f"/api/documents/{other['id']}", headers=actor.headers),
    "history_others": lambda c, actor, own, other: c.get(f"/api/documents/{other['id']}/history",
                                                         headers=actor.headers),
    "attachments_others": lambda c, actor, own, other: c.get(f"/api/documents/{other['id']}/attachments",
                                                             headers=actor.headers),
    "edit_own": lambda c, actor, own, other: c.patch(f"/api/documents/{own['id']}", json={"objet": "Modifié"},
                                                     headers=actor.headers),
    "edit_others": lambda c, actor, own, other: c.patch(f"/api/documents/{other['id']}", json={"objet": "Modifié"},
                                                        headers=actor.headers),
    "validate_own": lambda c, actor, own, other: c.post(f"/api/documents/{own['id']}/validate", headers=actor.headers),
    "validate_others": lambda c, actor, own, other: c.post(f"/api/documents/{other['id']}/validate",
                                                           headers=actor.headers),
    "reject_own": lambda c, actor, own, other: c.post(f"/api/documents/{own['id']}/reject", json={"motif": "Doublon"},
                                                      headers=actor.headers),
    "reject_others": lambda c, actor, own, other: c.post(f"/api/documents/{other['id']}/reject",
                                                         json={"motif": "Doublon"}, headers=actor.headers),
    "upload_own": lambda c, actor, own, other: upload(c, actor, own["id"]),
    "upload_others": lambda c, actor, own, other: upload(c, actor, other["id"]),
}

# action -> (agent, validateur, administrateur); "others" are documents another agent registered.
EXPECTED = {
    "create": (201, 201, 201),
    "get_others": (404, 200, 200),
    "history_others": (404, 200, 200),
    "attachments_others": (404, 200, 200),
    "edit_own": (200, 200, 200),
    "edit_others": (404, 403, 200),
    "validate_own": (403, 403, 403),
    "validate_others": (404, 200, 200),
    "reject_own": (403, 403, 403),
    "reject_others": (404, 200, 200),
    "upload_own": (201, 201, 201),
    "upload_others": (404, 403, 201),
}
ROLES = ("agent", "validateur", "administrateur")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", EXPECTED)
def test_role_matrix(client, auth, role, action):
    owner, actor = auth.account("agent"), auth.account(role)
    own, other = create_doc(client, actor), create_doc(client, owner)
    expected = EXPECTED[action][ROLES.index(role)]
    response = ACTIONS[action](client, actor, own, other)
    assert response.status_code == expected, (role, action, response.json)
    if expected >= 400:
        assert response.json["code"] == {403: "forbidden", 404: "not_found"}[expected]
    untouched = client.get(f"/api/documents/{other['id']}", headers=owner.headers).json["data"]
    if action.endswith("_others") and expected >= 400:
        assert untouched == other


@pytest.mark.parametrize("role, sees_all", [("agent", False), ("validateur", True), ("administrateur", True)])
def test_list_scope_by_role(client, auth, role, sees_all):
    owner, viewer = auth.account("agent"), auth.account(role)
    mine, theirs = create_doc(client, viewer), create_doc(client, owner)
    expected = [theirs["id"], mine["id"]] if sees_all else [mine["id"]]
    assert listed_ids(client, viewer) == expected


def test_agent_sees_another_agents_document_as_404_not_403(client, auth):
    owner, agent = auth.account("agent"), auth.account("agent")
    doc = create_doc(client, owner)
    for response in (client.get(f"/api/documents/{doc['id']}", headers=agent.headers),
                     client.patch(f"/api/documents/{doc['id']}", json={"objet": "x"}, headers=agent.headers),
                     client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers),
                     client.get(f"/api/documents/{doc['id']}/attachments", headers=agent.headers),
                     client.post(f"/api/documents/{doc['id']}/validate", headers=agent.headers)):
        body = assert_error(response, 404, "not_found")
        assert body == assert_error(client.get(f"/api/documents/{uuid.uuid4()}", headers=agent.headers),
                                    404, "not_found")


def test_validateur_cannot_edit_another_users_document(client, agent, validateur):
    doc = create_doc(client, agent)
    response = client.patch(f"/api/documents/{doc['id']}", json={"objet": "Par le validateur"},
                            headers=validateur.headers)
    assert_error(response, 403, "forbidden")
    assert client.get(f"/api/documents/{doc['id']}", headers=agent.headers).json["data"]["objet"] == doc["objet"]


def test_admin_edit_is_recorded_with_the_admin_as_actor(client, agent, admin):
    doc = create_doc(client, agent)
    assert client.patch(f"/api/documents/{doc['id']}", json={"objet": "Par l'admin"},
                        headers=admin.headers).status_code == 200
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=agent.headers).json["data"]
    assert entries[-1]["action"] == "updated" and entries[-1]["actor"]["id"] == admin.id


# ------------------------------------------------------------------ listing

def test_list_filters_by_statut(client, agent, validateur):
    pending, done, refused = (create_doc(client, agent) for _ in range(3))
    client.post(f"/api/documents/{done['id']}/validate", headers=validateur.headers)
    client.post(f"/api/documents/{refused['id']}/reject", json={"motif": "Non signé"}, headers=validateur.headers)
    assert listed_ids(client, agent, statut="valide") == [done["id"]]
    assert listed_ids(client, agent, statut="rejete") == [refused["id"]]
    assert listed_ids(client, agent, statut="en_attente") == [pending["id"]]


def test_list_filters_by_type_and_priorite(client, agent):
    entrant = create_doc(client, agent, type="entrant", priorite="urgente")
    sortant = create_doc(client, agent, type="sortant")
    interne = create_doc(client, agent, type="interne", priorite="urgente")
    assert listed_ids(client, agent, type="sortant") == [sortant["id"]]
    assert listed_ids(client, agent, priorite="urgente") == [interne["id"], entrant["id"]]
    assert listed_ids(client, agent, type="entrant", priorite="urgente") == [entrant["id"]]


@pytest.mark.parametrize("field", ["objet", "expediteur", "destinataire"])
def test_q_searches_each_text_field_case_insensitively(client, agent, field):
    doc = create_doc(client, agent, **{field: "Lettre de la Mairie de Villeneuve"})
    create_doc(client, agent)
    assert listed_ids(client, agent, q="mairie de VILLENEUVE") == [doc["id"]]


def test_q_searches_the_reference(client, agent):
    first, second = create_doc(client, agent), create_doc(client, agent)
    assert listed_ids(client, agent, q=second["reference"].lower()) == [second["id"]]
    assert first["id"] not in listed_ids(client, agent, q=second["reference"])


# `q` is full-text since issue 25: its words, their forms, hostile input: tests/test_search.py.


def test_list_is_newest_first(client, agent, monkeypatch):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    ids = []
    for minutes in (0, 30, 10):
        monkeypatch.setattr(service, "utcnow", lambda m=minutes: start + timedelta(minutes=m))
        ids.append(create_doc(client, agent)["id"])
    assert listed_ids(client, agent) == [ids[1], ids[2], ids[0]]


def test_documents_created_at_the_same_instant_have_a_stable_order(client, agent, monkeypatch):
    monkeypatch.setattr(service, "utcnow", lambda: datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))
    ids = [create_doc(client, agent)["id"] for _ in range(5)]
    assert listed_ids(client, agent) == sorted(ids, reverse=True)
    pages = [listed_ids(client, agent, per_page=2, page=page) for page in (1, 2, 3)]
    assert sum(pages, []) == sorted(ids, reverse=True)


def test_date_range_filters_on_the_registration_day(client, agent, monkeypatch):
    created = {}
    for day in (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)):
        # Late in the UTC day: the filter compares UTC days, whatever the hour.
        late = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=timezone.utc)
        monkeypatch.setattr(service, "utcnow", lambda late=late: late)
        created[day.day] = create_doc(client, agent, date_courrier="2020-01-01", date_reception="2020-01-02")["id"]
    assert listed_ids(client, agent, date_from="2026-03-02") == [created[3], created[2]]
    assert listed_ids(client, agent, date_to="2026-03-02") == [created[2], created[1]]
    assert listed_ids(client, agent, date_from="2026-03-02", date_to="2026-03-02") == [created[2]]
    assert listed_ids(client, agent, date_from="2026-03-04") == []
    assert listed_ids(client, agent, date_from="2020-01-01", date_to="2020-01-02") == []


@pytest.mark.parametrize("query, field", [
    ({"per_page": 101}, "per_page"), ({"per_page": 0}, "per_page"), ({"page": 0}, "page"), ({"page": -1}, "page"),
    ({"page": "x"}, "page"), ({"statut": "archive"}, "statut"), ({"type": "autre"}, "type"),
    ({"priorite": "haute"}, "priorite"), ({"date_from": "01/03/2026"}, "date_from"),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to"), ({"q": "x" * 256}, "q"), ({"q": "a\nb"}, "q"),
])
def test_invalid_list_arguments_are_422(client, agent, query, field):
    assert_field_error(client.get("/api/documents", query_string=query, headers=agent.headers), field)


def test_pagination_meta(client, agent):
    ids = [create_doc(client, agent)["id"] for _ in range(5)]
    first = client.get("/api/documents", query_string={"per_page": 2}, headers=agent.headers).json
    # An agent outside the mail office may not export the register: no `exporter_registre`.
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3, "actions": []}
    last = client.get("/api/documents", query_string={"per_page": 2, "page": 3}, headers=agent.headers).json
    assert last["meta"]["page"] == 3 and len(last["data"]) == 1
    beyond = client.get("/api/documents", query_string={"per_page": 2, "page": 9}, headers=agent.headers).json
    assert beyond["data"] == [] and beyond["meta"]["total"] == 5
    assert listed_ids(client, agent, per_page=100) == ids[::-1]


def test_default_page_size_is_20(client, agent):
    meta = client.get("/api/documents", headers=agent.headers).json["meta"]
    assert (meta["page"], meta["per_page"], meta["total"], meta["pages"]) == (1, 20, 0, 0)


def test_listing_a_page_costs_the_same_number_of_queries_whatever_the_data(app, client, auth):
    """No N+1: creators and validators come with the page, in one count and one page query."""
    admin = auth.account("administrateur")
    creators = [auth.account("agent") for _ in range(4)]
    deciders = [auth.account("validateur") for _ in range(3)]

    statements = []

    def count_queries():
        statements.clear()
        response = client.get("/api/documents", query_string={"per_page": 50, "statut": "valide", "q": "courrier"},
                              headers=admin.headers)
        assert response.status_code == 200
        return len(statements), len(response.json["data"])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    doc = create_doc(client, creators[0], objet="Courrier 0")
    client.post(f"/api/documents/{doc['id']}/validate", headers=deciders[0].headers)
    few_queries, few_rows = count_queries()
    for i in range(1, 60):
        doc = create_doc(client, creators[i % 4], objet=f"Courrier {i}")
        client.post(f"/api/documents/{doc['id']}/validate", headers=deciders[i % 3].headers)
    many_queries, many_rows = count_queries()
    assert (few_rows, many_rows) == (1, 50)
    assert many_queries == few_queries <= 6  # session check, count, page, copies (services, users), extracts


def test_attachments_say_who_added_them_without_a_query_per_file(app, client, agent, validateur, auth):
    """The letter's screen shows who added each file and when; listing many costs what listing one does."""
    admin = auth.account("administrateur")
    doc = create_doc(client, agent)
    assert upload(client, agent, doc["id"]).status_code == 201
    statements = []

    def listed():
        statements.clear()
        response = client.get(f"/api/documents/{doc['id']}/attachments", headers=validateur.headers)
        assert response.status_code == 200
        return len(statements), response.json["data"]

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    one_query_count, [first] = listed()
    assert first["uploaded_by"] == {"id": agent.id, "nom": agent.user["nom"], "prenom": agent.user["prenom"]}
    assert first["created_at"].endswith("+00:00")
    for number in range(5):
        assert upload(client, agent, doc["id"], filename=f"page-{number}.pdf").status_code == 201
    many_query_count, many = listed()
    assert len(many) == 6 and many_query_count == one_query_count
    assert upload(client, admin, doc["id"], filename="complement.pdf").status_code == 201
    assert listed()[1][-1]["uploaded_by"]["id"] == admin.id


# ------------------------------------------------------------------ OpenAPI

def test_openapi_describes_the_document_routes_and_their_fields(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for path, methods in {
        "/api/documents": {"get", "post"},
        "/api/documents/{document_id}": {"get", "patch"},
        "/api/documents/{document_id}/validate": {"post"},
        "/api/documents/{document_id}/reject": {"post"},
        "/api/documents/{document_id}/history": {"get"},
        "/api/documents/{document_id}/attachments": {"get", "post"},
        "/api/documents/{document_id}/attachments/{attachment_id}": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    schemas = spec["components"]["schemas"]
    assert {"type", "objet"} <= set(schemas["DocumentCreate"]["required"])
    # Required unless their contact is given (issue 14): said in their description.
    assert all("Obligatoire" in schemas["DocumentCreate"]["properties"][name]["description"]
               for name in ("expediteur", "destinataire"))
    assert "motif" in schemas["Reject"]["required"]
    upload_body = paths["/api/documents/{document_id}/attachments"]["post"]["requestBody"]["content"]
    assert schemas["AttachmentUpload"]["properties"]["file"] == {
        **schemas["AttachmentUpload"]["properties"]["file"], "type": "string", "format": "binary"}
    assert list(upload_body) == ["multipart/form-data"]
    parameters = {p["name"] for p in paths["/api/documents"]["get"]["parameters"]}
    assert {"statut", "type", "priorite", "q", "date_from", "date_to", "page", "per_page"} <= parameters


def test_history_lists_every_action_with_its_actor(client, agent, validateur):
    doc = create_doc(client, agent)
    client.patch(f"/api/documents/{doc['id']}", json={"objet": "Rectifié"}, headers=agent.headers)
    assert upload(client, agent, doc["id"]).status_code == 201
    client.post(f"/api/documents/{doc['id']}/reject", json={"motif": "Illisible"}, headers=validateur.headers)
    entries = client.get(f"/api/documents/{doc['id']}/history", headers=validateur.headers).json["data"]
    assert [e["action"] for e in entries] == ["created", "updated", "attachment_added", "rejected"]
    assert [e["actor"]["id"] for e in entries] == [agent.id, agent.id, agent.id, validateur.id]
    for entry in entries:
        assert set(entry) == {"action", "actor", "at", "details"}
        assert set(entry["actor"]) == {"id", "nom", "prenom"}
        assert entry["at"].endswith("+00:00")
    assert entries[-1]["details"]["motif"] == "Illisible"


def test_history_rows_belong_to_their_document(app, client, agent):
    first, second = create_doc(client, agent), create_doc(client, agent)
    client.patch(f"/api/documents/{first['id']}", json={"objet": "Rectifié"}, headers=agent.headers)
    assert history_actions(client, agent, second["id"]) == ["created"]
    assert count_rows(app, DocumentEvent, document_id=first["id"]) == 2
