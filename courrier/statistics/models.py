"""The dashboard's aggregates, kept in the transaction of every change to a letter (statistics/ledger.py).

`statistiques_courriers` is the ledger: what the aggregates hold for each letter (its registration day,
type, service, typologie and, once treated, its treatment day and processing time). A change to the letter
is compared with its ledger row, and only the difference goes to the aggregates: letters registered per UTC
day (`statistiques_jours`, the weekly chart) and per month (`statistiques_mois`, the bars per service), and
incoming letters treated per month and processing time in working days (`statistiques_durees`, the histogram
the percentiles are read from).

Each aggregate is a small cube: a letter is counted under its service and under ALL ('*'), under its
typologie and under ALL, so the dashboard of every service reads the ALL rows (a few thousand a year)
instead of adding up the rows of each service and typologie. "No service" and "no typologie" are stored
as '' (NULLs would make every NULL key a row of its own).
"""
from datetime import date
from typing import Optional

from sqlalchemy import Date, ForeignKey, Index, Integer, String, and_, literal_column, or_
from sqlalchemy.orm import Mapped, mapped_column

from courrier.documents.models import TRAITE, Document
from courrier.extensions import db

NONE = ""
ALL = "*"


class LetterFacts(db.Model):
    """What the aggregates count for one letter (the ledger)."""

    __tablename__ = "statistiques_courriers"
    __table_args__ = (
        # The edges of a period that does not cover whole months: the letters of a few days.
        Index("ix_statistiques_courriers_jour", "jour", "type", "service_id", "typologie_id"),
        Index("ix_statistiques_courriers_jour_traite", "jour_traite", "type", "service_id", "typologie_id",
              "duree"),
    )

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    jour: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(10))
    service_id: Mapped[str] = mapped_column(String(36))
    typologie_id: Mapped[str] = mapped_column(String(36))
    jour_traite: Mapped[Optional[date]] = mapped_column(Date)
    duree: Mapped[Optional[int]] = mapped_column(Integer)


class DailyCount(db.Model):
    """Letters registered on `jour` (UTC, like the register's filters), for the weekly chart."""

    __tablename__ = "statistiques_jours"

    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    typologie_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jour: Mapped[date] = mapped_column(Date, primary_key=True)
    type: Mapped[str] = mapped_column(String(10), primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)


class MonthlyCount(db.Model):
    """Letters registered in the month starting on `mois` (UTC days), for the bars per service."""

    __tablename__ = "statistiques_mois"

    typologie_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mois: Mapped[date] = mapped_column(Date, primary_key=True)
    type: Mapped[str] = mapped_column(String(10), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)


class DurationCount(db.Model):
    """Incoming letters treated in the month starting on `mois` (Europe/Paris), `duree` working days after
    their receipt."""

    __tablename__ = "statistiques_durees"

    mois: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    typologie_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    duree: Mapped[int] = mapped_column(Integer, primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)


# A letter still open (neither rejected nor treated): the `en_retard` queue's definition
# (documents/bannettes.py). Written with literal constants, so that PostgreSQL matches the partial index
# below whatever the plan (a generic plan of a prepared statement cannot prove a bound value's implication).
OPEN_LETTER = and_(Document.statut != literal_column("'rejete'"),
                   or_(Document.traitement_etat.is_(None), Document.traitement_etat != literal_column(f"'{TRAITE}'")))

# The dashboard's index on the letters: the open ones by deadline (late letters now, silences to come),
# a few thousand entries where the whole table is a million.
ix_documents_open_echeance = Index(
    "ix_documents_open_echeance", Document.echeance, Document.service_id, Document.type, Document.typologie_id,
    postgresql_where=OPEN_LETTER, sqlite_where=OPEN_LETTER)
