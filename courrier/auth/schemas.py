"""Auth request and response schemas; they validate, serialise and document the same fields."""
from marshmallow import ValidationError, fields, validates_schema
from marshmallow.validate import Regexp

from courrier.auth.models import ROLES
from courrier.auth.passwords import password_problems
from courrier.schemas import NoWhitespaceString, Schema, length, one_of


class PasswordPolicySchema(Schema):
    """The password rules a form states beside a new password (PASSWORD_MIN_LENGTH, …_PRIVILEGED)."""

    min_length = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "Longueur minimale en caractères, par rôle.",
        "example": {"agent": 12, "validateur": 16, "administrateur": 16}})
    max_bytes = fields.Integer(required=True, metadata={
        "description": "Longueur maximale en octets UTF-8 (limite de bcrypt).", "example": 72})


class AuthConfigSchema(Schema):
    """The public settings the login screen reads."""

    registration_open = fields.Boolean(required=True, metadata={
        "description": "L'inscription publique est ouverte (REGISTRATION_OPEN) : l'écran de connexion propose "
                       "« Créer un compte ». Sinon, seuls les administrateurs créent les comptes."})
    password_policy = fields.Nested(PasswordPolicySchema, required=True)


class EmailField(fields.Email):
    """An email, trimmed and lower-cased before it is validated and stored."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super(fields.Email, self)._deserialize(value, attr, data, **kwargs)
        return text.strip().lower()


class UserServiceSchema(Schema):
    """One of the user's services, from a membership row."""

    id = fields.String(attribute="service_id")
    code = fields.String(attribute="service.code")
    nom = fields.String(attribute="service.nom")
    primary = fields.Boolean(attribute="is_primary")


class UserSchema(Schema):
    id = fields.String(dump_only=True)
    email = fields.String()
    nom = fields.String()
    prenom = fields.String()
    contact = fields.String(allow_none=True)
    role = fields.String()
    is_active = fields.Boolean()
    created_at = fields.DateTime(format="iso")
    services = fields.List(fields.Nested(UserServiceSchema), attribute="memberships", dump_only=True)
    mfa_enabled = fields.Function(lambda user: user.mfa_enabled_at is not None, dump_only=True,
                                  metadata={"type": "boolean"})


class UserSummarySchema(Schema):
    id = fields.String()
    nom = fields.String()
    prenom = fields.String()


def check_new_password(data, password_key="password"):
    """The password rules of API.md section 3, with the user's email and names as zxcvbn context."""
    password = data.get(password_key)
    if password is None:
        return
    errors = {}
    problems = password_problems(password, [data.get("email"), data.get("nom"), data.get("prenom")],
                                 data.get("role", "agent"))
    if problems:
        errors[password_key] = problems
    if "password_confirmation" in data and data["password_confirmation"] != password:
        errors["password_confirmation"] = ["La confirmation ne correspond pas au mot de passe."]
    if errors:
        raise ValidationError(errors)


# The policy (courrier.auth.passwords) counts characters, then bytes, with settings and the account's role, and
# asks zxcvbn: the document declares the lengths that hold for every role (courrier.openapi) and describes the rest.
NEW_PASSWORD_RULES = (
    "Au moins PASSWORD_MIN_LENGTH caractères (12 par défaut), PASSWORD_MIN_LENGTH_PRIVILEGED (16 par défaut) pour un "
    "compte validateur ou administrateur ; aucun caractère de contrôle ; au plus 72 octets en UTF-8 (limite de "
    "bcrypt : un caractère accentué compte pour 2 octets) ; ni courant ni facile à deviner (zxcvbn, avec l'e-mail "
    "et le nom pour contexte). Sinon 422 sur ce champ.")


def new_password_field():
    return fields.String(required=True, load_only=True,
                         metadata={"description": NEW_PASSWORD_RULES, "password_policy": True})


class ProfileFieldsSchema(Schema):
    """The identity fields shared by registration and the admin's user creation."""

    email = EmailField(required=True, validate=length(max=254))
    nom = NoWhitespaceString(required=True, validate=length(min=1, max=100))
    prenom = NoWhitespaceString(required=True, validate=length(min=1, max=100))
    contact = NoWhitespaceString(load_default=None, allow_none=True, validate=length(max=30))


class RegisterSchema(ProfileFieldsSchema):
    password = new_password_field()
    password_confirmation = fields.String(required=True, load_only=True)

    @validates_schema
    def check_password(self, data, **kwargs):
        check_new_password(data)


class UserCreateSchema(ProfileFieldsSchema):
    """An administrateur creates a user of any role; `password_confirmation` is optional here."""

    password = new_password_field()
    password_confirmation = fields.String(load_only=True)
    role = fields.String(load_default="agent", validate=one_of(ROLES))

    @validates_schema
    def check_password(self, data, **kwargs):
        check_new_password(data)


class LoginSchema(Schema):
    email = fields.String(required=True, validate=length(max=254))
    password = fields.String(required=True, load_only=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True)
    password = new_password_field()
    password_confirmation = fields.String(required=True, load_only=True)


class AuthTokensSchema(Schema):
    user = fields.Nested(UserSchema)
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    restriction = fields.String(allow_none=True, metadata={
        "enum": [None, "mfa_enrollment_required", "password_change_required"],
        "description": "Session restreinte : seules les routes d'enrôlement ou de changement de mot de passe, "
                       "`/me` et `/logout` répondent ; les autres renvoient 403 avec ce code."})


class LoginAnswerSchema(AuthTokensSchema):
    """A login's answer: the tokens, or for an account with a second factor `mfa_required` and its token."""

    mfa_required = fields.Boolean(metadata={"description": "Présent (true) quand un code TOTP est attendu."})
    mfa_token = fields.String(metadata={
        "description": "À envoyer à POST /api/auth/mfa/verify avec le code ; usage unique, 5 minutes."})


TOTP_CODE = Regexp(r"^[0-9]{6}$", error="Le code comporte 6 chiffres.")


class MfaSetupSchema(Schema):
    secret = fields.String(metadata={"description": "Secret base32, à saisir si le QR code ne peut être lu."})
    otpauth_uri = fields.String()
    qr_svg = fields.String(metadata={"description": "Le QR code de `otpauth_uri`, en SVG."})


class MfaCodeSchema(Schema):
    code = fields.String(required=True, validate=TOTP_CODE)


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(fields.String(), metadata={
        "description": "Dix codes de secours à usage unique, montrés cette seule fois."})


class MfaDisableSchema(Schema):
    password = fields.String(required=True, load_only=True)
    code = fields.String(required=True, validate=TOTP_CODE)


class MfaVerifySchema(Schema):
    mfa_token = fields.String(required=True, validate=length(max=100))
    code = fields.String(validate=TOTP_CODE)
    recovery_code = fields.String(validate=length(min=1, max=20))

    @validates_schema
    def one_proof(self, data, **kwargs):
        if ("code" in data) == ("recovery_code" in data):
            raise ValidationError("Envoyez soit `code`, soit `recovery_code`.", "code")


class ReauthenticateSchema(Schema):
    password = fields.String(required=True, load_only=True)
    code = fields.String(validate=TOTP_CODE)


class SessionFieldsSchema(Schema):
    """What a session row shows of itself: to its owner (/sessions) and to administrators (audit)."""

    id = fields.String()
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    last_used_at = fields.DateTime(format="iso")
    expires_at = fields.DateTime(format="iso")
    revoked_at = fields.DateTime(format="iso", allow_none=True)
    revoked_reason = fields.String(allow_none=True)


class SessionSchema(SessionFieldsSchema):
    current = fields.Boolean()


class SessionListArgsSchema(Schema):
    active = fields.Boolean(load_default=True)
