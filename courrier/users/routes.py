"""/api/users: user management, for administrateurs only (API.md section 6); /api/auth/me: one's own profile."""
from flask import g
from flask_smorest import Blueprint

from courrier.auth.guard import ANY_RESTRICTION, auth_required, current_principal
from courrier.auth.schemas import UserCreateSchema, UserSchema
from courrier.resources import resolver
from courrier.schemas import envelope
from courrier.services import service as services
from courrier.services.schemas import MembershipsSchema
from courrier.users import profile, service
from courrier.users.schemas import (
    ProfileSchema, ProfileUpdateSchema, RevokedSessionsSchema, UserListArgsSchema, UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Gestion des utilisateurs (administrateurs)")

profile_blp = Blueprint("profile", __name__, url_prefix="/api/auth", description="Profil de l'utilisateur connecté")

admin_only = auth_required("administrateur")


@resolver("user_id")
def resolve_user(caller, user_id):
    """Users are an administrateur's: for anyone else the route's 403 comes first, whatever the id."""
    if caller.role == "administrateur":
        service.get_user(user_id)


@profile_blp.route("/me", methods=["GET"])
@auth_required(check_with=profile.PROFILE_CHECK, open_to=ANY_RESTRICTION)
@profile_blp.response(200, envelope(ProfileSchema))
def me():
    """The caller, with their services and preferences (read with /me's session check, in one statement)."""
    return {"data": profile.profile(current_principal(), g.check_rows)}


@profile_blp.route("/me", methods=["PATCH"])
@auth_required()
@profile_blp.arguments(ProfileUpdateSchema)
@profile_blp.response(200, envelope(ProfileSchema))
def update_me(data):
    """Change one's own preferences: `notifications_email` turns e-mail notifications on or off."""
    return {"message": "Profil mis à jour.", "data": profile.update_profile(current_principal(), data)}


@blp.route("", methods=["GET"])
@admin_only
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, envelope(UserSchema, paginated=True))
def list_users(args):
    """Users, newest first; filters `role`, `is_active` and `q` (email, nom, prénom)."""
    return service.list_users(args)


@blp.route("", methods=["POST"])
@admin_only
@blp.arguments(UserCreateSchema)
@blp.response(201, envelope(UserSchema))
def create_user(data):
    """Create a user of any role, with the registration rules; registration may be closed."""
    return {"message": "Utilisateur créé.", "data": service.create_user(data, current_principal())}


@blp.route("/<user_id>", methods=["GET"])
@admin_only
@blp.response(200, envelope(UserSchema))
def get_user(user_id):
    return {"data": service.get_user(user_id)}


@blp.route("/<user_id>", methods=["PATCH"])
@admin_only
@blp.arguments(UserUpdateSchema)
@blp.response(200, envelope(UserSchema))
def update_user(changes, user_id):
    """Change role, status or identity; deactivation closes every session of the user at once."""
    return {"message": "Utilisateur modifié.", "data": service.update_user(current_principal(), user_id, changes)}


@blp.route("/<user_id>/revoke-sessions", methods=["POST"])
@admin_only
@blp.response(200, envelope(RevokedSessionsSchema))
def revoke_sessions(user_id):
    """Force logout: every live session of the user is revoked at once."""
    revoked = service.revoke_sessions(current_principal(), user_id)
    return {"message": f"{revoked} session(s) révoquée(s).", "data": {"revoked": revoked}}


@blp.route("/<user_id>/mfa/reset", methods=["POST"])
@admin_only
@blp.response(200, envelope(RevokedSessionsSchema))
def reset_mfa(user_id):
    """Remove a user's second factor (a lost phone) and revoke their sessions; they enrol again at login."""
    revoked = service.reset_mfa(current_principal(), user_id)
    return {"message": "Double authentification réinitialisée ; sessions révoquées.", "data": {"revoked": revoked}}


@blp.route("/<user_id>/services", methods=["PUT"])
@admin_only
@blp.arguments(MembershipsSchema)
@blp.response(200, envelope(UserSchema))
def set_services(data, user_id):
    """Replace the user's services and choose the primary one (the first by default)."""
    return {"message": "Services de l'utilisateur modifiés.",
            "data": services.set_memberships(current_principal(), user_id, data)}
