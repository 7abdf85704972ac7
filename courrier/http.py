"""Request and response hooks: JSON body rules, body limits and the security headers of API.md section 1."""
import json

from flask import current_app, request

from courrier.errors import ApiError

BODY_METHODS = ("POST", "PUT", "PATCH")
MULTIPART_ENDPOINTS = set()  # endpoints that take a file upload instead of JSON


def accepts_upload(endpoint):
    """Mark an endpoint as a multipart upload: it gets ATTACHMENT_MAX_BYTES instead of the JSON rules."""
    MULTIPART_ENDPOINTS.add(endpoint)


def check_json_body():
    """415 for a non-JSON body, 413 over MAX_JSON_BYTES, 400 for malformed or non-object JSON."""
    if request.endpoint in MULTIPART_ENDPOINTS:
        request.max_content_length = current_app.config["ATTACHMENT_MAX_BYTES"] + 64 * 1024
        return
    request.max_content_length = current_app.config["MAX_JSON_BYTES"]
    if request.method not in BODY_METHODS:
        return
    has_body = request.content_length or request.headers.get("Transfer-Encoding")
    if not has_body:
        return
    if request.mimetype != "application/json":
        raise ApiError("unsupported_media_type")
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("bad_request") from None
    if not isinstance(body, dict):
        raise ApiError("bad_request", "Le corps de la requête doit être un objet JSON.")
    if b"\\u" in raw and has_lone_surrogate(body):
        # "\ud800" is valid JSON syntax but no valid text: the database and bcrypt cannot encode it.
        raise ApiError("bad_request", "Le corps de la requête contient des caractères Unicode invalides.")


def has_lone_surrogate(body):
    """True when a parsed JSON body holds a UTF-16 surrogate escaped alone ("\\ud800"), in a key or a value."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def add_security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["CORS_ORIGINS"]:
        # flask-cors omits Vary for a single origin, yet the answer differs for other origins.
        response.vary.add("Origin")
    if request.path.startswith("/api/auth"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if current_app.config["APP_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def register_http_hooks(app):
    app.before_request(check_json_body)
    app.after_request(add_security_headers)
