"""The resource a URL names is looked up before the request's body or query is checked.

`POST /api/documents/<unknown>/attachments` without a multipart body used to answer 415, `PATCH
/api/users/<unknown>` with a bad field 422: the body hooks (courrier.http) and flask-smorest's
`@arguments` run before the view loads its resource. A request for what does not exist, or what the
caller may not see, now answers 404 first, whatever the method and the body.

`resolve_named_resources` runs in the `before_request` hook, before the body checks, for every route
whose path names a resource with a resolver. It needs the caller (visibility is per caller): it asks
the function the guard registered (`identifies_the_caller`), which authenticates the token once for
the whole request; when that fails, or the session is restricted, it stops and lets the guard give its
401 or 403 as before. The cost is one lookup by primary key on requests to these routes that carry a
body or a query string; a GET naming nothing costs a dictionary test.

Infrastructure: this module imports no feature. Each feature registers the resolver of its URL
variable (`resolver("document_id")` on a function `(caller, value)` raising its 404), and auth
registers how to find the caller.
"""
from flask import request

# By URL variable: the lookup, with the caller's visibility, that raises the route's own 404.
RESOLVERS = {}
# URL variables of routes that take neither a body nor a query string (DELETE a session, download an
# attachment): the view's own lookup is already their first check.
LOOKED_UP_BY_THE_VIEW = {"session_id", "attachment_id"}
_find_caller = None  # registered by auth: this request's caller, or None when the guard will refuse it


def resolver(name):
    """Register the decorated `(caller, value)` as the lookup of URL variable `name`, raising ApiError (404)."""
    def register(lookup):
        RESOLVERS[name] = lookup
        return lookup

    return register


def identifies_the_caller(find_caller):
    """Register `find_caller()`: this request's caller (a Principal), or None when the guard is going to refuse."""
    global _find_caller
    _find_caller = find_caller
    return find_caller


def names_resources(view_args):
    return any(name in RESOLVERS for name in view_args or ())


def resolve_named_resources():
    """404 for a resource the URL names that does not exist or that the caller may not see."""
    view_args = request.view_args or {}
    if not names_resources(view_args) or not (request.method in ("POST", "PUT", "PATCH") or request.args):
        return
    caller = _find_caller() if _find_caller is not None else None
    if caller is None:
        return
    for name, value in view_args.items():
        if name in RESOLVERS:
            RESOLVERS[name](caller, value)
