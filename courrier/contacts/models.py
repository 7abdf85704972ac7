"""A correspondent (contact): a person or an organisation, with a postal address."""
import re
import unicodedata
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courrier.columns import UTCDateTime, new_uuid, utcnow
from courrier.extensions import db

CONTACT_TYPES = ("personne", "organisation")
# The field each type of contact cannot do without, and what a 422 says when it is missing.
REQUIRED_NAME = {
    "personne": ("nom", "Obligatoire pour une personne."),
    "organisation": ("organisation", "Obligatoire pour une organisation."),
}
CIVILITES = ("M.", "Mme")
ADDRESS_FIELDS = ("numero", "voie", "complement", "code_postal", "commune", "pays")


def normalized(text):
    """Lower-case, without accents or punctuation, spaces collapsed: "École  Saint-Jean" → "ecole saint jean"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w@.]+", " ", plain).split())


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_search_text_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}),
        Index("ix_contacts_duplicate_key", "duplicate_key"),
        Index("ix_contacts_nom", "nom"),
        Index("ix_contacts_organisation", "organisation"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    type: Mapped[str] = mapped_column(String(12))
    civilite: Mapped[Optional[str]] = mapped_column(String(5))
    nom: Mapped[Optional[str]] = mapped_column(String(255))
    prenom: Mapped[Optional[str]] = mapped_column(String(255))
    organisation: Mapped[Optional[str]] = mapped_column(String(255))
    service: Mapped[Optional[str]] = mapped_column(String(255))
    fonction: Mapped[Optional[str]] = mapped_column(String(255))
    adresse: Mapped[Optional[dict]] = mapped_column(JSON)
    email: Mapped[Optional[str]] = mapped_column(String(254))
    telephone: Mapped[Optional[str]] = mapped_column(String(30))
    notes: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Written by `refresh_derived()` on every change, in Python so that SQLite and PostgreSQL fold accents
    # the same way: what `q` searches (nom, prénom, organisation, commune, e-mail) and the duplicate key
    # (normalised name or organisation, and postcode).
    search_text: Mapped[str] = mapped_column(Text, default="")
    duplicate_key: Mapped[str] = mapped_column(String(600), default="")

    def refresh_derived(self):
        address = self.adresse or {}
        self.search_text = normalized(" ".join(filter(None, (
            self.nom, self.prenom, self.organisation, address.get("commune"), self.email))))
        name = (f"{self.nom or ''} {self.prenom or ''}" if self.type == "personne" else self.organisation or "")
        self.duplicate_key = f"{self.type}|{normalized(name)}|{(address.get('code_postal') or '').strip()}"

    @property
    def display_name(self):
        if self.type == "organisation":
            return self.organisation or ""
        return " ".join(filter(None, (self.civilite, self.prenom, self.nom)))
