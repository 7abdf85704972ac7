"""The mail register: documents, their history, their attachments and the reference counters."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import DDL, JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courrier.auth.models import User
from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db
from courrier.contacts.models import Contact
from courrier.services.models import Service
from courrier.typologies.models import Typologie

DOCUMENT_TYPES = ("entrant", "sortant", "interne")
PRIORITES = ("normale", "urgente")
STATUTS = ("en_attente", "valide", "rejete", "a_qualifier", "ecarte")
# A letter captured (IMAP) or scanned, not registered yet: no reference, seen by the mail office only
# (courrier.capture); set aside (spam, duplicate), it stays without a reference, out of every queue.
A_QUALIFIER, ECARTE = "a_qualifier", "ecarte"
UNREGISTERED = (A_QUALIFIER, ECARTE)
# The stored treatment states; `a_traiter` is a valid, routed letter whose state is still NULL.
NATURES = ("courrier_simple", "recommande", "recommande_ar", "courriel", "fax", "depot_main_propre", "colis", "autre")
REGISTERED_NATURES = ("recommande", "recommande_ar")
TRAITEMENT_ETATS = ("en_cours", "traite")
EN_COURS, TRAITE = TRAITEMENT_ETATS
# The reading of an attachment's text (courrier.search.text_jobs): waiting, read, recognised by OCR, none in
# the file, failed (a broken file), unavailable (no OCR engine installed for a scan).
TEXTE_ETATS = ("en_attente", "extrait", "reconnu", "aucun", "echec", "indisponible")
REFERENCE_PREFIXES = {"entrant": "ENT", "sortant": "SOR", "interne": "INT"}


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_created_at", "created_at"),
        # A statut's page, newest first (`q` is the full-text index of courrier.search).
        Index("ix_documents_statut_created_at", "statut", "created_at"),
        Index("ix_documents_type_created_at", "type", "created_at"),
        Index("ix_documents_created_by_id_created_at", "created_by_id", "created_at"),
        Index("ix_documents_priorite", "priorite"),
        Index("ix_documents_validated_by_id", "validated_by_id"),
        # Visibility by service and the register's service filters.
        Index("ix_documents_service_id_created_at", "service_id", "created_at"),
        Index("ix_documents_responsable_id_created_at", "responsable_id", "created_at"),
        # The work queues' counts (documents/bannettes.py), each answered by one of these alone.
        Index("ix_documents_echeance_statut_traitement", "echeance", "statut", "traitement_etat"),
        # Service first, then the deadline: late letters of a few services are one range each.
        Index("ix_documents_queue_service", "service_id", "echeance", "statut", "traitement_etat", "responsable_id",
              "created_by_id"),
        Index("ix_documents_queue_responsable", "responsable_id", "statut", "traitement_etat", "echeance"),
        Index("ix_documents_queue_creator", "created_by_id", "traitement_etat"),
        Index("ix_documents_queue_statut", "statut", "service_id", "created_by_id"),
        Index("ix_documents_typologie_id", "typologie_id"),
        Index("ix_documents_traite_par_id", "traite_par_id"),
        Index("ix_documents_expediteur_id", "expediteur_id"),
        Index("ix_documents_destinataire_id", "destinataire_id"),
        Index("ix_documents_en_reponse_a_id", "en_reponse_a_id"),
        # The register export walks one type's letters in reference order.
        Index("ix_documents_type_reference", "type", "reference"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # NULL while a draft (courrier.capture): given at registration, by the gapless counter.
    reference: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(10))
    objet: Mapped[str] = mapped_column(String(255))
    expediteur: Mapped[str] = mapped_column(String(255))
    destinataire: Mapped[str] = mapped_column(String(255))
    date_courrier: Mapped[Optional[date]] = mapped_column(Date)
    date_reception: Mapped[Optional[date]] = mapped_column(Date)
    priorite: Mapped[str] = mapped_column(String(10), default="normale")
    description: Mapped[Optional[str]] = mapped_column(Text)
    statut: Mapped[str] = mapped_column(String(12), default="en_attente")
    motif_rejet: Mapped[Optional[str]] = mapped_column(Text)
    motif_ecart: Mapped[Optional[str]] = mapped_column(Text)
    # Where a draft came from and what the capture proposes: {"origine": "courriel" | "numerisation",
    # "expediteur_propose": {"nom", "email"}} (a sender with no contact yet); NULL for a letter typed in.
    capture: Mapped[Optional[dict]] = mapped_column(JSON)
    # NULL for a draft captured from the mailbox until someone registers it (then the registrar).
    created_by_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"))
    validated_by_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"))
    # The routing (imputation): the treating service and, within it, the agent in charge.
    service_id: Mapped[Optional[str]] = mapped_column(ForeignKey("services.id"))
    responsable_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"))
    # Treatment: the deadline in working days, stored so that queues and alerts can index it.
    typologie_id: Mapped[Optional[str]] = mapped_column(ForeignKey("typologies.id"))
    echeance: Mapped[Optional[date]] = mapped_column(Date)
    traitement_etat: Mapped[Optional[str]] = mapped_column(String(10))
    traite_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    traite_par_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"))
    traitement_commentaire: Mapped[Optional[str]] = mapped_column(Text)
    # Correspondents and mail nature: the text fields keep what the letter said at the time.
    expediteur_id: Mapped[Optional[str]] = mapped_column(ForeignKey("contacts.id"))
    destinataire_id: Mapped[Optional[str]] = mapped_column(ForeignKey("contacts.id"))
    nature: Mapped[str] = mapped_column(String(20), default="courrier_simple", server_default="courrier_simple")
    numero_recommande: Mapped[Optional[str]] = mapped_column(String(13))
    date_accuse_reception: Mapped[Optional[date]] = mapped_column(Date)
    en_reponse_a_id: Mapped[Optional[str]] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    validated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id], lazy="joined")
    validated_by: Mapped[Optional[User]] = relationship(foreign_keys=[validated_by_id], lazy="joined")
    service: Mapped[Optional[Service]] = relationship(lazy="joined")
    responsable: Mapped[Optional[User]] = relationship(foreign_keys=[responsable_id], lazy="joined")
    typologie: Mapped[Optional[Typologie]] = relationship(lazy="joined")
    traite_par: Mapped[Optional[User]] = relationship(foreign_keys=[traite_par_id], lazy="joined")
    expediteur_contact: Mapped[Optional[Contact]] = relationship(foreign_keys=[expediteur_id], lazy="joined")
    destinataire_contact: Mapped[Optional[Contact]] = relationship(foreign_keys=[destinataire_id], lazy="joined")
    en_reponse_a: Mapped[Optional["Document"]] = relationship(
        remote_side=lambda: [Document.id], foreign_keys=[en_reponse_a_id], lazy="select")
    copy_services: Mapped[list[Service]] = relationship(
        secondary=lambda: document_copy_services, lazy="selectin", order_by=Service.code)
    copy_users: Mapped[list[User]] = relationship(
        secondary=lambda: document_copy_users, lazy="selectin", order_by=(User.nom, User.prenom))

    # Set by the service for the caller, not columns: whether they opened it, and the linked letters
    # (the one it answers, its replies) that they may see.
    lu = False
    visible_en_reponse_a = None
    visible_reponses = ()

    @property
    def copies(self):
        return {"services": self.copy_services, "users": self.copy_users}


# The copy list of a letter: services and users who see it without treating it.
document_copy_services = Table(
    "document_copy_services", db.metadata,
    Column("document_id", String(36), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", String(36), ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True),
)
document_copy_users = Table(
    "document_copy_users", db.metadata,
    Column("document_id", String(36), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


# Who opened which letter: the `en_copie` queue holds the copies not opened yet.
document_reads = Table(
    "document_reads", db.metadata,
    Column("document_id", String(36), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("read_at", UTCDateTime, nullable=False),
)


class DocumentEvent(db.Model):
    """One line of a document's history, written in the same transaction as the change."""

    __tablename__ = "document_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[Optional[dict]] = mapped_column(JSON)

    actor: Mapped[Optional[User]] = relationship(lazy="joined")


class Attachment(db.Model):
    """A stored file; its key in the store is server-computed, the client's filename is only metadata."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    # 100: the Office types of captured e-mails' attachments are ~70 characters long.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The key of its bytes in the store (courrier.storage): their SHA-256, shared by attachments of the same
    # bytes; a uuid4 hex file name for a file stored before keys were hashes.
    storage_name: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its text (courrier.search.text_jobs): where its reading is (TEXTE_ETATS), why in French, the text itself
    # (deferred: only the index reads it), and the searchable PDF that OCR made of a scan, beside the original.
    texte_etat: Mapped[str] = mapped_column(String(12), default="en_attente", server_default="en_attente")
    texte_motif: Mapped[Optional[str]] = mapped_column(Text)
    texte: Mapped[Optional[str]] = mapped_column(Text, deferred=True)
    ocr_storage_name: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    ocr_size: Mapped[Optional[int]] = mapped_column(Integer)
    # A list's uploaders in one more query, whatever its length.
    uploaded_by: Mapped[Optional[User]] = relationship(lazy="selectin")


class ReferenceCounter(db.Model):
    """The last reference number given per type and year, incremented in the creating transaction."""

    __tablename__ = "reference_counters"

    type: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


# The trigram operator class of the contacts' search index (a trusted extension: the database owner may create it).
CREATE_PG_TRGM = DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
event.listen(db.metadata, "before_create", CREATE_PG_TRGM)
