"""The correspondents directory (issue 14): rules, search, duplicates, merge, letters, CSV import and export."""
import jsonschema_rs
import pytest
from sqlalchemy import select

from courrier.audit.models import AuditEvent
from courrier.contacts.models import Contact
from courrier.documents.models import Document
from courrier.extensions import db

CONTACT_FIELDS = {"id", "type", "civilite", "nom", "prenom", "organisation", "service", "fonction", "adresse",
                  "email", "telephone", "notes", "created_at", "updated_at"}
BOM = "\ufeff"


def create_contact(client, account, expected=201, query=None, **fields):
    body = {"type": "personne", "nom": "Dupont", "prenom": "Jean", **fields}
    response = client.post("/api/contacts", json=body, query_string=query or {}, headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def organisation(**fields):
    return {"type": "organisation", "nom": None, "prenom": None, "organisation": "Mairie de Lyon", **fields}


def field_errors(response_json):
    assert response_json["code"] == "validation_error", response_json
    return response_json["errors"]


def search(client, account, **query):
    response = client.get("/api/contacts", query_string=query, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json


def names(client, account, **query):
    return [c["nom"] or c["organisation"] for c in search(client, account, **query)["data"]]


def audit_events(app, event_type):
    with app.app_context():
        return [e.details for e in db.session.scalars(select(AuditEvent).where(AuditEvent.type == event_type))]


def create_letter(client, account, objet="Demande", **links):
    """A letter registered through the API, then linked to contacts in the database (`expediteur_id`...)."""
    body = {"type": "entrant", "objet": objet, "expediteur": "Texte d'origine", "destinataire": "Mairie"}
    response = client.post("/api/documents", json=body, headers=account.headers)
    assert response.status_code == 201, response.json
    document_id = response.json["data"]["id"]
    if links:
        with client.application.app_context():
            document = db.session.get(Document, document_id)
            for name, contact_id in links.items():
                setattr(document, name, contact_id)
            db.session.commit()
    return document_id


def letter_links(app, document_id):
    with app.app_context():
        document = db.session.get(Document, document_id)
        return document.expediteur_id, document.destinataire_id, document.expediteur


# ------------------------------------------------------------------ fields and rules

def test_any_authenticated_user_creates_a_contact(client, agent):
    assert client.post("/api/contacts", json={"type": "personne", "nom": "X"}).status_code == 401
    contact = create_contact(client, agent, civilite="Mme", prenom="Élise", email="Elise.Dupont@Example.fr",
                             adresse={"numero": "12", "voie": "rue de la Paix", "code_postal": "75002",
                                      "commune": "Paris"})
    assert set(contact) == CONTACT_FIELDS
    assert (contact["civilite"], contact["email"], contact["adresse"]["code_postal"], contact["adresse"]["pays"]) == \
        ("Mme", "elise.dupont@example.fr", "75002", None)


def test_a_personne_needs_a_nom_and_an_organisation_its_name(client, agent):
    assert "nom" in field_errors(create_contact(client, agent, expected=422, nom=None))
    assert "nom" in field_errors(create_contact(client, agent, expected=422, nom="  "))
    assert "organisation" in field_errors(create_contact(client, agent, expected=422, **organisation(organisation="")))
    assert create_contact(client, agent, **organisation())["organisation"] == "Mairie de Lyon"


def test_a_patch_cannot_leave_a_contact_without_its_name(client, agent):
    contact = create_contact(client, agent)
    url = f"/api/contacts/{contact['id']}"
    assert "nom" in field_errors(client.patch(url, json={"nom": None}, headers=agent.headers).json)
    assert "organisation" in field_errors(client.patch(url, json={"type": "organisation"}, headers=agent.headers).json)
    changed = client.patch(url, json={"type": "organisation", "organisation": "SNCF"}, headers=agent.headers)
    assert changed.status_code == 200 and changed.json["data"]["type"] == "organisation"


@pytest.mark.parametrize("fields, field", [
    ({"type": "societe"}, "type"),
    ({"type": None}, "type"),
    ({"civilite": "Mlle"}, "civilite"),
    ({"civilite": "m."}, "civilite"),
    ({"nom": "x" * 256}, "nom"),
    ({"email": "pas-une-adresse"}, "email"),
    ({"telephone": "0" * 31}, "telephone"),
    ({"adresse": "12 rue de la Paix"}, "adresse"),
    ({"adresse": {"rue": "de la Paix"}}, "adresse"),
    ({"inconnu": 1}, "inconnu"),
])
def test_bad_fields_are_422_in_french(client, agent, fields, field):
    errors = field_errors(create_contact(client, agent, expected=422, **fields))
    assert field in errors
    assert not any("Unknown" in message or "Not a valid" in message for message in errors[field])


def test_civilite_may_be_null(client, agent):
    assert create_contact(client, agent, civilite=None)["civilite"] is None
    assert create_contact(client, agent, nom="Martin", civilite="M.")["civilite"] == "M."


@pytest.mark.parametrize("pays, code_postal, valid", [
    (None, "75001", True),
    (None, "7500", False),
    ("France", "2A004", False),
    ("FRANCE", "750012", False),
    (" france ", "75 001", False),
    ("Frànce", "ABCDE", False),
    ("France", "69001", True),
    ("Belgique", "1000", True),
    ("Royaume-Uni", "SW1A 1AA", True),
])
def test_a_french_postcode_is_five_digits(client, agent, pays, code_postal, valid):
    adresse = {"code_postal": code_postal, "commune": "Ville", "pays": pays}
    if valid:
        assert create_contact(client, agent, adresse=adresse)["adresse"]["code_postal"] == code_postal
    else:
        errors = field_errors(create_contact(client, agent, expected=422, adresse=adresse))
        assert errors == {"adresse": ["code_postal : Un code postal français compte 5 chiffres."]}


def test_get_and_unknown_contacts(client, agent):
    contact = create_contact(client, agent)
    assert client.get(f"/api/contacts/{contact['id']}", headers=agent.headers).json["data"]["nom"] == "Dupont"
    for unknown in ("nope", "01a23367-d7a1-7e1b-97e9-e3bab4de6f58", "x" * 300):
        assert client.get(f"/api/contacts/{unknown}", headers=agent.headers).status_code == 404
        assert client.patch(f"/api/contacts/{unknown}", json={"nom": "X"}, headers=agent.headers).status_code == 404


def test_any_authenticated_user_edits_and_the_address_is_replaced(client, agent, validateur):
    contact = create_contact(client, agent, adresse={"voie": "rue Haute", "code_postal": "75001"})
    response = client.patch(f"/api/contacts/{contact['id']}", json={"prenom": "Jeanne", "adresse": {
        "commune": "Lyon"}}, headers=validateur.headers)
    assert response.status_code == 200, response.json
    assert response.json["data"]["prenom"] == "Jeanne"
    assert response.json["data"]["adresse"] == {name: None for name in ("numero", "voie", "complement", "code_postal",
                                                                        "pays")} | {"commune": "Lyon"}
    assert names(client, agent, q="lyon") == ["Dupont"]
    assert "_schema" in field_errors(client.patch(f"/api/contacts/{contact['id']}", json={},
                                                  headers=agent.headers).json)


# ------------------------------------------------------------------ search

@pytest.fixture
def directory(client, agent):
    create_contact(client, agent, nom="Dupré", prenom="François", email="f.dupre@example.fr")
    create_contact(client, agent, **organisation(organisation="École Saint-Jean",
                                                 adresse={"code_postal": "34200", "commune": "Sète"}))
    create_contact(client, agent, nom="MARTIN", prenom="Zoé", organisation="Préfecture de l'Hérault")
    create_contact(client, agent, nom="Le_Goff", prenom="Anne")


@pytest.mark.parametrize("q, expected", [
    ("francois", ["Dupré"]),
    ("FRANÇOIS", ["Dupré"]),
    ("dupre", ["Dupré"]),
    ("ECOLE", ["École Saint-Jean"]),
    ("école saint-jean", ["École Saint-Jean"]),
    ("sete", ["École Saint-Jean"]),
    ("herault", ["MARTIN"]),
    ("zoe", ["MARTIN"]),
    ("F.DUPRE@EXAMPLE", ["Dupré"]),
    ("_", ["Le_Goff"]),
    ("introuvable", []),
    # Each word on its own, in any order, across nom, prénom and organisation; partial words too.
    ("francois dupre", ["Dupré"]),
    ("dupre francois", ["Dupré"]),
    ("Dupré", ["Dupré"]),
    ("FRAN dup", ["Dupré"]),
    ("  dupré   françois  ", ["Dupré"]),
    ("zoe prefecture", ["MARTIN"]),
    ("saint-jean école", ["École Saint-Jean"]),
    ("francois martin", []),  # every word must match the same contact
])
def test_search_ignores_case_and_accents(client, agent, directory, q, expected):
    assert names(client, agent, q=q) == expected


def test_list_is_alphabetical_paginated_and_filtered_by_type(client, agent, directory):
    assert names(client, agent) == ["Dupré", "École Saint-Jean", "Le_Goff", "MARTIN"]
    assert names(client, agent, type="organisation") == ["École Saint-Jean"]
    page = search(client, agent, per_page=3, page=2)
    assert page["meta"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}
    assert [c["nom"] for c in page["data"]] == ["MARTIN"]


@pytest.mark.parametrize("query", [{"type": "societe"}, {"per_page": 101}, {"q": "x" * 101}, {"format": "xls"}])
def test_bad_list_filters_are_422(client, agent, query):
    assert client.get("/api/contacts", query_string=query, headers=agent.headers).status_code == 422


# ------------------------------------------------------------------ duplicates

def test_a_duplicate_is_409_naming_the_existing_contact(client, agent):
    first = create_contact(client, agent, adresse={"code_postal": "75001"})
    conflict = create_contact(client, agent, expected=409, nom="DUPONT", prenom="jean",
                              adresse={"code_postal": "75001", "commune": "Paris"})
    assert conflict["code"] == "conflict"
    assert "Jean Dupont" in conflict["message"] and first["id"] in conflict["message"]
    forced = create_contact(client, agent, query={"force": "true"}, adresse={"code_postal": "75001"})
    assert forced["id"] != first["id"]


def test_same_name_elsewhere_or_another_type_is_no_duplicate(client, agent):
    create_contact(client, agent, adresse={"code_postal": "75001"})
    create_contact(client, agent, adresse={"code_postal": "69001"})
    create_contact(client, agent, **organisation(organisation="Dupont Jean", adresse={"code_postal": "75001"}))
    create_contact(client, agent, expected=409, **organisation(organisation="dupont  JEAN",
                                                               adresse={"code_postal": "75001"}))


def test_organisations_are_duplicates_by_folded_name_and_postcode(client, agent):
    create_contact(client, agent, **organisation(organisation="École Saint-Jean", adresse={"code_postal": "34200"}))
    conflict = create_contact(client, agent, expected=409, **organisation(organisation="ecole saint jean",
                                                                          adresse={"code_postal": "34200"}))
    assert "École Saint-Jean" in conflict["message"]


# ------------------------------------------------------------------ delete and merge

def test_only_administrateurs_delete_an_unused_contact(app, client, agent, admin):
    contact = create_contact(client, agent)
    url = f"/api/contacts/{contact['id']}"
    assert client.delete(url, headers=agent.headers).status_code == 403
    assert client.delete(url, headers=admin.headers).status_code == 200
    assert client.get(url, headers=agent.headers).status_code == 404
    assert audit_events(app, "contact_deleted")[0]["contact_id"] == contact["id"]


def test_a_contact_used_by_letters_cannot_be_deleted(app, client, agent, admin):
    contact = create_contact(client, agent)
    create_letter(client, agent, expediteur_id=contact["id"])
    create_letter(client, agent, destinataire_id=contact["id"])
    response = client.delete(f"/api/contacts/{contact['id']}", headers=admin.headers)
    assert response.status_code == 409
    assert response.json["code"] == "conflict" and "2 courrier(s)" in response.json["message"]
    assert client.get(f"/api/contacts/{contact['id']}", headers=agent.headers).status_code == 200
    assert audit_events(app, "contact_deleted") == []


def test_merge_moves_the_letters_with_history_and_audit(app, client, agent, admin):
    duplicate = create_contact(client, agent, nom="Dupond")
    kept = create_contact(client, agent)
    sent = create_letter(client, agent, expediteur_id=duplicate["id"])
    received = create_letter(client, agent, destinataire_id=duplicate["id"])
    both = create_letter(client, agent, expediteur_id=duplicate["id"], destinataire_id=duplicate["id"])
    other = create_letter(client, agent, expediteur_id=kept["id"])

    response = client.post(f"/api/contacts/{duplicate['id']}/merge", json={"into": kept["id"]}, headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["data"]["documents"] == 3 and response.json["data"]["contact"]["id"] == kept["id"]

    assert letter_links(app, sent) == (kept["id"], None, "Texte d'origine")
    assert letter_links(app, received) == (None, kept["id"], "Texte d'origine")
    assert letter_links(app, both)[:2] == (kept["id"], kept["id"])
    for document_id, roles in ((sent, ["expediteur"]), (received, ["destinataire"]),
                               (both, ["expediteur", "destinataire"])):
        history = client.get(f"/api/documents/{document_id}/history", headers=admin.headers).json["data"]
        merged = [entry for entry in history if entry["action"] == "contact_merged"]
        assert len(merged) == 1 and merged[0]["actor"]["id"] == admin.id
        assert merged[0]["details"]["roles"] == roles and merged[0]["details"]["from_id"] == duplicate["id"]
    assert not any(entry["action"] == "contact_merged" for entry in
                   client.get(f"/api/documents/{other}/history", headers=admin.headers).json["data"])
    assert client.get(f"/api/contacts/{duplicate['id']}", headers=admin.headers).status_code == 404
    [event] = audit_events(app, "contacts_merged")
    assert (event["from_id"], event["into_id"], event["documents"]) == (duplicate["id"], kept["id"], 3)


def test_merge_refuses_itself_unknown_contacts_and_non_administrateurs(client, agent, admin):
    contact = create_contact(client, agent)
    url = f"/api/contacts/{contact['id']}/merge"
    assert "into" in field_errors(client.post(url, json={"into": contact["id"]}, headers=admin.headers).json)
    unknown = client.post(url, json={"into": "nope"}, headers=admin.headers)  # the body's contact: 422, not 404
    assert unknown.status_code == 422 and field_errors(unknown.json)["into"] == ["Correspondant inconnu."]
    assert client.post("/api/contacts/nope/merge", json={"into": contact["id"]}, headers=admin.headers).status_code \
        == 404
    assert "into" in field_errors(client.post(url, json={}, headers=admin.headers).json)
    other = create_contact(client, agent, nom="Autre")
    assert client.post(url, json={"into": other["id"]}, headers=agent.headers).status_code == 403
    assert client.get(url.removesuffix("/merge"), headers=agent.headers).status_code == 200


# ------------------------------------------------------------------ a contact's letters

def test_a_contacts_letters_are_scoped_by_visibility(client, auth, agent, admin):
    contact = create_contact(client, agent)
    colleague = auth.account("agent")
    mine = create_letter(client, agent, objet="La mienne", expediteur_id=contact["id"])
    theirs = create_letter(client, colleague, objet="La sienne", destinataire_id=contact["id"])
    create_letter(client, agent, objet="Sans lien")

    def letters(account, **query):
        response = client.get(f"/api/contacts/{contact['id']}/documents", query_string=query, headers=account.headers)
        assert response.status_code == 200, response.json
        return response.json

    assert [d["id"] for d in letters(agent)["data"]] == [mine]
    assert [d["id"] for d in letters(colleague)["data"]] == [theirs]
    everything = letters(admin)
    assert [d["id"] for d in everything["data"]] == [theirs, mine]
    assert everything["meta"]["total"] == 2 and everything["data"][0]["objet"] == "La sienne"
    assert [d["id"] for d in letters(admin, per_page=1, page=2)["data"]] == [mine]
    assert client.get("/api/contacts/nope/documents", headers=admin.headers).status_code == 404


# ------------------------------------------------------------------ CSV export

def test_csv_export_has_a_bom_semicolons_the_filters_and_the_formula_guard(client, agent, directory):
    create_contact(client, agent, nom="=HYPERLINK(\"http://x\")", prenom="Eve", telephone="+33 1 23 45 67 89",
                   notes="@SUM(A1)\nsur deux lignes")
    response = client.get("/api/contacts", query_string={"format": "csv"}, headers=agent.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith(BOM + "type;civilite;nom;prenom;organisation;service;fonction;numero;voie;complement;"
                                 "code_postal;commune;pays;email;telephone;notes\r\n")
    assert "'=HYPERLINK" in text and "'+33 1 23 45 67 89" in text and "'@SUM(A1)" in text
    assert ";=" not in text and ";+" not in text
    assert "\r\norganisation;;;;École Saint-Jean;;;;;;34200;Sète;;;;\r\n" in text
    filtered = client.get("/api/contacts", query_string={"format": "csv", "q": "sete"}, headers=agent.headers)
    assert filtered.get_data(as_text=True).count("\r\n") == 2


def test_cli_export_writes_the_same_csv(app, client, agent, runner, directory, tmp_path):
    path = tmp_path / "export.csv"
    result = runner.invoke(args=["contacts", "export", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 correspondant(s) exporté(s)" in result.output
    http = client.get("/api/contacts", query_string={"format": "csv"}, headers=agent.headers).get_data(as_text=True)
    assert path.read_bytes().decode("utf-8") == http


# ------------------------------------------------------------------ CSV import

def write_csv(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def stored(app):
    with app.app_context():
        return sorted((c.nom or c.organisation, (c.adresse or {}).get("commune"))
                      for c in db.session.scalars(select(Contact)))


@pytest.mark.parametrize("text", [
    "type,nom,prenom,organisation,code_postal,commune\n"
    "personne,Dupré,François,,34000,Montpellier\n"
    "organisation,,,\"Mairie, Sète\",34200,Sète\n",
    BOM + "type;nom;prenom;organisation;code_postal;commune\r\n"
    "Personne;Dupré;François;;34000;Montpellier\r\n"
    "organisation;;;Mairie, Sète;34200;Sète\r\n",
])
def test_import_reads_comma_or_semicolon_files(app, runner, tmp_path, text):
    result = runner.invoke(args=["contacts", "import", write_csv(tmp_path, text)])
    assert result.exit_code == 0, result.output
    assert "2 correspondant(s) créé(s)" in result.output
    assert stored(app) == [("Dupré", "Montpellier"), ("Mairie, Sète", "Sète")]


def test_import_is_all_or_nothing_with_line_numbered_errors(app, client, agent, runner, tmp_path):
    create_contact(client, agent, nom="Existant", prenom="Paul", adresse={"code_postal": "75001"})
    path = write_csv(tmp_path, "type,civilite,nom,prenom,organisation,code_postal,email\n"
                               "personne,M.,Valide,Jean,,75001,\n"
                               "societe,,Nom,,,,\n"
                               "personne,,,Sans nom,,,\n"
                               "personne,,Martin,,,7500,\n"
                               "personne,,VALIDE,jean,,75001,\n"
                               "personne,,Existant,Paul,,75001,\n"
                               "organisation,Mlle,,,Mairie,,pas-un-email\n")
    result = runner.invoke(args=["contacts", "import", path])
    assert result.exit_code != 0
    for expected in ("ligne 3 : type", "ligne 4 : nom : Obligatoire pour une personne",
                     "ligne 5 : code_postal : Un code postal français compte 5 chiffres",
                     "ligne 6 : « jean VALIDE » figure déjà ligne 2",
                     "ligne 7 : Un correspondant semblable existe déjà : « Paul Existant »", "--force",
                     "ligne 8 : civilite", "ligne 8 : email", "aucun correspondant créé"):
        assert expected in result.output, result.output
    assert "ligne 2" not in result.output.split("ligne 6")[0]
    assert stored(app) == [("Existant", None)]


def test_import_dry_run_creates_nothing(app, runner, tmp_path):
    path = write_csv(tmp_path, "type,nom\npersonne,Dupont\npersonne,Martin\n")
    result = runner.invoke(args=["contacts", "import", "--dry-run", path])
    assert result.exit_code == 0, result.output
    assert "2 correspondant(s) seraient créés" in result.output
    assert stored(app) == []


def test_import_force_creates_duplicates(app, runner, tmp_path):
    path = write_csv(tmp_path, "type,nom\npersonne,Dupont\npersonne,DUPONT\n")
    assert runner.invoke(args=["contacts", "import", path]).exit_code != 0
    result = runner.invoke(args=["contacts", "import", "--force", path])
    assert result.exit_code == 0, result.output
    assert stored(app) == [("DUPONT", None), ("Dupont", None)]


def test_import_refuses_unknown_or_missing_columns_and_other_encodings(app, runner, tmp_path):
    result = runner.invoke(args=["contacts", "import", write_csv(tmp_path, "type,nom,ville\npersonne,X,Y\n")])
    assert result.exit_code != 0 and "ligne 1 : colonne(s) inconnue(s) : ville" in result.output
    result = runner.invoke(args=["contacts", "import", write_csv(tmp_path, "nom\nX\n")])
    assert result.exit_code != 0 and "ligne 1 : colonne(s) manquante(s) : type" in result.output
    result = runner.invoke(args=["contacts", "import", write_csv(tmp_path, "type,nom\npersonne,Hélène\n", "latin-1")])
    assert result.exit_code != 0 and "UTF-8" in result.output
    assert stored(app) == []


def test_an_export_imports_back_unchanged(app, client, agent, runner, tmp_path):
    create_contact(client, agent, nom="=Formule", telephone="+33 1 23 45 67 89", notes="deux\nlignes",
                   adresse={"numero": "3", "voie": "quai Nord", "code_postal": "69001", "commune": "Lyon"})
    path = tmp_path / "export.csv"
    assert runner.invoke(args=["contacts", "export", "-o", str(path)]).exit_code == 0
    result = runner.invoke(args=["contacts", "import", str(path)])
    assert result.exit_code != 0 and "ligne 2 : Un correspondant semblable existe déjà" in result.output
    assert runner.invoke(args=["contacts", "import", "--force", str(path)]).exit_code == 0
    with app.app_context():
        contacts = [(c.nom, c.telephone, c.notes, c.adresse, c.duplicate_key)
                    for c in db.session.scalars(select(Contact))]
    assert len(contacts) == 2 and contacts[0] == contacts[1]
    assert contacts[0][:3] == ("=Formule", "+33 1 23 45 67 89", "deux\nlignes")


def test_the_document_takes_blank_for_a_field_stored_as_null(client, admin):
    """"" is no e-mail and no civilité: the server stores null, and the OpenAPI document accepts it."""
    body = {"type": "personne", "nom": "Martin", "email": "", "civilite": ""}
    response = client.post("/api/contacts", json=body, headers=admin.headers)
    assert response.status_code == 201 and response.json["data"]["email"] is None
    properties = client.get("/api/openapi.json").json["components"]["schemas"]["ContactCreate"]["properties"]
    assert all(jsonschema_rs.validator_for(properties[name], validate_formats=True).is_valid("")
               for name in ("email", "civilite"))


def test_the_document_takes_an_address_or_null_not_any_object(client):
    schema = client.get("/api/openapi.json").json["components"]["schemas"]["ContactCreate"]["properties"]["adresse"]
    alternatives = [alternative for alternative in schema["anyOf"] if "$ref" not in alternative]
    assert alternatives and all(alternative.get("enum") == [None] for alternative in alternatives)
