"""/api/auth: registration, login, tokens, sessions and password (API.md section 3)."""
from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from courrier.auth import service
from courrier.auth.guard import (
    auth_required, current_claims, current_principal, refresh_token_required, session_routes,
)
from courrier.auth.schemas import (
    AuthTokensSchema, LoginSchema, PasswordChangeSchema, ProfileSchema, ProfileUpdateSchema, RegisterSchema,
    SessionListArgsSchema, SessionSchema,
)
from courrier.extensions import limiter
from courrier.http import accepts_nul_in
from courrier.schemas import MessageEnvelopeSchema, envelope

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Authentification et sessions")
accepts_nul_in("auth.login", "password")


def auth_rate_limit():
    return current_app.config["AUTH_RATE_LIMIT"]


def login_email_key():
    """Rate-limit key for login attempts on one email, whatever the client's address."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:254]
    return "ip:" + (get_remote_address() or "")


@blp.route("/register", methods=["POST"])
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(AuthTokensSchema))
def register(data):
    """Create an agent account and open a session."""
    return {"message": "Compte créé.", "data": service.register(data)}


@blp.route("/login", methods=["POST"])
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@limiter.limit(auth_rate_limit, key_func=login_email_key, scope="login-email")
@blp.arguments(LoginSchema)
@blp.response(200, envelope(AuthTokensSchema))
def login(data):
    """Open a session; one answer for unknown email, wrong password and deactivated account."""
    return {"message": "Connexion réussie.", "data": service.login(data["email"], data["password"])}


@blp.route("/refresh", methods=["POST"])
@refresh_token_required
@blp.response(200, envelope(AuthTokensSchema))
def refresh():
    """Exchange a refresh token for a new access and refresh token (rotation)."""
    return {"data": service.refresh(current_claims())}


@blp.route("/me", methods=["GET"])
@auth_required()
@blp.response(200, envelope(ProfileSchema))
def me():
    """The caller, with their services and preferences (read here, not by the per-request session check)."""
    return {"data": service.profile(current_principal())}


@blp.route("/me", methods=["PATCH"])
@auth_required()
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, envelope(ProfileSchema))
def update_me(data):
    """Change one's own preferences: `notifications_email` turns e-mail notifications on or off."""
    return {"message": "Profil mis à jour.", "data": service.update_profile(current_principal(), data)}


@blp.route("/logout", methods=["POST"])
@auth_required()
@blp.response(200, MessageEnvelopeSchema)
def logout():
    """Revoke this session (its access and refresh tokens)."""
    service.logout(current_principal())
    return {"message": "Déconnexion réussie."}


@blp.route("/logout-all", methods=["POST"])
@auth_required()
@blp.response(200, MessageEnvelopeSchema)
def logout_all():
    """Revoke every session of the caller, this one included."""
    revoked = service.logout_all(current_principal())
    return {"message": f"Déconnexion de toutes les sessions ({revoked})."}


@blp.route("/sessions", methods=["GET"])
@auth_required()
@session_routes
@blp.arguments(SessionListArgsSchema, location="query")
@blp.response(200, envelope(SessionSchema, many=True))
def list_sessions(args):
    """The caller's sessions (devices); `current` marks the one making this request."""
    return {"data": service.list_sessions(current_principal(), args["active"])}


@blp.route("/sessions/<session_id>", methods=["DELETE"])
@auth_required()
@session_routes
@blp.response(200, MessageEnvelopeSchema)
def revoke_session(session_id):
    service.revoke_own_session(current_principal(), session_id)
    return {"message": "Session révoquée."}


@blp.route("/password", methods=["POST"])
@auth_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MessageEnvelopeSchema)
def change_password(data):
    """Change the password; every other session of the user is revoked."""
    service.change_password(current_principal(), data)
    return {"message": "Mot de passe modifié ; vos autres sessions ont été fermées."}
