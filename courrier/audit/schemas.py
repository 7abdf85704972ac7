"""Schemas of the audit routes: the connection history, the event log and their filters."""
from datetime import date, datetime, time, timedelta, timezone

from marshmallow import ValidationError, fields, validates_schema

from courrier.auth.schemas import SessionFieldsSchema
from courrier.schemas import NoWhitespaceString, PaginationArgsSchema, Schema, length, one_of
from courrier.signals import AUDIT_EVENT_TYPES, SECURITY_EVENT_TYPES

INVALID_DATE = "Date invalide : AAAA-MM-JJ ou date et heure ISO 8601 attendue."


def parse_date_bound(value, end=False):
    """A filter bound as an aware UTC datetime; `end` gives the *exclusive* upper bound.

    A date alone means a whole UTC day: as a start, its first instant; as an end, the first instant
    of the next day, so `date_to=2026-11-23` includes all of the 23rd. A datetime is taken as given
    (UTC when it has no offset) and an end datetime is inclusive.
    """
    if not isinstance(value, str):
        raise ValueError(INVALID_DATE)
    text = value.strip()
    if "T" not in text.upper() and " " not in text:
        day = date.fromisoformat(text)
        start = datetime.combine(day, time.min, tzinfo=timezone.utc)
        return start + timedelta(days=1) if end else start
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment + timedelta(microseconds=1) if end else moment


class LowerString(NoWhitespaceString):
    """An email as the audit stores it (trimmed, lower-cased), not checked for shape: a failed login
    records whatever was typed, and the filter must find it."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


class DateBound(fields.Field):
    """`date_from` / `date_to`: a date (YYYY-MM-DD) or an ISO 8601 datetime, see `parse_date_bound`."""

    def __init__(self, end=False, **kwargs):
        description = ("Jusqu'au (inclus)" if end else "Depuis (inclus)") + \
            " : AAAA-MM-JJ (journée UTC entière) ou date et heure ISO 8601."
        # Documented as a date, the form a client should send; a full ISO 8601 datetime is also taken.
        kwargs.setdefault("metadata", {"type": "string", "format": "date", "example": "2026-11-23",
                                       "description": description})
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date_bound(value, end=self.end)
        except (ValueError, OverflowError):
            raise ValidationError(INVALID_DATE) from None


class PeriodArgsSchema(PaginationArgsSchema):
    """A page of what happened in a period (`date_to` after `date_from`)."""

    date_from = DateBound()
    date_to = DateBound(end=True)

    @validates_schema
    def check_period(self, data, **kwargs):
        if "date_from" in data and "date_to" in data and data["date_from"] >= data["date_to"]:
            raise ValidationError("La fin de la période précède son début.", "date_to")


class AuditFilterArgsSchema(PeriodArgsSchema):
    """The filters both audit lists share."""

    user_id = fields.UUID()
    email = LowerString(validate=length(min=1, max=254))
    ip = NoWhitespaceString(validate=length(max=45))


class AuditSessionArgsSchema(AuditFilterArgsSchema):
    active = fields.Boolean()


class AuditEventArgsSchema(AuditFilterArgsSchema):
    type = fields.String(validate=one_of(AUDIT_EVENT_TYPES))


class AuditUserSchema(Schema):
    """Who a session or an event concerns: enough to recognise the person without another request."""

    id = fields.String()
    email = fields.String()
    nom = fields.String()
    prenom = fields.String()


class AuditSessionSchema(SessionFieldsSchema):
    user = fields.Nested(AuditUserSchema)
    active = fields.Boolean()


class SummaryLineSchema(Schema):
    """One line of an event's details in words: « Service : de URBA à FIN »."""

    label = fields.String(metadata={"example": "Service"})
    value = fields.String(metadata={"example": "de URBA à FIN"})


class AuditDocumentSchema(Schema):
    id = fields.String()
    reference = fields.String(allow_none=True)


class AuditEventSchema(Schema):
    """An event of the log; `label`, `summary` and `document` say it in words for the Journal screen
    (courrier.audit.readable), `details` stays the raw record."""

    id = fields.String()
    type = fields.String()
    label = fields.String(metadata={"description": "Le type d'événement en français.",
                                    "example": "Double authentification activée"})
    actor = fields.Nested(AuditUserSchema, allow_none=True)
    subject_user = fields.Nested(AuditUserSchema, allow_none=True)
    email = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    details = fields.Dict(allow_none=True)
    summary = fields.List(fields.Nested(SummaryLineSchema), metadata={
        "description": "Les détails en clair : libellés français, noms au lieu des identifiants, dates JJ/MM/AAAA."})
    document = fields.Nested(AuditDocumentSchema, allow_none=True, metadata={
        "description": "Le courrier concerné (un événement de courrier), pour un lien vers sa fiche."})


class EventTypeSchema(Schema):
    """A type of event the log can hold (GET /api/audit/types)."""

    type = fields.String(metadata={"example": "mfa_enabled"})
    label = fields.String(metadata={"example": "Double authentification activée"})


# ------------------------------------------------------------------ the caller's own history

class HistoryEventArgsSchema(PeriodArgsSchema):
    type = fields.String(validate=one_of(SECURITY_EVENT_TYPES))


class HistoryEventSchema(Schema):
    """A security event of the caller's account; who else acted is not shown, only whether it was them."""

    id = fields.String()
    type = fields.String()
    created_at = fields.DateTime(format="iso")
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    by_self = fields.Boolean(metadata={"description": "L'action vient du titulaire du compte lui-même."})
    details = fields.Dict(allow_none=True)


class HistorySessionSchema(SessionFieldsSchema):
    active = fields.Boolean()
