"""Schemas of the typologies."""
from marshmallow import ValidationError, fields, validate, validates_schema

from courrier.schemas import NoWhitespaceString, Schema, StrictBoolean, length, one_of
from courrier.services.schemas import CODE_MESSAGE, CODE_PATTERN, ServiceCodeField
from courrier.typologies.models import MODES

DELAI = validate.Range(min=1, max=365, error="Entre 1 et 365 jours ouvrés.")


class TypologieSchema(Schema):
    id = fields.String()
    code = fields.String()
    nom = fields.String()
    delai_jours = fields.Integer(metadata={"description": "Délai de traitement en jours ouvrés."})
    mode = fields.String(metadata={"description": "normal, sva (silence vaut acceptation), svr (silence vaut rejet)."})
    is_active = fields.Boolean()


class TypologieSummarySchema(Schema):
    id = fields.String()
    code = fields.String()
    nom = fields.String()
    delai_jours = fields.Integer()
    mode = fields.String()


class StrictInteger(fields.Integer):
    """A JSON integer only (not "30", not 30.0, not true)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class TypologieFieldsSchema(Schema):
    code = ServiceCodeField(validate=validate.Regexp(CODE_PATTERN, error=CODE_MESSAGE))
    nom = NoWhitespaceString(validate=length(min=1, max=255))
    delai_jours = StrictInteger(validate=DELAI)
    mode = fields.String(validate=one_of(MODES))
    is_active = StrictBoolean()


class TypologieCreateSchema(TypologieFieldsSchema):
    code = ServiceCodeField(required=True, validate=validate.Regexp(CODE_PATTERN, error=CODE_MESSAGE))
    nom = NoWhitespaceString(required=True, validate=length(min=1, max=255))
    delai_jours = StrictInteger(required=True, validate=DELAI)
    mode = fields.String(load_default="normal", validate=one_of(MODES))
    is_active = StrictBoolean(load_default=True)


class TypologieUpdateSchema(TypologieFieldsSchema):
    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Aucun champ à modifier : code, nom, delai_jours, mode ou is_active.")


class TypologieListArgsSchema(Schema):
    is_active = fields.Boolean()
