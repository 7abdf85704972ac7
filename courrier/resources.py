"""The resource a URL names is looked up before the request's body or query is checked (issue 16).

`POST /api/documents/<unknown>/attachments` without a multipart body used to answer 415, `PATCH
/api/users/<unknown>` with a bad field 422: the body hooks (courrier.http) and flask-smorest's
`@arguments` run before the view loads its resource. A request for what does not exist, or what the
caller may not see, now answers 404 first, whatever the method and the body.

`resolve_named_resources` runs in the `before_request` hook, before the body checks, for every route
whose path names a resource in `RESOLVERS`. It needs the caller (visibility is per caller), so it
authenticates the token the way the route's guard will; when that fails, or the session is
restricted, it stops and lets the guard give its 401 or 403 as before. The cost is one more session
check and one lookup by primary key, on requests to these routes that carry a body or a query string.
"""
from flask import request

from courrier.auth.guard import bearer_token, decode_token
from courrier.auth.tokens import token_store
from courrier.errors import ApiError

ADMINISTRATEUR = "administrateur"


def resolve_document(principal, view_args):
    from courrier.documents import service

    service.get_document(principal, view_args["document_id"])


def resolve_user(principal, view_args):
    """Users are an administrateur's: for anyone else the route's 403 comes first, as before."""
    from courrier.users import service

    if principal.role == ADMINISTRATEUR:
        service.get_user(view_args["user_id"])


def resolve_service(principal, view_args):
    from courrier.services import service

    service.get_service(view_args["service_id"])


def resolve_typologie(principal, view_args):
    from courrier.typologies import service

    service.get_typologie(view_args["typologie_id"])


def resolve_contact(principal, view_args):
    from courrier.contacts import service

    service.get_contact(view_args["contact_id"])


# By URL variable: the lookup, with the caller's visibility, that raises the route's own 404.
RESOLVERS = {
    "document_id": resolve_document,
    "user_id": resolve_user,
    "service_id": resolve_service,
    "typologie_id": resolve_typologie,
    "contact_id": resolve_contact,
}
# URL variables of routes that take neither a body nor a query string (DELETE a session, download an
# attachment): the view's own lookup is already their first check.
LOOKED_UP_BY_THE_VIEW = {"session_id", "attachment_id"}


def names_resources(view_args):
    return any(name in RESOLVERS for name in view_args or ())


def caller_or_none():
    """The caller, as the guard will see them, or None when the guard is going to refuse the request."""
    try:
        principal = token_store().authenticate(decode_token(bearer_token(), "access"))
    except ApiError:
        return None
    return None if getattr(principal, "restriction", None) else principal


def resolve_named_resources():
    """404 for a resource the URL names that does not exist or that the caller may not see."""
    view_args = request.view_args or {}
    if not names_resources(view_args) or not (request.method in ("POST", "PUT", "PATCH") or request.args):
        return
    principal = caller_or_none()
    if principal is None:
        return
    for name in view_args:
        if name in RESOLVERS:
            RESOLVERS[name](principal, view_args)
