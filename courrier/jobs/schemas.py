"""The job list's arguments and envelope (a job itself is courrier.background.JobSchema)."""
from marshmallow import fields

from courrier.background import ETATS, JobSchema
from courrier.schemas import MetaSchema, PaginationArgsSchema, Schema, one_of


class JobListArgsSchema(PaginationArgsSchema):
    etat = fields.String(validate=one_of(ETATS), metadata={"description": "Seulement les travaux de cet état."})


class EtatCountsSchema(Schema):
    en_attente = fields.Integer()
    en_cours = fields.Integer()
    termine = fields.Integer()
    echec = fields.Integer()


class PeriodicSummarySchema(Schema):
    type = fields.String()
    libelle = fields.String()
    regle = fields.String(metadata={"description": "Quand elle tourne (ex. « chaque jour ouvré à 07:00 »)."})
    periode = fields.String(allow_none=True, metadata={"description": "Sa dernière période, null si jamais lancée."})
    etat = fields.String(allow_none=True, metadata={"enum": [*ETATS, None]})
    message = fields.String(allow_none=True)
    termine_le = fields.DateTime(allow_none=True)


class JobListMetaSchema(MetaSchema):
    etats = fields.Nested(EtatCountsSchema, metadata={"description": "Nombre de travaux par état (tous)."})
    periodiques = fields.List(fields.Nested(PeriodicSummarySchema), metadata={
        "description": "Chaque tâche périodique : sa règle, sa dernière période et le résultat de celle-ci."})


JobPageEnvelopeSchema = Schema.from_dict({
    "success": fields.Boolean(dump_default=True),
    "message": fields.String(),
    "data": fields.Nested(JobSchema, many=True),
    "meta": fields.Nested(JobListMetaSchema),
}, name="JobPageEnvelopeSchema")
