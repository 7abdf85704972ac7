"""Route protection: the JWT checks, the per-request session check and the role check."""
from copy import deepcopy
from functools import wraps

from flask import current_app
from flask_jwt_extended import current_user, verify_jwt_in_request

from courrier.auth.tokens import check_token_shape, token_store
from courrier.errors import ApiError


def register_jwt_loaders(jwt):
    @jwt.decode_key_loader
    def decode_key(header, unverified_claims):
        check_token_shape(header, unverified_claims)
        return current_app.config["JWT_SECRET_KEY"]

    @jwt.user_lookup_loader
    def load_principal(header, claims):
        # A refresh token is checked against its session by the rotation itself.
        if claims["type"] == "refresh":
            return claims
        return token_store().authenticate(claims)


BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def documented_as_protected(wrapper):
    """Mark the view as needing a bearer token in the OpenAPI document (what `Blueprint.doc` writes)."""
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
    return wrapper


def auth_required(*roles):
    """Require a live access token; with `roles`, also one of those roles (read from the database)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if roles and current_user.role not in roles:
                raise ApiError("forbidden")
            return view(*args, **kwargs)

        return documented_as_protected(wrapper)

    return decorator


def refresh_token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request(refresh=True)
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
