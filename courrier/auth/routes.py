"""/api/auth: registration, login, tokens, sessions and password (API.md section 3)."""
from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from courrier.auth import login as login_methods, mfa, passwords, reauth, service
from courrier.auth.guard import (
    ANY_RESTRICTION, ENROLMENT_REQUIRED, PASSWORD_CHANGE_REQUIRED, auth_required, bearer_token, current_claims,
    current_principal, decode_token, refresh_token_required, session_routes,
)
from courrier.errors import ApiError
from courrier.auth.schemas import (
    AuthConfigSchema, AuthTokensSchema, LoginAnswerSchema, LoginSchema, MfaCodeSchema, MfaDisableSchema, MfaSetupSchema,
    MfaVerifySchema, PasswordChangeSchema, ReauthenticateSchema, RecoveryCodesSchema, RegisterSchema,
    SessionListArgsSchema, SessionSchema,
)
from courrier.extensions import limiter
from courrier.oidc import service as oidc_service
from courrier.oidc.schemas import LogoutEnvelopeSchema
from courrier.http import accepts_nul_in
from courrier.schemas import MessageEnvelopeSchema, envelope

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Authentification et sessions")


def auth_rate_limit():
    return current_app.config["AUTH_RATE_LIMIT"]


def login_email_key():
    """Rate-limit key for login attempts on one email, whatever the client's address."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:254]
    return "ip:" + (get_remote_address() or "")


@blp.route("/config", methods=["GET"])
@blp.response(200, envelope(AuthConfigSchema))
def config():
    """What the login screen may offer before anyone logs in (the « Créer un compte » link or not), and the
    password policy the forms state beside a new password."""
    return {"data": {"registration_open": current_app.config["REGISTRATION_OPEN"],
                     "password_policy": passwords.public_policy()}}


@blp.route("/register", methods=["POST"])
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(AuthTokensSchema))
def register(data):
    """Create an agent account and open a session."""
    return {"message": "Compte créé.", "data": login_methods.register(data)}


def mfa_account_key():
    """Rate-limit key for the second step: the account the `mfa_token` belongs to, like login's per email."""
    body = request.get_json(silent=True)
    token = body.get("mfa_token") if isinstance(body, dict) else None
    user_id = login_methods.challenge_user_id(token) if isinstance(token, str) and len(token) <= 100 else None
    return "user:" + user_id if user_id else "ip:" + (get_remote_address() or "")


def caller_key():
    """Rate-limit key of an authenticated route: the account (the token is verified again by the route)."""
    try:
        return "user:" + decode_token(bearer_token(), "access")["userId"]
    except ApiError:
        return "ip:" + (get_remote_address() or "")


@blp.route("/login", methods=["POST"])
@accepts_nul_in("password")
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@limiter.limit(auth_rate_limit, key_func=login_email_key, scope="login-email")
@blp.arguments(LoginSchema)
@blp.response(200, envelope(LoginAnswerSchema))
def login(data):
    """Open a session; one answer for unknown email, wrong password and deactivated account.

    For an account with a second factor the answer is `{mfa_required: true, mfa_token, expires_in}`
    and no session: POST /api/auth/mfa/verify continues.
    """
    result = login_methods.login(data["email"], data["password"])
    message = "Code de vérification requis." if result.get("mfa_required") else "Connexion réussie."
    return {"message": message, "data": result}


@blp.route("/mfa/verify", methods=["POST"])
@limiter.limit(auth_rate_limit, key_func=get_remote_address)
@limiter.limit(auth_rate_limit, key_func=mfa_account_key, scope="mfa-account")
@blp.arguments(MfaVerifySchema)
@blp.response(200, envelope(AuthTokensSchema))
def mfa_verify(data):
    """The login's second step: `mfa_token` with a TOTP `code` or a `recovery_code` gives the tokens."""
    return {"message": "Connexion réussie.",
            "data": login_methods.verify(data["mfa_token"], data.get("code"), data.get("recovery_code"))}


@blp.route("/mfa/setup", methods=["POST"])
@auth_required(open_to=(ENROLMENT_REQUIRED,))
@blp.response(200, envelope(MfaSetupSchema))
def mfa_setup():
    """A new TOTP secret, its otpauth:// URI and QR code (SVG); active once confirmed by a first code."""
    return {"message": "Scannez le QR code puis saisissez le code affiché.", "data": mfa.setup(current_principal())}


@blp.route("/mfa/confirm", methods=["POST"])
@auth_required(open_to=(ENROLMENT_REQUIRED,))
@limiter.limit(auth_rate_limit, key_func=caller_key, scope="mfa-confirm")
@blp.arguments(MfaCodeSchema)
@blp.response(200, envelope(RecoveryCodesSchema))
def mfa_confirm(data):
    """Turn the second factor on; the answer holds the ten recovery codes, shown this once."""
    return {"message": "Double authentification activée ; vos autres sessions ont été fermées.",
            "data": mfa.confirm(current_principal(), data["code"])}


@blp.route("/mfa/disable", methods=["POST"])
@auth_required()
@limiter.limit(auth_rate_limit, key_func=caller_key, scope="mfa-disable")
@blp.arguments(MfaDisableSchema)
@blp.response(200, MessageEnvelopeSchema)
def mfa_disable(data):
    """Turn one's own second factor off (password and a current code); refused where the role requires it."""
    mfa.disable(current_principal(), data["password"], data["code"])
    return {"message": "Double authentification désactivée."}


@blp.route("/reauthenticate", methods=["POST"])
@auth_required(open_to=ANY_RESTRICTION)
@limiter.limit(auth_rate_limit, key_func=caller_key, scope="reauthenticate")
@blp.arguments(ReauthenticateSchema)
@blp.response(200, MessageEnvelopeSchema)
def reauthenticate(data):
    """Prove one's identity again (password, and code with MFA) before a sensitive action."""
    reauth.reauthenticate(current_principal(), data["password"], data.get("code"))
    return {"message": "Identité confirmée."}


@blp.route("/refresh", methods=["POST"])
@refresh_token_required
@blp.response(200, envelope(AuthTokensSchema))
def refresh():
    """Exchange a refresh token for a new access and refresh token (rotation)."""
    return {"data": service.refresh(current_claims())}


@blp.route("/logout", methods=["POST"])
@auth_required(open_to=ANY_RESTRICTION)
@blp.response(200, LogoutEnvelopeSchema)
def logout():
    """Revoke this session (its access and refresh tokens); a ProConnect session's `data` has the provider's
    logout URL (`end_session_url`) for the client to follow."""
    data = oidc_service.logout_data(current_principal())
    service.logout(current_principal())
    return {"message": "Déconnexion réussie.", "data": data}


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
@auth_required(open_to=(PASSWORD_CHANGE_REQUIRED,))
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MessageEnvelopeSchema)
def change_password(data):
    """Change the password; every other session of the user is revoked."""
    service.change_password(current_principal(), data)
    return {"message": "Mot de passe modifié ; vos autres sessions ont été fermées."}
