"""The dashboard (Pilotage): who may open it, over which services, and its figures for a period.

Registrations and processing times are read from the aggregates (models, kept by ledger.py); the late
letters and the silences to come are read from the letters themselves, as they depend on today: the open
letters are few, and a partial index holds them (models.ix_documents_open_echeance).
"""
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from courrier import deadlines
from courrier.documents.models import Document
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.services.models import Service
from courrier.services.service import SERVICE_NOT_FOUND, subtree_ids
from courrier.statistics.ledger import DURATION_TYPE, month_of
from courrier.statistics.models import ALL, NONE, OPEN_LETTER, DailyCount, DurationCount, LetterFacts, MonthlyCount
from courrier.typologies.models import Typologie

PILOTER = "piloter"
# Who may open the dashboard, by role: administrateurs always; validateurs over the services they
# supervise (so they need one); agents only as members of the mail office, which sees everything.
PILOTS = {"administrateur": "always", "validateur": "with_services", "agent": "mail_office_only"}
SILENCE_MODES = ("sva", "svr")
SILENCE_HORIZON = 10  # working days
PERCENTILES = {"mediane": 0.5, "p90": 0.9}
COUNTED_TYPES = ("entrant", "sortant", "interne")
NOT_A_PILOT = "Le tableau de bord est réservé aux validateurs, au bureau du courrier et aux administrateurs."


def may_pilot(role, in_mail_office, has_services):
    """May this caller open the dashboard (PILOTS)? /me lists `piloter` from the same rule."""
    rule = PILOTS.get(role)
    return in_mail_office or rule == "always" or (rule == "with_services" and has_services)


def actions_of(role, in_mail_office, has_services):
    return [PILOTER] if may_pilot(role, in_mail_office, has_services) else []


def default_period(today):
    """The last 12 months, the current one included: from the first day of the month 11 months ago."""
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1), today


def scope_of(viewer, service_id=None, sous_services=False):
    """The services whose letters the caller's dashboard counts; None for all (letters without a service too).

    403 for a caller who may not pilot; 404 for a service outside their sub-trees, as for an unknown one.
    """
    if not may_pilot(viewer.role, viewer.in_mail_office, bool(viewer.service_ids)):
        raise ApiError("forbidden", NOT_A_PILOT)
    if service_id is None:
        return None if viewer.sees_all else frozenset(viewer.supervised_ids)
    if not (viewer.sees_all and db.session.get(Service, service_id) is not None or viewer.supervises(service_id)):
        raise ApiError("not_found", SERVICE_NOT_FOUND)
    return frozenset(subtree_ids([service_id])) if sous_services else frozenset([service_id])


@dataclass(frozen=True)
class Query:
    """A dashboard's question: the period, the services (None: all), a type, a typologie."""

    date_from: date
    date_to: date
    services: frozenset | None
    type: str | None = None
    typologie_id: str | None = None

    def services_in(self, columns, per_service):
        """The aggregate rows of the services asked: one per service, or the ALL row when every service is."""
        if self.services is not None:
            return columns.service_id.in_(sorted(self.services)) if self.services else False
        return columns.service_id != ALL if per_service else columns.service_id == ALL

    def typologies_in(self, columns, per_typologie=False):
        """The aggregate rows of the typologie asked, or of each typologie, or the ALL row."""
        if self.typologie_id:
            return columns.typologie_id == self.typologie_id
        return columns.typologie_id != ALL if per_typologie else columns.typologie_id == ALL

    def cube(self, columns, per_service=False, per_typologie=False):
        terms = [self.services_in(columns, per_service), self.typologies_in(columns, per_typologie)]
        if self.type and "type" in columns:
            terms.append(columns.type == self.type)
        return and_(*terms)

    def facts(self, columns):
        """The same filters on one row per letter, no ALL rows: the ledger's, or the letters' own (Document)."""
        terms = []
        if self.services is not None:
            terms.append(columns.service_id.in_(sorted(self.services)) if self.services else False)
        if self.type:
            terms.append(columns.type == self.type)
        if self.typologie_id:
            terms.append(columns.typologie_id == self.typologie_id)
        return and_(True, *terms)


def dashboard(query, today=None):
    """Every figure of the dashboard for `query`: {data, meta} (schemas.DashboardEnvelopeSchema)."""
    today = today or deadlines.paris_today()
    weeks, per_service = registrations(query, today)
    durations = processing_times(query, today)
    late = late_letters(query, today)
    horizon = deadlines.add_working_days(today, SILENCE_HORIZON, current_app.config["HOLIDAYS_SUBDIVISION"])
    silences = silences_due(query, today, horizon)
    names = _names(per_service.keys() | durations["services"].keys() | late.keys(), durations["typologies"].keys())
    service_of, typologie_of = names
    data = {
        "semaines": weeks,
        "services": sorted(({"service": service_of(key), **counts, "total": sum(counts.values())}
                            for key, counts in per_service.items()), key=_by_service),
        "retards": sorted(({"service": service_of(key), "nombre": n} for key, n in late.items()), key=_by_service),
        "delais_services": sorted(({"service": service_of(key), **summary(histogram)}
                                   for key, histogram in durations["services"].items()), key=_by_service),
        "delais_typologies": sorted(({"typologie": typologie_of(key), **summary(histogram)}
                                     for key, histogram in durations["typologies"].items()),
                                    key=lambda row: (row["typologie"] is None, (row["typologie"] or {}).get("code"))),
        "silences": silences,
    }
    meta = {"periode": {"date_from": query.date_from, "date_to": query.date_to}, "unite_duree": "jours_ouvres",
            "aujourdhui": today, "horizon_silences": horizon}
    return {"data": data, "meta": meta}


def _by_service(row):
    return (row["service"] is None, (row["service"] or {}).get("code"))


def _names(service_keys, typologie_keys):
    """Functions naming a service's and a typologie's key ({id, code, nom}), read in two small queries."""
    services = {row.id: {"id": row.id, "code": row.code, "nom": row.nom} for row in db.session.execute(
        select(Service.id, Service.code, Service.nom).where(Service.id.in_(sorted(service_keys - {NONE}))))}
    typologies = {row.id: {"id": row.id, "code": row.code, "nom": row.nom, "mode": row.mode}
                  for row in db.session.execute(select(Typologie.id, Typologie.code, Typologie.nom, Typologie.mode)
                                                .where(Typologie.id.in_(sorted(typologie_keys - {NONE}))))}
    return services.get, typologies.get


# ------------------------------------------------------------------ registrations

def iso_weeks(start, end):
    """The Mondays of the ISO weeks overlapping [start, end]."""
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        yield monday
        monday += timedelta(days=7)


def registrations(query, today):
    """Letters registered per ISO week and type (the daily aggregate), and per service and type (the monthly
    one, the days at the edges of the period from the ledger)."""
    days = DailyCount.__table__.c
    per_day = db.session.execute(
        select(days.jour, days.type, func.sum(days.nombre))
        .where(days.jour.between(query.date_from, query.date_to), query.cube(days))
        .group_by(days.jour, days.type)).all()
    per_week = {monday: Counter() for monday in iso_weeks(query.date_from, query.date_to)}
    for day, kind, n in per_day:
        per_week[day - timedelta(days=day.weekday())][kind] += n
    weeks = [{"semaine": "{0}-S{1:02d}".format(*monday.isocalendar()[:2]), "debut": monday,
              **{kind + "s": counter[kind] for kind in COUNTED_TYPES}} for monday, counter in per_week.items()]
    whole, edges = month_spans(query.date_from, query.date_to, today)
    months, facts = MonthlyCount.__table__.c, LetterFacts.__table__.c
    rows = []
    if whole:
        rows += db.session.execute(
            select(months.service_id, months.type, func.sum(months.nombre))
            .where(months.mois.in_(whole), query.cube(months, per_service=True))
            .group_by(months.service_id, months.type)).all()
    if edges:
        rows += db.session.execute(
            select(facts.service_id, facts.type, func.count())
            .where(or_(*(facts.jour.between(first, last) for first, last in edges)), query.facts(facts))
            .group_by(facts.service_id, facts.type)).all()
    per_service = defaultdict(lambda: {kind + "s": 0 for kind in COUNTED_TYPES})
    for service_id, kind, n in rows:
        if n:
            per_service[service_id][kind + "s"] += n
    return weeks, per_service


# ------------------------------------------------------------------ processing times

def month_spans(start, end, today):
    """Split [start, end] into whole months (read from a monthly aggregate) and edge day ranges (read from
    the ledger). A month cut by `end` counts as whole when `end` is today or later: nothing happens later."""
    whole, edges = [], []
    month = month_of(start)
    while month <= end:
        following = month_of(month + timedelta(days=31))
        first, last = max(start, month), min(end, following - timedelta(days=1))
        if first == month and (last == following - timedelta(days=1) or end >= today):
            whole.append(month)
        else:
            edges.append((first, last))
        month = following
    return whole, edges


def processing_times(query, today):
    """Histograms of processing time (working days) per service and per typologie, for the incoming letters
    treated (Europe/Paris day) in the period."""
    services, typologies = defaultdict(Counter), defaultdict(Counter)
    if query.type and query.type != DURATION_TYPE:
        return {"services": services, "typologies": typologies}
    whole, edges = month_spans(query.date_from, query.date_to, today)
    histogram, facts = DurationCount.__table__.c, LetterFacts.__table__.c
    for into, group, per in ((services, "service_id", {"per_service": True}),
                             (typologies, "typologie_id", {"per_typologie": True})):
        rows = []
        if whole:
            rows += db.session.execute(
                select(histogram[group], histogram.duree, func.sum(histogram.nombre))
                .where(histogram.mois.in_(whole), query.cube(histogram, **per))
                .group_by(histogram[group], histogram.duree)).all()
        if edges:
            rows += db.session.execute(
                select(facts[group], facts.duree, func.count())
                .where(or_(*(facts.jour_traite.between(first, last) for first, last in edges)),
                       facts.type == DURATION_TYPE, query.facts(facts))
                .group_by(facts[group], facts.duree)).all()
        for key, duree, n in rows:
            if n:
                into[key][duree] += n
    return {"services": services, "typologies": typologies}


def percentile(histogram, fraction):
    """The smallest duree d such that at least `fraction` of the letters took d days or fewer (nearest rank,
    PostgreSQL's percentile_disc): an exact value of the data, never an interpolation."""
    total = sum(histogram.values())
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for duree in sorted(histogram):
        seen += histogram[duree]
        if seen >= rank:
            return duree
    return None


def summary(histogram):
    return {"nombre": sum(histogram.values()),
            **{name: percentile(histogram, fraction) for name, fraction in PERCENTILES.items()}}


# ------------------------------------------------------------------ today's letters

def late_letters(query, today):
    """Open letters past their deadline now, per service (the `en_retard` queue's definition)."""
    service = func.coalesce(Document.service_id, NONE)
    rows = db.session.execute(
        select(service, func.count()).where(OPEN_LETTER, Document.echeance < today, query.facts(Document))
        .group_by(service)).all()
    return dict(rows)


def silences_due(query, today, horizon):
    """Open SVA/SVR letters whose deadline (the day silence takes effect) falls between today and `horizon`."""
    rows = db.session.execute(
        select(Document.id, Document.reference, Document.objet, Document.echeance, Typologie.mode,
               Typologie.id.label("typologie_id"), Typologie.code.label("typologie_code"),
               Typologie.nom.label("typologie_nom"), Service.id.label("service_id"), Service.code.label("service_code"),
               Service.nom.label("service_nom"))
        .join(Typologie, Typologie.id == Document.typologie_id).outerjoin(Service, Service.id == Document.service_id)
        .where(OPEN_LETTER, Document.echeance.between(today, horizon), Typologie.mode.in_(SILENCE_MODES),
               query.facts(Document))
        .order_by(Document.echeance, Document.reference)).all()
    return [{"id": row.id, "reference": row.reference, "objet": row.objet, "echeance": row.echeance,
             "mode": row.mode, "lien": f"#/documents/{row.id}",
             "typologie": {"id": row.typologie_id, "code": row.typologie_code, "nom": row.typologie_nom,
                           "mode": row.mode},
             "service": ({"id": row.service_id, "code": row.service_code, "nom": row.service_nom}
                         if row.service_id else None)} for row in rows]
