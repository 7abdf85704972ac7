"""Schemas of the administrateur's user management (API.md section 6) and of the caller's own profile.

Creation reuses the registration rules (`UserCreateSchema`) and the `user` object (`UserSchema`) of
the auth package, so a user looks and validates the same everywhere.
"""
from marshmallow import ValidationError, fields, validates_schema

from courrier.auth.models import ROLES
from courrier.auth.schemas import UserSchema
from courrier.schemas import NoWhitespaceString, PaginationArgsSchema, Schema, StrictBoolean, length, one_of


class UserListArgsSchema(PaginationArgsSchema):
    role = fields.String(validate=one_of(ROLES))
    is_active = fields.Boolean()
    q = NoWhitespaceString(validate=length(max=100))


class UserUpdateSchema(Schema):
    """The only fields an administrateur may change; anything else (email, password...) is a 422."""

    role = fields.String(validate=one_of(ROLES))
    is_active = StrictBoolean()
    nom = NoWhitespaceString(validate=length(min=1, max=100))
    prenom = NoWhitespaceString(validate=length(min=1, max=100))
    contact = NoWhitespaceString(allow_none=True, validate=length(max=30))

    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Aucun champ à modifier : role, is_active, nom, prenom ou contact.")


class RevokedSessionsSchema(Schema):
    revoked = fields.Integer()


class ProfileSchema(UserSchema):
    """The caller's own `user` object (/api/auth/me): their preferences and second factor too."""

    notifications_email = fields.Boolean()
    mfa_enabled = fields.Boolean(metadata={"description": "La double authentification (TOTP) est active."})
    mfa_required = fields.Boolean(metadata={"description": "Le rôle impose la double authentification."})
    restriction = fields.String(allow_none=True, metadata={
        "enum": [None, "mfa_enrollment_required", "password_change_required"],
        "description": "Ce que la session doit faire avant toute autre chose, le cas échéant."})
    actions = fields.List(fields.String(validate=one_of(("piloter", "numeriser"))), metadata={"description": (
        "piloter : l'utilisateur peut ouvrir le tableau de bord (GET /api/statistiques) : administrateurs, "
        "membres du bureau du courrier, validateurs membres d'un service ; numeriser : il peut déposer des "
        "numérisations (POST /api/numerisations) : administrateurs et bureau du courrier.")})


class ProfileUpdateSchema(Schema):
    """What a user changes on their own profile."""

    notifications_email = StrictBoolean(required=True)
