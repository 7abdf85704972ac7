"""GET /api/statistiques: its filters and its answer; the same schemas validate and document."""
from datetime import timedelta

from marshmallow import ValidationError, fields, post_load

from courrier.deadlines import paris_today
from courrier.documents.models import DOCUMENT_TYPES
from courrier.schemas import IDENTIFIER, Schema, one_of
from courrier.statistics.service import default_period
from courrier.statistics.tables import TABLES

MAX_PERIOD = timedelta(days=5 * 366)


class DashboardArgsSchema(Schema):
    date_from = fields.Date(metadata={"description": (
        "Début de la période (AAAA-MM-JJ) ; par défaut le 1er du mois, 11 mois avant le mois en cours "
        "(les 12 derniers mois).")})
    date_to = fields.Date(metadata={"description": "Fin de la période, incluse ; par défaut aujourd'hui."})
    service_id = fields.String(validate=IDENTIFIER, metadata={
        "description": "Le service traitant (404 s'il est hors du périmètre de l'utilisateur)."})
    sous_services = fields.Boolean(load_default=False, metadata={
        "description": "Avec `service_id` : ce service et tous ses sous-services."})
    type = fields.String(validate=one_of(DOCUMENT_TYPES))
    typologie_id = fields.String(validate=IDENTIFIER)
    format = fields.String(load_default="json", validate=one_of(("json", "csv")), metadata={
        "description": "`csv` : un des tableaux (`tableau`), en pièce jointe (UTF-8, `;`, BOM)."})
    tableau = fields.String(validate=one_of(tuple(TABLES)), metadata={
        "description": "Avec `format=csv` : le tableau exporté."})
    required_when = {"tableau": ("format", ("csv",), "Choisissez le tableau à exporter.")}

    @post_load
    def complete_period(self, data, **kwargs):
        """The default period (the last 12 months) around what was given, then its checks."""
        end = data.get("date_to") or max(paris_today(), data.get("date_from") or paris_today())
        start = data.get("date_from") or default_period(end)[0]
        if start > end:
            raise ValidationError("La fin de la période précède son début.", "date_to")
        if end - start > MAX_PERIOD:
            raise ValidationError("La période ne peut pas dépasser 5 ans.", "date_from")
        return {**data, "date_from": start, "date_to": end}


class NamedSchema(Schema):
    id = fields.String()
    code = fields.String()
    nom = fields.String()


class TypologieNameSchema(NamedSchema):
    mode = fields.String(metadata={"enum": ["normal", "sva", "svr"]})


class PeriodSchema(Schema):
    date_from = fields.Date()
    date_to = fields.Date()


class WeekSchema(Schema):
    semaine = fields.String(metadata={"description": "La semaine ISO, « 2026-S05 »."})
    debut = fields.Date(metadata={"description": "Son lundi."})
    entrants = fields.Integer()
    sortants = fields.Integer()
    internes = fields.Integer()


class ServiceCountsSchema(Schema):
    service = fields.Nested(NamedSchema, allow_none=True, metadata={"description": "null : sans service traitant."})
    entrants = fields.Integer()
    sortants = fields.Integer()
    internes = fields.Integer()
    total = fields.Integer()


class LateSchema(Schema):
    service = fields.Nested(NamedSchema, allow_none=True)
    nombre = fields.Integer()


class DurationsSchema(Schema):
    nombre = fields.Integer(metadata={"description": "Courriers traités dans la période."})
    mediane = fields.Integer(metadata={"description": "Médiane du délai de traitement, en jours ouvrés."})
    p90 = fields.Integer(metadata={"description": "90e centile du délai de traitement, en jours ouvrés."})


class ServiceDurationsSchema(DurationsSchema):
    service = fields.Nested(NamedSchema, allow_none=True)


class TypologieDurationsSchema(DurationsSchema):
    typologie = fields.Nested(TypologieNameSchema, allow_none=True, metadata={"description": "null : sans typologie."})


class SilenceSchema(Schema):
    id = fields.String()
    reference = fields.String()
    objet = fields.String()
    echeance = fields.Date(metadata={"description": "Le jour où le silence vaut acceptation (ou rejet)."})
    mode = fields.String(metadata={"enum": ["sva", "svr"]})
    lien = fields.String(metadata={"description": "L'écran du courrier dans l'application web."})
    typologie = fields.Nested(TypologieNameSchema)
    service = fields.Nested(NamedSchema, allow_none=True)


class DashboardSchema(Schema):
    semaines = fields.List(fields.Nested(WeekSchema), metadata={
        "description": "Courriers enregistrés par semaine ISO (jour UTC d'enregistrement, comme le registre)."})
    services = fields.List(fields.Nested(ServiceCountsSchema), metadata={
        "description": "Courriers enregistrés dans la période, par service traitant."})
    retards = fields.List(fields.Nested(LateSchema), metadata={
        "description": "Courriers en retard aujourd'hui (comme la bannette « En retard »), par service."})
    delais_services = fields.List(fields.Nested(ServiceDurationsSchema), metadata={
        "description": "Délai de traitement (réception → traitement) des courriers traités dans la période."})
    delais_typologies = fields.List(fields.Nested(TypologieDurationsSchema))
    silences = fields.List(fields.Nested(SilenceSchema), metadata={
        "description": "Courriers SVA/SVR ouverts dont l'échéance tombe dans les 10 prochains jours ouvrés."})


class DashboardMetaSchema(Schema):
    periode = fields.Nested(PeriodSchema)
    unite_duree = fields.String(metadata={"description": "L'unité des délais : jours_ouvres (ceux des échéances)."})
    aujourdhui = fields.Date(metadata={"description": "Le jour (Europe/Paris) des retards et des silences."})
    horizon_silences = fields.Date(metadata={"description": "Le 10e jour ouvré après aujourd'hui."})


DashboardEnvelopeSchema = Schema.from_dict({
    "success": fields.Boolean(dump_default=True),
    "message": fields.String(),
    "data": fields.Nested(DashboardSchema),
    "meta": fields.Nested(DashboardMetaSchema),
}, name="DashboardEnvelopeSchema")
