"""Schemas of the correspondents: they validate requests, dump contacts and feed the OpenAPI document.

The rules that need the whole contact after a PATCH (a personne has a nom, an organisation its name)
live in `courrier.contacts.service`, so creation, modification and the CSV import share them; the
creation schema states the same table (`REQUIRED_NAME`) so that the OpenAPI document says it.
"""
import re

from marshmallow import ValidationError, fields, pre_load, validates_schema

from courrier.auth.schemas import EmailField
from courrier.contacts.models import ADDRESS_FIELDS, CIVILITES, CONTACT_TYPES, REQUIRED_NAME, normalized
from courrier.schemas import IDENTIFIER, NoWhitespaceString, PaginationArgsSchema, Schema, length, one_of

POSTCODE = re.compile(r"^[0-9]{5}$")
POSTCODE_MESSAGE = "Un code postal français compte 5 chiffres."
# `pays` written any way ("France", "FRANCE", "france ") or absent: the address is French.
FRENCH_COUNTRIES = ("", "france")
TEXT_FIELDS = ("nom", "prenom", "organisation", "service", "fonction", "email", "telephone", "notes")
EXPORT_FORMATS = ("json", "csv")


def optional_text(max_length):
    return NoWhitespaceString(allow_none=True, validate=length(max=max_length))


class BlankIsNoneSchema(Schema):
    """A blank optional field (one of `blank_fields`) is no value: "" is stored as null, so searches and
    duplicates ignore it; the OpenAPI document accepts "" for them (`courrier.openapi`)."""

    blank_fields = ()

    @pre_load
    def blank_is_none(self, data, **kwargs):
        if isinstance(data, dict) and any(data.get(name) == "" for name in self.blank_fields):
            data = {**data, **{name: None for name in self.blank_fields if data.get(name) == ""}}
        return data


def is_french(pays):
    return normalized(pays) in FRENCH_COUNTRIES


class AddressSchema(BlankIsNoneSchema):
    """A postal address; `code_postal` is 5 digits when `pays` is France or absent."""

    blank_fields = ADDRESS_FIELDS
    numero = optional_text(20)
    voie = optional_text(255)
    complement = optional_text(255)
    code_postal = optional_text(20)
    commune = optional_text(255)
    pays = optional_text(100)

    @validates_schema
    def check_postcode(self, data, **kwargs):
        code_postal = data.get("code_postal")
        if code_postal is not None and is_french(data.get("pays")) and not POSTCODE.match(code_postal):
            raise ValidationError(POSTCODE_MESSAGE, "code_postal")


class ContactSchema(Schema):
    """A correspondent as the API returns it."""

    id = fields.String()
    type = fields.String(metadata={"description": "personne ou organisation."})
    civilite = fields.String(allow_none=True)
    nom = fields.String(allow_none=True)
    prenom = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    service = fields.String(allow_none=True, metadata={"description": "Le service, au sein de l'organisation."})
    fonction = fields.String(allow_none=True)
    adresse = fields.Nested(AddressSchema, allow_none=True)
    email = fields.String(allow_none=True)
    telephone = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    updated_at = fields.DateTime(format="iso")


class ContactFieldsSchema(BlankIsNoneSchema):
    """What a client writes, shared by creation and modification."""

    blank_fields = TEXT_FIELDS + ("civilite",)
    type = fields.String(validate=one_of(CONTACT_TYPES))
    civilite = fields.String(allow_none=True, validate=one_of(CIVILITES))
    nom = optional_text(255)
    prenom = optional_text(255)
    organisation = optional_text(255)
    service = optional_text(255)
    fonction = optional_text(255)
    adresse = fields.Nested(AddressSchema, allow_none=True, metadata={
        "description": "Remplacée en entier par une modification."})
    email = EmailField(allow_none=True, validate=length(max=254))
    telephone = optional_text(30)
    notes = optional_text(5000)


class ContactCreateSchema(ContactFieldsSchema):
    type = fields.String(required=True, validate=one_of(CONTACT_TYPES))
    required_when = {name: ("type", (kind,), message) for kind, (name, message) in REQUIRED_NAME.items()}


class ContactUpdateSchema(ContactFieldsSchema):
    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Aucun champ à modifier.")


class ForceArgsSchema(Schema):
    force = fields.Boolean(load_default=False, metadata={
        "description": "Créer même si un correspondant semblable existe (même nom et code postal)."})


class ContactListArgsSchema(PaginationArgsSchema):
    q = NoWhitespaceString(validate=length(max=100), metadata={
        "description": "Dans le nom, le prénom, l'organisation, la commune et l'e-mail, sans casse ni accents."})
    type = fields.String(validate=one_of(CONTACT_TYPES))
    format = fields.String(load_default="json", validate=one_of(EXPORT_FORMATS), metadata={
        "description": "csv : tout le résultat (sans pagination) en CSV, séparateur « ; », UTF-8 avec BOM."})


class MergeSchema(Schema):
    into = fields.String(required=True, validate=IDENTIFIER, metadata={
        "description": "Le correspondant qui reçoit les courriers ; celui de l'URL est supprimé."})


class MergeResultSchema(Schema):
    contact = fields.Nested(ContactSchema)
    documents = fields.Integer(metadata={"description": "Nombre de courriers déplacés."})
