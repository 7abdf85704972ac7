"""Request and response hooks: JSON body rules, body limits and the security headers of API.md section 1."""
import json

from flask import current_app, request
from flask.sessions import SessionInterface

from courrier.errors import ApiError
from courrier.resources import resolve_named_resources

BODY_METHODS = ("POST", "PUT", "PATCH")
NUL = "\x00"
NUL_MESSAGE = "Caractère nul interdit."

# The body rules a view asks for are marks on the view function itself, placed under `@blp.route`, and
# read through `app.view_functions[request.endpoint]`: a view renamed or moved keeps its rules (a
# table of endpoint names did not). functools.wraps copies a function's attributes to its wrapper,
# so a mark holds whatever decorators (guards, flask-smorest's) sit between it and the route.
UPLOAD_MARK = "_accepts_upload"
NUL_MARK = "_accepts_nul_in"


def accepts_upload(view=None, *, files=1):
    """Mark a view as a multipart upload: it gets `files` × ATTACHMENT_MAX_BYTES instead of the JSON rules."""
    if view is None:
        return lambda view: accepts_upload(view, files=files)
    setattr(view, UPLOAD_MARK, files)
    return view


def accepts_nul_in(*fields):
    """Mark a view as letting a NUL through in these top-level body fields, which it compares and never stores.

    Login's password: a NUL there is a wrong password like any other (401 after the same bcrypt work);
    a 422 would tell the caller something about passwords that login never tells.
    """
    def mark(view):
        setattr(view, NUL_MARK, frozenset(fields) | getattr(view, NUL_MARK, frozenset()))
        return view

    return mark


def current_view():
    """The view function of this request's endpoint (its marks are the body rules it asked for)."""
    return current_app.view_functions.get(request.endpoint)


def check_request():
    """What the URL says comes before what the body says: a URL that matches no route (404) or not with
    this method (405, with Allow) answers that, as does a URL naming a resource that does not exist
    (`courrier.resources`), whatever the body. Flask runs this hook before it raises its routing error."""
    if request.routing_exception is not None:
        return
    refuse_nul_outside_body()
    resolve_named_resources()
    check_json_body()


def check_json_body():
    """415 for a non-JSON body, 413 over MAX_JSON_BYTES, 400 for malformed or non-object JSON."""
    if request.method not in BODY_METHODS:
        request.max_content_length = current_app.config["MAX_JSON_BYTES"]
        return
    files = getattr(current_view(), UPLOAD_MARK, 0)  # read on body methods only: a GET uploads nothing
    if files:
        request.max_content_length = files * current_app.config["ATTACHMENT_MAX_BYTES"] + 64 * 1024
        return
    request.max_content_length = current_app.config["MAX_JSON_BYTES"]
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
    if b"\\u" in raw:
        try:
            check_json_text(body)
        except RecursionError:
            raise ApiError("bad_request") from None


def check_json_text(body):
    """Strings the database cannot store: a lone UTF-16 surrogate (400) or a NUL character (422 on the field).

    `"\\ud800"` and `"\\u0000"` are valid JSON, but PostgreSQL refuses NUL in text and no encoder takes
    a lone surrogate: refused here, once, rather than as a 500 in whatever query meets them first.
    """
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError("bad_request", "Le corps de la requête contient des caractères Unicode invalides.") from None
    if any(NUL in key for key in body):
        raise ApiError("bad_request", NUL_MESSAGE)
    tolerated = getattr(current_view(), NUL_MARK, ())
    errors = {key: [NUL_MESSAGE] for key, value in body.items()
              if contains_nul(value) and not (key in tolerated and isinstance(value, str))}
    if errors:
        raise ApiError("validation_error", errors=errors)


def contains_nul(value):
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def refuse_nul_outside_body():
    """A NUL in the path is an unknown resource; in a query parameter or the User-Agent, invalid input."""
    if any(NUL in str(value) for value in (request.view_args or {}).values()):
        raise ApiError("not_found")
    errors = {name: [NUL_MESSAGE] for name, value in request.args.items(multi=True) if NUL in name + value}
    if errors:
        raise ApiError("validation_error", errors=errors)
    if NUL in request.headers.get("User-Agent", ""):
        raise ApiError("bad_request", "En-tête User-Agent invalide.")


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


class NoCookieSessionInterface(SessionInterface):
    """The API keeps no cookie session (tokens travel in the Authorization header).

    Flask's default interface builds a signing serializer on every request to look for a cookie
    nobody sets; this one hands out the read-only null session at once.
    """

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        pass


def register_http_hooks(app):
    app.session_interface = NoCookieSessionInterface()
    app.before_request(check_request)
    app.after_request(add_security_headers)
