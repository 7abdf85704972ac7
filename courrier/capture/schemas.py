"""Schemas of the capture routes: registering a draft, setting it aside, scans in bulk."""
from flask import request
from marshmallow import ValidationError, fields, pre_load, validates_schema

from courrier.documents.models import DOCUMENT_TYPES
from courrier.documents.schemas import (
    SERVER_FIELD, DocumentCreateSchema, DocumentFieldsSchema, RoutingFieldsSchema, refuse_fields,
)
from courrier.schemas import NoWhitespaceString, Schema, length, one_of


class QualifySchema(DocumentFieldsSchema, RoutingFieldsSchema):
    """A draft's registration: the fields of a letter's creation, each defaulting to the draft's own."""

    type = fields.String(validate=one_of(DOCUMENT_TYPES), metadata={"description": "Par défaut celui du brouillon "
                                                                                   "(entrant)."})
    required_when = DocumentCreateSchema.required_when

    @pre_load
    def refuse_server_fields(self, data, **kwargs):
        refuse_fields(data, {"reference": SERVER_FIELD, "statut": SERVER_FIELD})
        return data


class SetAsideSchema(Schema):
    motif = NoWhitespaceString(required=True, validate=length(min=1, max=2000), metadata={
        "description": "Pourquoi il est écarté (indésirable, doublon…)."})


class ScansUploadSchema(Schema):
    """The multipart body of scans in bulk: one or more files, each in a part named `file`."""

    file = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), required=True,
                       validate=length(min=1), metadata={
        "description": "PDF, PNG, JPEG ou TIFF (type reconnu au contenu), ATTACHMENT_MAX_BYTES au plus chacun ; "
                       "un brouillon par fichier."})

    @validates_schema
    def refuse_other_parts(self, data, **kwargs):
        if request.form:
            raise ValidationError({name: [self.error_messages["unknown"]] for name in request.form})
