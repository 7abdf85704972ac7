"""Route protection: the bearer token's verification, the per-request session check and the role check.

flask-jwt-extended issues the tokens (and holds their settings); they are verified here, in one pass.
Its own verification parses each token four times and re-prepares the key each time, a fifth of a
stateless request; PyJWT verifies the signature once here, and the rules of API.md
section 2 follow on the parsed header and claims.
"""
import re
import time
from copy import deepcopy
from functools import lru_cache, wraps
from types import MappingProxyType

import jwt
from flask import current_app, g, request

from courrier.auth.tokens import token_store
from courrier.errors import ApiError
from courrier.resources import identifies_the_caller

# Claims every token must carry, with their JSON types (API.md section 2).
REQUIRED_CLAIMS = {
    "userId": str, "role": str, "jti": str, "type": str, "iat": (int, float), "nbf": (int, float),
    "exp": (int, float),
}
TOKEN_TYPES = ("access", "refresh")
# Like flask-jwt-extended: the header may hold several comma-separated credentials, one of them Bearer.
CREDENTIAL_SEPARATOR = re.compile(r",\s*")
# `exp` is checked after the claims' shape, so that a malformed token is `token_invalid`, never expired.
DECODE_OPTIONS = {"verify_exp": False}


def bearer_token():
    """The token of the `Authorization: Bearer <token>` header."""
    header = request.headers.get("Authorization", "").strip().strip(",")
    credentials = [field for field in CREDENTIAL_SEPARATOR.split(header) if field.split()[:1] == ["Bearer"]]
    if len(credentials) != 1:
        raise ApiError("token_missing")
    parts = credentials[0].split()
    if len(parts) != 2:
        raise ApiError("token_invalid")
    return parts[1]


def check_token_shape(header, claims):
    """Refuse a token the contract calls invalid, even when well signed."""
    if "crit" in header:
        raise ApiError("token_invalid")
    for name, kind in REQUIRED_CLAIMS.items():
        value = claims.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise ApiError("token_invalid")
    if claims["type"] not in TOKEN_TYPES:
        raise ApiError("token_invalid")


@lru_cache(maxsize=512)
def verified_claims(token, secret, algorithms):
    """The read-only claims of a well-signed, well-formed token, whatever its expiry (ApiError otherwise).

    Memoized: a client sends the same access token with every request for its whole lifetime, and
    the signature of a given string under a given key never changes. Only successes are kept (an
    exception is not cached), and they are keyed by the whole token, so a token that differs by one
    byte is verified afresh; expiry and everything about the session are checked on every request.
    """
    try:
        decoded = jwt.decode_complete(token, secret, algorithms=list(algorithms), options=DECODE_OPTIONS)
    except jwt.InvalidTokenError:
        raise ApiError("token_invalid") from None
    check_token_shape(decoded["header"], decoded["payload"])
    return MappingProxyType(decoded["payload"])


def decode_token(token, token_type):
    """The claims of a well-signed, unexpired token of `token_type`; ApiError otherwise."""
    config = current_app.config
    claims = verified_claims(token, config["JWT_SECRET_KEY"], tuple(config["JWT_DECODE_ALGORITHMS"]))
    if claims["type"] != token_type:
        raise ApiError("token_invalid")
    if claims["exp"] <= time.time():
        raise ApiError("token_expired")
    return claims


# The session is checked once per request. On a route naming a resource, courrier.resources needs the
# caller before the body checks (to answer 404 first); the guard then reuses that answer, or raises the
# refusal it met, instead of checking the session a second time. The answer is tied to its request:
# an app context pushed by a test outlives the requests made inside it, and `g` with it.
CHECKED_CALLER = "checked_caller"


@identifies_the_caller
def caller_before_the_guard():
    """This request's caller for courrier.resources, or None when the guard is going to refuse the request."""
    try:
        claims = decode_token(bearer_token(), "access")
        answer = (claims, token_store().authenticate(claims))
    except ApiError as refusal:
        answer = refusal
    setattr(g, CHECKED_CALLER, (request._get_current_object(), answer))
    return None if isinstance(answer, ApiError) or answer[1].restriction else answer[1]


def authenticated_caller():
    """The claims and Principal of this request's access token (ApiError otherwise), checked once."""
    checked = g.get(CHECKED_CALLER)
    if checked is not None and checked[0] is request._get_current_object():
        if isinstance(checked[1], ApiError):
            raise checked[1]
        return checked[1]
    claims = decode_token(bearer_token(), "access")
    return claims, token_store().authenticate(claims)


def current_principal():
    """The caller of this request (a `Principal`), set by `auth_required`."""
    return g.principal


def current_claims():
    """The verified claims of this request's token, set by `auth_required` or `refresh_token_required`."""
    return g.token_claims


BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def documented_as_protected(wrapper):
    """Mark the view as needing a bearer token in the OpenAPI document (what `Blueprint.doc` writes)."""
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
    return wrapper


# A restricted session must do one thing first: every route answers the restriction's error
# code (403), except those whose `auth_required(open_to=…)` names the restriction.
ENROLMENT_REQUIRED = "mfa_enrollment_required"
PASSWORD_CHANGE_REQUIRED = "password_change_required"
ANY_RESTRICTION = (ENROLMENT_REQUIRED, PASSWORD_CHANGE_REQUIRED)


def auth_required(*roles, check_with=None, open_to=()):
    """Require a live access token; with `roles`, also one of those roles (read from the database).

    `check_with`: a PreparedQuery extending the session check (SessionTokenStore.check_statement) with
    what the view shows of the caller; its rows are `g.check_rows` (None without a sessions table).
    The feature owning the view passes it, so the guard knows nothing of what a view shows.
    `open_to`: the session restrictions under which the view still runs (ANY_RESTRICTION or some).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if check_with is None:
                g.token_claims, g.principal = authenticated_caller()
            else:
                g.token_claims = decode_token(bearer_token(), "access")
                g.principal, g.check_rows = token_store().authenticate_with(g.token_claims, check_with)
            restriction = g.principal.restriction
            if restriction and restriction not in open_to:
                raise ApiError(restriction)
            if roles and g.principal.role not in roles:
                raise ApiError("forbidden")
            return view(*args, **kwargs)

        return documented_as_protected(wrapper)

    return decorator


def refresh_token_required(view):
    """Require a well-signed refresh token; its session is checked by the rotation itself."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.token_claims = decode_token(bearer_token(), "refresh")
        return view(*args, **kwargs)

    return documented_as_protected(wrapper)


def session_routes(view):
    """Session routes exist only when sessions are tracked (API.md section 2): 404 otherwise."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not token_store().tracks_sessions:
            raise ApiError("not_found")
        return view(*args, **kwargs)

    return wrapper
