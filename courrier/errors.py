"""Every failure becomes the JSON error envelope of API.md section 1, in this one module."""
import logging

import marshmallow
from flask import g, jsonify
from flask.logging import default_handler
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    "bad_request": "Le corps de la requête n'est pas un objet JSON valide.",
    "token_missing": "Authentification requise : en-tête « Authorization: Bearer <jeton> » absent.",
    "token_invalid": "Jeton invalide.",
    "token_expired": "Jeton expiré.",
    "token_revoked": "Jeton révoqué : la session a été fermée.",
    "invalid_credentials": "Adresse e-mail ou mot de passe incorrect.",
    "forbidden": "Action non autorisée.",
    "not_found": "Ressource introuvable.",
    "method_not_allowed": "Méthode non autorisée pour cette ressource.",
    "conflict": "Cette opération n'est plus possible dans l'état actuel de la ressource.",
    "payload_too_large": "Le corps de la requête dépasse la taille autorisée.",
    "unsupported_media_type": "Type de contenu non pris en charge : envoyez du JSON (application/json).",
    "validation_error": "Les données envoyées sont invalides.",
    "rate_limited": "Trop de tentatives : réessayez plus tard.",
    "internal_error": "Erreur interne du serveur.",
    "service_unavailable": "Service momentanément indisponible : la base de données est injoignable.",
    "mfa_enrollment_required": "Activez la double authentification pour accéder à l'application.",
    "password_change_required": "Changez votre mot de passe pour continuer : il a été fixé par un administrateur, "
                                "ou ne respecte plus la politique.",
    "reauthentication_required": "Confirmez votre identité (mot de passe, et code si la double authentification "
                                 "est active) pour cette action.",
}

STATUS_CODES = {
    400: "bad_request", 401: "token_missing", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
    500: "internal_error", 503: "service_unavailable",
}
CODE_STATUS = {
    "bad_request": 400, "token_missing": 401, "token_invalid": 401, "token_expired": 401,
    "token_revoked": 401, "invalid_credentials": 401, "forbidden": 403, "not_found": 404,
    "method_not_allowed": 405, "conflict": 409, "payload_too_large": 413,
    "unsupported_media_type": 415, "validation_error": 422, "rate_limited": 429,
    "internal_error": 500, "service_unavailable": 503,
    "mfa_enrollment_required": 403, "password_change_required": 403, "reauthentication_required": 401,
}


class ErrorEnvelopeSchema(marshmallow.Schema):
    """The error envelope as OpenAPI documents it, for every error status (flask-smorest's ERROR_SCHEMA)."""

    class Meta:
        unknown = marshmallow.RAISE
        ordered = True

    success = marshmallow.fields.Boolean(required=True, metadata={"enum": [False]})
    code = marshmallow.fields.String(required=True, metadata={
        "enum": list(CODE_STATUS), "description": "Code machine de l'erreur (API.md, section 1)."})
    message = marshmallow.fields.String(required=True, metadata={"description": "Explication en français."})
    errors = marshmallow.fields.Dict(
        keys=marshmallow.fields.String(), values=marshmallow.fields.List(marshmallow.fields.String()),
        metadata={"description": "Seulement pour `validation_error` : les messages de chaque champ."})


class ApiError(Exception):
    """An expected failure: a machine code, a French message and, for 422, field errors."""

    def __init__(self, code, message=None, errors=None, headers=None):
        super().__init__(code)
        self.code = code
        self.status = CODE_STATUS[code]
        self.message = message or MESSAGES[code]
        self.errors = errors
        self.headers = headers or {}  # e.g. Retry-After on a 503


def validation_error(field, message):
    """A 422 naming one field, for rules a schema cannot check (an email already used...)."""
    return ApiError("validation_error", errors={field: [message]})


def error_response(code, message=None, errors=None, status=None):
    body = {"success": False, "code": code, "message": message or MESSAGES[code]}
    if code == "validation_error":
        body["errors"] = errors or {"_schema": [MESSAGES["validation_error"]]}
    response = jsonify(body)
    response.status_code = status or CODE_STATUS[code]
    return response


def flatten_validation_messages(messages):
    """webargs nests field errors under their location ({"json": {...}}); the envelope does not."""
    flat = {}
    for location_or_field, value in (messages or {}).items():
        if location_or_field in ("json", "query", "form", "files", "view_args", "headers") and isinstance(value, dict):
            flat.update({field: as_message_list(msgs) for field, msgs in value.items()})
        else:
            flat[location_or_field] = as_message_list(value)
    return flat


def as_message_list(messages):
    if isinstance(messages, dict):  # a nested field: "field.sub" keeps every message a string
        return [f"{key} : {msg}" for key, value in messages.items() for msg in as_message_list(value)]
    if isinstance(messages, (list, tuple)):
        return [str(m) for m in messages]
    return [str(messages)]


def handle_api_error(error):
    response = error_response(error.code, error.message, error.errors)
    if error.headers:
        response.headers.update(error.headers)
        g.api_error_headers = error.headers
    return response


def restore_api_error_headers(response):
    """An ApiError's own headers are the last word: Flask-Limiter's hook sets Retry-After to its window's
    reset (up to a minute) on every response of a limited route, and login's busy 503 says 1 s."""
    response.headers.update(g.pop("api_error_headers", {}))
    return response


def handle_http_exception(error):
    status = error.code or 500
    code = STATUS_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    if status == 422:
        messages = (getattr(error, "data", None) or {}).get("messages")
        return error_response("validation_error", errors=flatten_validation_messages(messages))
    if status == 400:
        return error_response("bad_request", status=400)
    if status == 401:
        return error_response("token_missing")
    response = error_response(code, status=status if code != "bad_request" else 400)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        # Flask-Limiter's after_request hook replaces this with the exact wait of the hit limit.
        response.headers["Retry-After"] = "60"
    return response


def handle_database_unavailable(error):
    log.error("database unavailable: %s", error.__class__.__name__)
    return error_response("service_unavailable")


def handle_unexpected(error):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unexpected error")
    return error_response("internal_error")


def log_rate_limit_storage_failures():
    """Redis down: Flask-Limiter lets requests through (RATELIMIT_SWALLOW_ERRORS, in-memory fallback) and
    says so on its own logger, which carries only a NullHandler. Send it where the app's errors go."""
    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)


def register_error_handlers(app):
    """Installed after flask-smorest so that its own HTTP error handler is replaced by ours."""
    log_rate_limit_storage_failures()
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(DBAPIError, handle_db_api_error)
    app.register_error_handler(Exception, handle_unexpected)
    # First in the list: Flask runs after-request hooks last-registered first, so this one runs after all.
    app.after_request_funcs.setdefault(None, []).insert(0, restore_api_error_headers)


def handle_db_api_error(error):
    if error.connection_invalidated:
        return handle_database_unavailable(error)
    log.exception("database error")
    return error_response("internal_error")
