"""Pieces every feature's schemas share: French messages, the envelopes, pagination's arguments."""
import re

import marshmallow
from marshmallow import fields, validate, validates_schema

# marshmallow's built-in messages are English; the contract speaks French. Set once, here.
REQUIRED = "Ce champ est obligatoire."
FRENCH_FIELD_MESSAGES = {
    fields.Field: {"required": REQUIRED, "null": "Ce champ ne peut pas être nul.",
                   "validator_failed": "Valeur invalide."},
    fields.String: {"invalid": "Doit être une chaîne de caractères.",
                    "invalid_utf8": "Chaîne UTF-8 invalide."},
    fields.Email: {"invalid": "Adresse e-mail invalide."},
    fields.UUID: {"invalid_uuid": "Identifiant (UUID) invalide."},
    fields.Number: {"invalid": "Doit être un nombre.", "too_large": "Nombre trop grand."},
    fields.Integer: {"invalid": "Doit être un nombre entier."},
    fields.Boolean: {"invalid": "Doit être un booléen (true ou false)."},
    fields.DateTime: {"invalid": "Date et heure invalides (ISO 8601 attendu).",
                      "invalid_awareness": "Date et heure invalides.",
                      "format": "Date et heure impossibles à formater."},
    fields.Date: {"invalid": "Date invalide (AAAA-MM-JJ attendu).", "format": "Date impossible à formater."},
    fields.Nested: {"type": "Type de données invalide."},
    fields.List: {"invalid": "Doit être une liste."},
    fields.Dict: {"invalid": "Doit être un objet."},
}
for field_class, messages in FRENCH_FIELD_MESSAGES.items():
    field_class.default_error_messages = {**field_class.default_error_messages, **messages}


class Schema(marshmallow.Schema):
    """Base schema: unknown fields are refused, in French; rules between fields are data.

    `required_either`: groups of fields of which one must be given (the error names the first);
    `required_when[name] = (other, values, message)`: `name` must be given when `other` is one of `values`.
    `courrier.openapi` states both in the document.
    """

    error_messages = {"unknown": "Champ inconnu.", "type": "Les données doivent être un objet JSON."}
    required_either = ()
    required_when = {}

    class Meta:
        unknown = marshmallow.RAISE
        ordered = True

    @validates_schema
    def check_required_between_fields(self, data, **kwargs):
        errors = {names[0]: [REQUIRED] for names in self.required_either if not any(data.get(n) for n in names)}
        errors.update({name: [message] for name, (other, values, message) in self.required_when.items()
                       if data.get(other) in values and not data.get(name)})
        if errors:
            raise marshmallow.ValidationError(errors)


# The spaces a stripped field strips (SPACES), and the same set written inside a regular expression's
# [class] for the document's patterns (SPACE_CHARACTERS): the characters that both Python (str.isspace) and
# JSON Schema's regular expressions (ECMA-262 `\s`) call spaces, so that the server and every client agree
# on what is blank. Python alone adds \x1c-\x1f and \x85, ECMA-262 \ufeff.
SPACES = "\t\n\v\f\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
SPACE_CHARACTERS = "".join(f"\\u{ord(space):04x}" for space in SPACES)


# A run of C0 or C1 control characters (tab, line break, DEL…): Unicode's category Cc, exactly.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def has_control_character(text):
    """Whether `text` holds a control character (CONTROL_CHARACTERS)."""
    return CONTROL_CHARACTERS.search(text) is not None


class NoWhitespaceString(fields.String):
    """A string stripped of surrounding spaces (SPACES); NUL bytes are refused rather than stored.

    Its maximum length holds for the string as sent too, as the OpenAPI document says (`maxLength`);
    the minimum is checked once stripped (the document's `pattern` asks for a non-space character).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise marshmallow.ValidationError("Caractère nul interdit.")
        for validator in self.validators:
            if isinstance(validator, validate.Length) and validator.max is not None and len(text) > validator.max:
                validator(text)  # raises, with the validator's own message
        return text.strip(SPACES)


def length(min=None, max=None):
    """`validate.Length` with a French message."""
    if min and max:
        message = f"Doit contenir entre {min} et {max} caractères."
    elif max:
        message = f"Doit contenir au plus {max} caractères."
    else:
        message = f"Doit contenir au moins {min} caractère(s)."
    return validate.Length(min=min, max=max, error=message)


def one_of(choices):
    """`validate.OneOf` with a French message."""
    return validate.OneOf(choices, error="Doit être l'une des valeurs : " + ", ".join(choices) + ".")


# The id of a row named in a body or a query (a UUID as the API writes it; longer is never an id).
IDENTIFIER = length(min=1, max=36)


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: `"false"` or `0` in a body is a client bug, not a value to guess at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class PaginationArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, error="Doit être au moins 1."))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="Doit être compris entre 1 et 100."))


class MetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class MessageEnvelopeSchema(Schema):
    """A success with nothing to return but a message: `data` is null."""

    success = fields.Boolean(dump_default=True)
    message = fields.String()
    data = fields.Raw(dump_default=None, allow_none=True)


_envelopes = {}


def envelope(data_schema, many=False, paginated=False):
    """The success envelope around `data_schema`, built once per schema so OpenAPI names stay stable."""
    key = (data_schema, many, paginated)
    if key not in _envelopes:
        attrs = {
            "success": fields.Boolean(dump_default=True),
            "message": fields.String(),
            "data": fields.Nested(data_schema, many=many or paginated),
        }
        if paginated:
            attrs["meta"] = fields.Nested(MetaSchema)
        suffix = "Page" if paginated else "List" if many else ""
        name = data_schema.__name__.removesuffix("Schema") + suffix + "EnvelopeSchema"
        _envelopes[key] = Schema.from_dict(attrs, name=name)
    return _envelopes[key]
