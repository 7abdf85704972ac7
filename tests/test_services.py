"""Services (the organisation tree), memberships and the CSV import (issue 12)."""
import pytest
from sqlalchemy import select

from courrier.audit.models import AuditEvent
from courrier.extensions import db
from courrier.services.models import Service

SERVICE_FIELDS = {"id", "code", "nom", "parent_id", "email", "is_active", "is_mail_office", "created_at"}


def create_service(client, admin, expected=201, **fields):
    body = {"code": "FIN", "nom": "Finances", **fields}
    response = client.post("/api/services", json=body, headers=admin.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def field_errors(response_json):
    assert response_json["code"] == "validation_error", response_json
    return response_json["errors"]


def audit_events(app, event_type):
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.type == event_type).order_by(AuditEvent.created_at))]


# ------------------------------------------------------------------ the tree

def test_admin_creates_a_service_with_its_code_upper_cased(app, client, admin):
    service = create_service(client, admin, code="fin-01", nom="Finances", email="Finances@Example.fr")
    assert set(service) == SERVICE_FIELDS
    assert (service["code"], service["email"], service["is_active"], service["is_mail_office"]) == \
        ("FIN-01", "finances@example.fr", True, False)
    assert audit_events(app, "service_created")[0]["code"] == "FIN-01"


def test_a_used_code_is_422_whatever_its_case(client, admin):
    create_service(client, admin, code="FIN")
    assert "code" in field_errors(create_service(client, admin, expected=422, code="fin"))


@pytest.mark.parametrize("code", ["", "A" * 21, "FIN ANCES", "FIN/1", "É", 12, None])
def test_bad_codes_are_422(client, admin, code):
    assert "code" in field_errors(create_service(client, admin, expected=422, code=code))


@pytest.mark.parametrize("nom", ["", "   ", "x" * 256, None])
def test_bad_names_are_422(client, admin, nom):
    assert "nom" in field_errors(create_service(client, admin, expected=422, nom=nom))


def test_only_administrateurs_write_services(client, admin, agent, validateur):
    service = create_service(client, admin)
    for account in (agent, validateur):
        response = client.post("/api/services", json={"code": "RH", "nom": "RH"}, headers=account.headers)
        assert response.status_code == 403
        assert client.patch(f"/api/services/{service['id']}", json={"nom": "X"},
                            headers=account.headers).status_code == 403


def test_everyone_authenticated_reads_services(client, admin, agent):
    service = create_service(client, admin)
    assert client.get("/api/services").status_code == 401
    assert [s["code"] for s in client.get("/api/services", headers=agent.headers).json["data"]] == ["FIN"]
    assert client.get(f"/api/services/{service['id']}", headers=agent.headers).json["data"]["nom"] == "Finances"


@pytest.mark.parametrize("service_id", ["unknown", "01a23367-d7a1-7e1b-97e9-e3bab4de6f58", "x" * 300])
def test_unknown_service_is_404(client, agent, service_id):
    assert client.get(f"/api/services/{service_id}", headers=agent.headers).status_code == 404


def test_list_filters_by_text_status_and_parent(client, admin):
    dg = create_service(client, admin, code="DG", nom="Direction générale")
    create_service(client, admin, code="FIN", nom="Finances", parent_id=dg["id"])
    create_service(client, admin, code="RH", nom="Ressources humaines", is_active=False)

    def codes(**query):
        return [s["code"] for s in client.get("/api/services", query_string=query, headers=admin.headers).json["data"]]

    assert codes() == ["DG", "FIN", "RH"]
    assert codes(q="humaines") == ["RH"]
    assert codes(q="fi") == ["FIN"]
    assert codes(is_active="false") == ["RH"]
    assert codes(parent_id=dg["id"]) == ["FIN"]


def test_unknown_parent_is_422(client, admin):
    assert "parent_id" in field_errors(create_service(client, admin, expected=422, parent_id="nope"))


def test_moving_a_service_under_itself_or_its_descendant_is_422(client, admin):
    dg = create_service(client, admin, code="DG", nom="DG")
    fin = create_service(client, admin, code="FIN", nom="Finances", parent_id=dg["id"])
    compta = create_service(client, admin, code="COMPTA", nom="Comptabilité", parent_id=fin["id"])
    for parent in (dg, fin, compta):
        response = client.patch(f"/api/services/{dg['id']}", json={"parent_id": parent["id"]}, headers=admin.headers)
        assert "parent_id" in field_errors(response.json)
    moved = client.patch(f"/api/services/{compta['id']}", json={"parent_id": dg["id"]}, headers=admin.headers)
    assert moved.status_code == 200 and moved.json["data"]["parent_id"] == dg["id"]


def test_at_most_one_mail_office(client, admin):
    bc = create_service(client, admin, code="BC", nom="Bureau du courrier", is_mail_office=True)
    assert "is_mail_office" in field_errors(create_service(client, admin, expected=422, code="BC2",
                                                           is_mail_office=True))
    other = create_service(client, admin, code="RH", nom="RH")
    response = client.patch(f"/api/services/{other['id']}", json={"is_mail_office": True}, headers=admin.headers)
    assert "is_mail_office" in field_errors(response.json)
    assert client.patch(f"/api/services/{bc['id']}", json={"is_mail_office": False},
                        headers=admin.headers).status_code == 200
    assert client.patch(f"/api/services/{other['id']}", json={"is_mail_office": True},
                        headers=admin.headers).status_code == 200


def test_the_mail_office_cannot_be_deactivated(client, admin):
    bc = create_service(client, admin, code="BC", nom="Bureau du courrier", is_mail_office=True)
    response = client.patch(f"/api/services/{bc['id']}", json={"is_active": False}, headers=admin.headers)
    assert "is_active" in field_errors(response.json)


def test_the_database_refuses_a_second_mail_office(app, client, admin):
    """The partial unique index holds even when the check in Python is bypassed (two concurrent PATCHes)."""
    from sqlalchemy.exc import IntegrityError

    create_service(client, admin, code="BC", nom="Bureau du courrier", is_mail_office=True)
    with app.app_context():
        db.session.add(Service(code="BC2", nom="Autre", is_mail_office=True))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_patch_renames_and_is_audited_with_the_changes(app, client, admin):
    service = create_service(client, admin)
    response = client.patch(f"/api/services/{service['id']}", json={"nom": "Finances publiques", "code": "finpub"},
                            headers=admin.headers)
    assert response.status_code == 200
    assert (response.json["data"]["nom"], response.json["data"]["code"]) == ("Finances publiques", "FINPUB")
    changes = audit_events(app, "service_updated")[0]["changes"]
    assert changes["nom"] == {"old": "Finances", "new": "Finances publiques"}


@pytest.mark.parametrize("body", [{}, {"id": "x"}, {"is_active": "false"}, {"created_at": "2026-01-01"},
                                  {"parent_id": 5}, {"email": "pas-une-adresse"}])
def test_bad_patches_are_422(client, admin, body):
    service = create_service(client, admin)
    assert client.patch(f"/api/services/{service['id']}", json=body, headers=admin.headers).status_code == 422


def test_services_are_never_deleted(client, admin):
    service = create_service(client, admin)
    response = client.delete(f"/api/services/{service['id']}", headers=admin.headers)
    assert response.status_code == 405 and "PATCH" in response.headers["Allow"]


# ------------------------------------------------------------------ memberships

def put_services(client, admin, user_id, services, primary=None):
    body = {"services": services}
    if primary is not None:
        body["primary"] = primary
    return client.put(f"/api/users/{user_id}/services", json=body, headers=admin.headers)


def test_memberships_show_on_the_user_and_on_me(app, client, admin, agent):
    fin = create_service(client, admin, code="FIN")
    rh = create_service(client, admin, code="RH", nom="RH")
    response = put_services(client, admin, agent.id, [fin["id"], rh["id"]], primary=rh["id"])
    assert response.status_code == 200
    expected = [{"id": rh["id"], "code": "RH", "nom": "RH", "primary": True},
                {"id": fin["id"], "code": "FIN", "nom": "Finances", "primary": False}]
    assert response.json["data"]["services"] == expected
    assert client.get("/api/auth/me", headers=agent.headers).json["data"]["services"] == expected
    listed = client.get("/api/users", query_string={"q": agent.email}, headers=admin.headers).json["data"]
    assert listed[0]["services"] == expected
    assert audit_events(app, "memberships_changed")[0] == {"before": [], "after": ["FIN", "RH"], "primary": "RH"}


def test_the_first_service_is_primary_by_default_and_put_replaces(client, admin, agent):
    fin = create_service(client, admin, code="FIN")
    rh = create_service(client, admin, code="RH", nom="RH")
    put_services(client, admin, agent.id, [fin["id"], rh["id"]])
    response = put_services(client, admin, agent.id, [rh["id"]])
    assert response.json["data"]["services"] == [{"id": rh["id"], "code": "RH", "nom": "RH", "primary": True}]
    assert put_services(client, admin, agent.id, []).json["data"]["services"] == []


def test_memberships_refuse_unknown_and_inactive_services(client, admin, agent):
    fin = create_service(client, admin, code="FIN")
    old = create_service(client, admin, code="OLD", nom="Ancien", is_active=False)
    for services in (["nope"], [old["id"]], [fin["id"], "nope"]):
        assert "services" in field_errors(put_services(client, admin, agent.id, services).json)
    assert "primary" in field_errors(put_services(client, admin, agent.id, [fin["id"]], primary=old["id"]).json)
    assert client.get("/api/auth/me", headers=agent.headers).json["data"]["services"] == []


@pytest.mark.parametrize("body", [{}, {"services": "x"}, {"services": [1]}, {"services": [], "primary": 3},
                                  {"services": ["a"] * 101}, {"services": [], "extra": 1}])
def test_bad_membership_bodies_are_422(client, admin, agent, body):
    assert client.put(f"/api/users/{agent.id}/services", json=body, headers=admin.headers).status_code == 422


def test_only_administrateurs_set_memberships(client, admin, agent, validateur):
    fin = create_service(client, admin)
    assert put_services(client, validateur, agent.id, [fin["id"]]).status_code == 403
    assert put_services(client, agent, agent.id, [fin["id"]]).status_code == 403
    assert put_services(client, admin, "unknown-user", [fin["id"]]).status_code == 404


def test_members_lists_the_active_members_for_anyone(client, auth, admin, agent):
    fin = create_service(client, admin)
    gone = auth.account("agent", nom="Zola")
    put_services(client, admin, agent.id, [fin["id"]])
    put_services(client, admin, gone.id, [fin["id"]])
    client.patch(f"/api/users/{gone.id}", json={"is_active": False}, headers=admin.headers)
    members = client.get(f"/api/services/{fin['id']}/members", headers=agent.headers).json["data"]
    assert members == [{"id": agent.id, "nom": "Durand", "prenom": "Paul", "primary": True}]
    assert client.get("/api/services/unknown/members", headers=agent.headers).status_code == 404


# ------------------------------------------------------------------ CSV import

def write_csv(tmp_path, text):
    path = tmp_path / "services.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def service_tree(app):
    with app.app_context():
        services = db.session.scalars(select(Service)).all()
        codes = {s.id: s.code for s in services}
        return {s.code: codes.get(s.parent_id) for s in services}


def test_import_creates_parents_before_children_whatever_the_order(app, runner, tmp_path):
    path = write_csv(tmp_path, "code,nom,parent_code,email\n"
                               "compta,Comptabilité,FIN,\n"
                               "FIN,Finances,dg,fin@example.fr\n"
                               "DG,Direction générale,,\n")
    result = runner.invoke(args=["services", "import", path])
    assert result.exit_code == 0, result.output
    assert "3 service(s) créé(s)" in result.output
    assert service_tree(app) == {"DG": None, "FIN": "DG", "COMPTA": "FIN"}
    assert [d["code"] for d in audit_events(app, "service_created")] == ["DG", "FIN", "COMPTA"]


def test_import_is_all_or_nothing_with_line_numbered_errors(app, runner, tmp_path):
    path = write_csv(tmp_path, "code,nom,parent_code\n"
                               "DG,Direction,\n"
                               "bad code,Nom,\n"
                               "FIN,,DG\n"
                               "RH,RH,NOPE\n"
                               "dg,Doublon,\n"
                               "A,A,B\n"
                               "B,B,A\n")
    result = runner.invoke(args=["services", "import", path])
    assert result.exit_code != 0
    for line in ("ligne 3 : code", "ligne 4 : nom", "ligne 5 : service parent NOPE inconnu",
                 "ligne 6 : code DG déjà donné ligne 2", "cycle"):
        assert line in result.output, result.output
    assert "aucun service créé" in result.output
    assert service_tree(app) == {}


def test_import_refuses_existing_codes_and_unknown_columns(app, client, admin, runner, tmp_path):
    create_service(client, admin, code="FIN")
    result = runner.invoke(args=["services", "import", write_csv(tmp_path, "code,nom\nfin,Finances\n")])
    assert result.exit_code != 0 and "ligne 2 : le service FIN existe déjà" in result.output
    result = runner.invoke(args=["services", "import", write_csv(tmp_path, "code,libelle\nX,Y\n")])
    assert result.exit_code != 0 and "ligne 1" in result.output


def test_import_attaches_to_existing_parents(app, client, admin, runner, tmp_path):
    create_service(client, admin, code="DG", nom="DG")
    result = runner.invoke(args=["services", "import", write_csv(tmp_path, "nom,code,parent_code\nFinances,FIN,DG\n")])
    assert result.exit_code == 0, result.output
    assert service_tree(app) == {"DG": None, "FIN": "DG"}
