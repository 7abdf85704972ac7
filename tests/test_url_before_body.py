"""What the URL says is answered before what the body says (issue 16, sections 3 and 4).

A URL naming a resource that does not exist, or that the caller may not see, is 404 whatever the
method, the body and its content type; a method the route does not take is 405 with `Allow`, whatever
the body; an unknown URL is 404, whatever the body.
"""
import uuid

import pytest

from courrier import create_app
from courrier.extensions import db
from courrier.resources import LOOKED_UP_BY_THE_VIEW, RESOLVERS
from tests.conftest import create
from tests.test_sessions import StatementCounter

UNKNOWN = str(uuid.uuid4())
# A non-JSON body, a multipart one without the expected field, a JSON body breaking the schema, nothing.
BODIES = {
    "text": {"data": b"x", "content_type": "text/plain"},
    "multipart": {"data": {"autre": "x"}, "content_type": "multipart/form-data"},
    "invalid json": {"json": {"champ_inconnu": "\u0000", "motif": ""}},
    "malformed json": {"data": b"{oops", "content_type": "application/json"},
    "none": {},
}
ROUTES = [
    ("post", "/api/documents/{id}/attachments"),
    ("post", "/api/documents/..%2F..%2Fusers/attachments"),
    ("patch", "/api/documents/{id}"),
    ("post", "/api/documents/{id}/reject"),
    ("post", "/api/documents/{id}/validate"),
    ("post", "/api/documents/{id}/assign"),
    ("post", "/api/documents/{id}/reponses"),
    ("patch", "/api/users/{id}"),
    ("put", "/api/users/{id}/services"),
    ("post", "/api/users/{id}/revoke-sessions"),
    ("patch", "/api/services/{id}"),
    ("patch", "/api/typologies/{id}"),
    ("patch", "/api/contacts/{id}"),
    ("post", "/api/contacts/{id}/merge"),
]


@pytest.mark.parametrize("body", BODIES, ids=list(BODIES))
@pytest.mark.parametrize("method, path", ROUTES, ids=[f"{m.upper()} {p}" for m, p in ROUTES])
def test_unknown_resource_is_404_before_its_body_is_read(client, admin, method, path, body):
    response = getattr(client, method)(path.format(id=UNKNOWN), headers=admin.headers, **BODIES[body])
    assert response.status_code == 404, response.json
    assert response.json["code"] == "not_found"


@pytest.mark.parametrize("body", ["text", "invalid json", "none"])
def test_a_letter_the_caller_may_not_see_is_404_before_its_body(client, auth, agent, body):
    other = auth.account("agent")
    document = create(client, other)
    for method, path in [("post", "/api/documents/{id}/attachments"), ("patch", "/api/documents/{id}"),
                         ("post", "/api/documents/{id}/reject"), ("post", "/api/documents/{id}/traiter")]:
        response = getattr(client, method)(path.format(id=document["id"]), headers=agent.headers, **BODIES[body])
        assert response.status_code == 404, (method, path, response.json)


def test_query_arguments_of_an_unknown_resource_are_not_checked(client, admin):
    response = client.get(f"/api/contacts/{UNKNOWN}/documents?page=0", headers=admin.headers)
    assert response.status_code == 404, response.json


def test_a_visible_resource_still_gets_its_body_checked(client, agent):
    document = create(client, agent)
    response = client.post(f"/api/documents/{document['id']}/attachments", headers=agent.headers,
                           data=b"x", content_type="text/plain")
    assert response.status_code in (415, 422), response.json
    response = client.patch(f"/api/documents/{document['id']}", headers=agent.headers, data=b"x",
                            content_type="text/plain")
    assert response.status_code == 415 and response.json["code"] == "unsupported_media_type"


def test_without_a_token_it_is_401_not_an_existence_answer(client, agent):
    document = create(client, agent)
    for resource_id in (UNKNOWN, document["id"]):
        response = client.patch(f"/api/documents/{resource_id}", json={"objet": "x"})
        assert response.status_code == 401, response.json


def test_the_users_route_stays_forbidden_to_an_agent(client, agent):
    """Users are not an agent's to see at all: their route's 403, not a 404 that would depend on the id."""
    response = client.patch(f"/api/users/{UNKNOWN}", json={"role": "agent"}, headers=agent.headers)
    assert response.status_code == 403


def session_checks(statements):
    return [statement for statement in statements if "access_jti" in statement]


@pytest.mark.parametrize("method, path, body", [
    ("patch", "/api/documents/{id}", {"json": {"objet": "Nouvel objet"}}),
    ("patch", "/api/documents/{id}", BODIES["text"]),
    ("get", "/api/documents/{id}", {}),
], ids=["PATCH resolved then run", "PATCH resolved then refused by its body", "GET naming nothing to resolve"])
def test_the_session_is_checked_once_per_request(app, client, agent, method, path, body):
    """The caller found to resolve the URL's letter is the one the guard lets in: one session check, not two."""
    document = create(client, agent)
    with app.app_context(), StatementCounter(db.engine) as statements:
        response = getattr(client, method)(path.format(id=document["id"]), headers=agent.headers, **body)
        assert response.status_code in (200, 415), response.json
    assert len(session_checks(statements)) == 1, statements


def test_a_revoked_token_is_checked_once_and_refused_as_before(app, client, agent):
    document = create(client, agent)
    assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
    with app.app_context(), StatementCounter(db.engine) as statements:
        response = client.patch(f"/api/documents/{document['id']}", headers=agent.headers, json={"objet": "x"})
    assert (response.status_code, response.json["code"]) == (401, "token_revoked")
    assert len(session_checks(statements)) == 1, statements


def test_the_caller_of_one_request_is_not_the_next_ones(app, client, agent):
    """An app context (a test's, a CLI's) can outlive its requests, and `g` with it: the caller found for a
    PATCH is not reused for the next request, whose session may have ended since."""
    document = create(client, agent)
    with app.app_context():
        assert client.patch(f"/api/documents/{document['id']}", headers=agent.headers,
                            json={"objet": "Nouvel objet"}).status_code == 200
        assert client.post("/api/auth/logout", headers=agent.headers).status_code == 200
        response = client.get(f"/api/documents/{document['id']}", headers=agent.headers)
    assert (response.status_code, response.json["code"]) == (401, "token_revoked")


def test_every_resource_named_in_a_url_is_resolved_or_looked_up_by_its_view():
    app = create_app({"TESTING": True, "APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    names = {name for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") for name in rule.arguments}
    assert names <= set(RESOLVERS) | LOOKED_UP_BY_THE_VIEW, names - set(RESOLVERS) - LOOKED_UP_BY_THE_VIEW


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


@pytest.mark.parametrize("body", ["text", "invalid json", "none"])
def test_every_undeclared_method_is_405_with_allow_whatever_the_body(app, client, admin, body):
    for rule in api_rules(app):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", UNKNOWN)
        declared = {method for other in app.url_map.iter_rules() if other.rule == rule.rule for method in other.methods}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
            response = client.open(path, method=method, headers=admin.headers, **BODIES[body])
            assert response.status_code == 405, (method, path, response.json)
            assert set(response.headers["Allow"].split(", ")) == declared, (method, path)


@pytest.mark.parametrize("body", ["text", "malformed json"])
def test_an_unknown_url_is_404_whatever_the_body(client, admin, body):
    response = client.post("/api/nulle-part", headers=admin.headers, **BODIES[body])
    assert response.status_code == 404 and response.json["code"] == "not_found"
