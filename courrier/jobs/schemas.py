"""A job as /api/jobs shows it (courrier.background.JobSchema, its label and who asked), the list's arguments
and envelope."""
from marshmallow import fields

from courrier.audit.schemas import AuditUserSchema
from courrier.background import ETATS, JobSchema
from courrier.jobs.kinds import KINDS
from courrier.schemas import MetaSchema, PaginationArgsSchema, Schema, one_of


class JobDetailSchema(JobSchema):
    """A job as GET /api/jobs and /api/jobs/<id> show it: with its French label and who asked for it."""

    libelle = fields.Method("label", metadata={"type": "string", "description": "Le genre de travail, en français."})
    # The audit's way of naming a person: enough to recognise them without another request.
    utilisateur = fields.Nested(AuditUserSchema, attribute="user", allow_none=True, metadata={
        "description": "Qui l'a demandé ; null pour une tâche périodique."})

    @staticmethod
    def label(job):
        kind = KINDS.get(job.kind)
        return kind.label if kind is not None else job.kind


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
    "data": fields.Nested(JobDetailSchema, many=True),
    "meta": fields.Nested(JobListMetaSchema),
}, name="JobPageEnvelopeSchema")
