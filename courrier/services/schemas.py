"""Schemas of the services and of memberships; they validate, dump and document the same fields."""
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from courrier.auth.schemas import EmailField
from courrier.schemas import IDENTIFIER, NoWhitespaceString, Schema, StrictBoolean, length

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,20}$"
CODE_MESSAGE = "De 1 à 20 caractères parmi A–Z, 0–9, « _ » et « - »."


class ServiceCodeField(NoWhitespaceString):
    """A service code, stored upper-case so that its uniqueness ignores case."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class ServiceSchema(Schema):
    id = fields.String()
    code = fields.String()
    nom = fields.String()
    parent_id = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    is_active = fields.Boolean()
    is_mail_office = fields.Boolean()
    created_at = fields.DateTime(format="iso")


class ServiceSummarySchema(Schema):
    id = fields.String()
    code = fields.String()
    nom = fields.String()


class ServiceMemberSchema(Schema):
    """A member as anyone routing a letter sees them: a name to choose a responsable by."""

    id = fields.String(attribute="user.id")
    nom = fields.String(attribute="user.nom")
    prenom = fields.String(attribute="user.prenom")
    primary = fields.Boolean(attribute="is_primary")


class ServiceFieldsSchema(Schema):
    """What an administrateur writes, shared by creation and modification."""

    code = ServiceCodeField(validate=validate.Regexp(CODE_PATTERN, error=CODE_MESSAGE))
    nom = NoWhitespaceString(validate=length(min=1, max=255))
    parent_id = fields.String(allow_none=True, validate=IDENTIFIER,
                              metadata={"description": "Le service parent ; null pour un service de premier niveau."})
    email = EmailField(allow_none=True, validate=length(max=254),
                       metadata={"description": "Adresse de notification du service (facultative)."})
    is_active = StrictBoolean()
    is_mail_office = StrictBoolean(metadata={"description": "Le bureau du courrier : au plus un service."})

    @pre_load
    def empty_email_is_none(self, data, **kwargs):
        if isinstance(data, dict) and data.get("email") == "":
            data = {**data, "email": None}
        return data


class ServiceCreateSchema(ServiceFieldsSchema):
    code = ServiceCodeField(required=True, validate=validate.Regexp(CODE_PATTERN, error=CODE_MESSAGE))
    nom = NoWhitespaceString(required=True, validate=length(min=1, max=255))
    parent_id = fields.String(load_default=None, allow_none=True, validate=IDENTIFIER)
    email = EmailField(load_default=None, allow_none=True, validate=length(max=254))
    is_active = StrictBoolean(load_default=True)
    is_mail_office = StrictBoolean(load_default=False)


class ServiceUpdateSchema(ServiceFieldsSchema):
    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Aucun champ à modifier : code, nom, parent_id, email, is_active ou is_mail_office.")


class ServiceListArgsSchema(Schema):
    q = NoWhitespaceString(validate=length(max=100), metadata={"description": "Dans le code ou le nom, sans casse."})
    is_active = fields.Boolean()
    parent_id = fields.String(validate=IDENTIFIER)


class MembershipsSchema(Schema):
    """PUT /api/users/<id>/services: the whole list of the user's services and the primary one."""

    services = fields.List(fields.String(validate=IDENTIFIER), required=True,
                           validate=validate.Length(max=100, error="Au plus 100 services."))
    primary = fields.String(allow_none=True, validate=IDENTIFIER, metadata={
        "description": "Le service principal, parmi `services` ; par défaut le premier de la liste."})

    @validates_schema
    def check_primary(self, data, **kwargs):
        primary = data.get("primary")
        if primary is not None and primary not in data["services"]:
            raise ValidationError("Le service principal doit faire partie de la liste des services.", "primary")
