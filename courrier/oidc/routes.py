"""/api/auth/oidc: sign-in with ProConnect. Every route but `config` is 404 without OIDC_ISSUER."""
from functools import wraps
from urllib.parse import quote

from flask import current_app, redirect, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from courrier.auth.routes import auth_rate_limit
from courrier.auth.schemas import LoginAnswerSchema
from courrier.errors import ApiError
from courrier.extensions import limiter
from courrier.oidc import service
from courrier.oidc.schemas import OidcCallbackArgsSchema, OidcConfigSchema, OidcTicketSchema
from courrier.schemas import envelope

blp = Blueprint("oidc", __name__, url_prefix="/api/auth/oidc", description="Connexion avec ProConnect")

COOKIE = "courrier_oidc"
COOKIE_PATH = "/api/auth/oidc/callback"


def oidc_routes(view):
    """Without OIDC_ISSUER these routes do not exist: 404 before anything else (body, rate limit) is read."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        service.require_enabled()
        return view(*args, **kwargs)

    return wrapper


@blp.route("/config", methods=["GET"])
@blp.response(200, envelope(OidcConfigSchema))
def config():
    """Whether the login screen shows the ProConnect button, and its text."""
    return {"data": service.public_config()}


@blp.route("/login", methods=["GET"])
@oidc_routes
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@blp.response(302, description="Vers la page d'autorisation de ProConnect.")
def login():
    """Start a sign-in: the browser goes to the provider; a short-lived cookie binds state and nonce to it."""
    url, handle = service.begin_login()
    response = redirect(url, 302)
    response.set_cookie(COOKIE, handle, max_age=int(service.PENDING_LIFETIME.total_seconds()), path=COOKIE_PATH,
                        secure=secure_cookie(), httponly=True, samesite="Lax")
    return response


@blp.route("/callback", methods=["GET"])
@oidc_routes
@blp.arguments(OidcCallbackArgsSchema, location="query")
@blp.response(303, description="Vers l'écran `/#/oidc?ticket=…` du client web (ou `?error=<raison>`).")
def callback(args):
    """The provider's return: a browser goes to the SPA with a ticket or the reason of a refusal; other
    clients get refusals in the JSON error envelope (403 for an agent refused)."""
    try:
        target = "ticket=" + service.finish_login(request.cookies.get(COOKIE), args)
    except ApiError as error:
        if not request.accept_mimetypes.accept_html:
            raise
        target = "error=" + quote(getattr(error, "reason", "provider_unavailable"))
    response = redirect(f"{current_app.config['APP_URL']}/#/oidc?{target}", 303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=secure_cookie(), httponly=True, samesite="Lax")
    return response


@blp.route("/token", methods=["POST"])
@oidc_routes
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@blp.arguments(OidcTicketSchema)
@blp.response(200, envelope(LoginAnswerSchema))
def token(data):
    """Trade the one-time ticket for the session's tokens: the same answer as POST /api/auth/login (for an
    account with a second factor the provider did not vouch for, `mfa_required` and the code step's token)."""
    result = service.exchange_ticket(data["ticket"])
    message = "Code de vérification requis." if result.get("mfa_required") else "Connexion réussie."
    return {"message": message, "data": result}


def secure_cookie():
    return request.is_secure or current_app.config["APP_URL"].startswith("https://")
