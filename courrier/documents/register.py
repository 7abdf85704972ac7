"""The register (registre chronologique): every letter of one type and period, in reference order.

`iter_register` streams the rows (only the columns the register prints, fetched in batches on a
server-side cursor), so an export of a whole year never sits in memory as rows; the two writers turn them
into a CSV a French spreadsheet opens with a double click (`;`, UTF-8 with a BOM) or an A4 landscape PDF
(`courrier.documents.register_pdf`). The period is on the registration date: the UTC day of
`created_at`, both bounds inclusive, as the register list's `date_from` / `date_to`.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple, Optional

from sqlalchemy import func, select

from courrier import csvfile, signals
from courrier.signals import announce
from courrier.database import transactional
from courrier.deadlines import paris_today
from courrier.documents import visibility
from courrier.documents.models import Document
from courrier.documents.service import day_start
from courrier.documents.rules import etat_of
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.services.models import Service

FORMATS = ("csv", "pdf")
STREAM_BATCH = 1000

TYPE_LABELS = {"entrant": "entrant", "sortant": "sortant", "interne": "interne"}
NATURE_LABELS = {
    "courrier_simple": "Courrier simple", "recommande": "Recommandé", "recommande_ar": "Recommandé avec AR",
    "courriel": "Courriel", "fax": "Télécopie", "depot_main_propre": "Dépôt en main propre", "colis": "Colis",
    "autre": "Autre",
}
STATUT_LABELS = {"en_attente": "En attente", "valide": "Validé", "rejete": "Rejeté"}
ETAT_LABELS = {None: "", "a_traiter": "À traiter", "en_cours": "En cours", "traite": "Traité"}

# Who may export the register: anyone for whom one rule holds (the mail office keeps it, validateurs and
# administrateurs answer for it).
MAY_EXPORT = (
    lambda viewer: viewer.role in ("administrateur", "validateur"),
    lambda viewer: viewer.in_mail_office,
)
REGISTER_ACTIONS = ("exporter_registre",)
FORBIDDEN = "Seuls le bureau du courrier, les validateurs et les administrateurs peuvent exporter le registre."

# (key of RegisterRow, French header) of the CSV, in order.
CSV_COLUMNS = (
    ("reference", "Référence"), ("date_reception", "Date de réception"), ("nature", "Nature"),
    ("numero_recommande", "N° de recommandé"), ("expediteur", "Expéditeur"), ("destinataire", "Destinataire"),
    ("objet", "Objet"), ("service_code", "Code du service traitant"), ("service_nom", "Service traitant"),
    ("echeance", "Échéance"), ("statut", "Statut"), ("traitement", "Traitement"),
)


class RegisterRow(NamedTuple):
    """One line of the register, with the stored codes (the writers print their French labels)."""

    reference: str
    date_reception: Optional[date]
    nature: str
    numero_recommande: Optional[str]
    expediteur: str
    destinataire: str
    objet: str
    service_code: Optional[str]
    service_nom: Optional[str]
    echeance: Optional[date]
    statut: str
    traitement: Optional[str]  # etat_of: a_traiter, en_cours, traite, or None


@dataclass(frozen=True)
class Period:
    """A type of letter and a span of registration days, both inclusive."""

    type: str
    date_from: date
    date_to: date

    @property
    def whole_year(self):
        return (self.date_from.year == self.date_to.year and (self.date_from.month, self.date_from.day) == (1, 1)
                and (self.date_to.month, self.date_to.day) == (12, 31))

    @property
    def label(self):
        if self.whole_year:
            return f"année {self.date_from.year}"
        return f"du {french_date(self.date_from)} au {french_date(self.date_to)}"

    @property
    def title(self):
        return f"Registre chronologique du courrier {TYPE_LABELS[self.type]} — {self.label}"

    def filename(self, extension):
        span = (str(self.date_from.year) if self.whole_year
                else f"{self.date_from.isoformat()}_{self.date_to.isoformat()}")
        return f"registre-{self.type}-{span}.{extension}"

    def as_details(self):
        return {"type": self.type, "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}


def period_of(kind, date_from=None, date_to=None, year=None):
    """The period asked for: missing bounds are those of `year`, else of the other bound's year, else of the
    current year (Europe/Paris); 422 when it ends before it starts."""
    year = year or (date_from or date_to or paris_today()).year
    period = Period(kind, date_from or date(year, 1, 1), date_to or date(year, 12, 31))
    if period.date_from > period.date_to:
        raise ApiError("validation_error", errors={"date_to": ["La fin de la période précède son début."]})
    return period


def french_date(value):
    return value.strftime("%d/%m/%Y") if value else ""


# ------------------------------------------------------------------ reading

def may_export(viewer):
    """Whether the caller keeps the register (MAY_EXPORT)."""
    return any(rule(viewer) for rule in MAY_EXPORT)


def require_export(user):
    """403 unless the caller keeps the register (MAY_EXPORT)."""
    if not may_export(visibility.viewer_of(user)):
        raise ApiError("forbidden", FORBIDDEN)


def register_actions(viewer):
    """What the caller may do with the register as a whole (the register list's `meta.actions`)."""
    return list(REGISTER_ACTIONS) if may_export(viewer) else []


def _in_period(query, period):
    # Drafts and set-aside letters (courrier.capture) have no reference: they are not in the register.
    return query.where(Document.reference.is_not(None), Document.type == period.type,
                       Document.created_at >= day_start(period.date_from),
                       Document.created_at < day_start(period.date_to + timedelta(days=1)))


def count_register(period):
    """How many letters the register of `period` holds (one indexed count)."""
    return db.session.scalar(_in_period(select(func.count()).select_from(Document), period))


def register_query(period):
    """The SELECT of the register's columns: no ORM entity, no joined relationship, one outer join.

    Its columns are RegisterRow's in order, the treatment state last as its inputs (`etat_of`)."""
    query = (select(Document.reference, Document.date_reception, Document.nature, Document.numero_recommande,
                    Document.expediteur, Document.destinataire, Document.objet, Service.code, Service.nom,
                    Document.echeance, Document.statut, Document.service_id, Document.traitement_etat)
             .select_from(Document).outerjoin(Service, Service.id == Document.service_id))
    # References are `ENT-2026-000042`: their order is the order of registration within a type.
    return _in_period(query, period).order_by(Document.reference)


def iter_register(period):
    """Every RegisterRow of `period` in reference order, fetched STREAM_BATCH at a time (a server-side
    cursor on PostgreSQL), so memory stays flat whatever the number of letters."""
    result = db.session.execute(register_query(period).execution_options(yield_per=STREAM_BATCH))
    for partition in result.partitions():
        for *columns, statut, service_id, traitement_etat in partition:
            yield RegisterRow(*columns, statut, etat_of(statut, service_id, traitement_etat))


def announce_export(user, period, output_format, rows):
    """The `register_exported` audit event, in the caller's transaction: who exported which register (None:
    the command line), in which format, how many rows."""
    announce(signals.register_exported, actor_id=user.id if user else None, details={
        **period.as_details(), "format": output_format, "rows": rows})


record_export = transactional(announce_export)


# ------------------------------------------------------------------ CSV

def csv_cells(row):
    """The printed cells of a row, each guarded against formula injection (as the audit CSV)."""
    values = {
        "reference": row.reference, "date_reception": french_date(row.date_reception),
        "nature": NATURE_LABELS.get(row.nature, row.nature), "numero_recommande": row.numero_recommande,
        "expediteur": row.expediteur, "destinataire": row.destinataire, "objet": row.objet,
        "service_code": row.service_code, "service_nom": row.service_nom, "echeance": french_date(row.echeance),
        "statut": STATUT_LABELS.get(row.statut, row.statut), "traitement": ETAT_LABELS.get(row.traitement, ""),
    }
    return [csvfile.csv_safe(values[key] or "") for key, _ in CSV_COLUMNS]


def csv_chunks(rows, delimiter=";", bom=True, on_row=None):
    """The CSV text of `rows`, a few hundred lines per chunk: the header (after a BOM), then the rows.

    `on_row()` is called after each row (a progress bar).
    """
    return csvfile.csv_chunks([header for _, header in CSV_COLUMNS], map(csv_cells, rows), delimiter=delimiter,
                              bom=bom, on_row=on_row)
