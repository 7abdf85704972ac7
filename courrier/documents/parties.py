"""A letter's correspondents and mail nature: rules the register's writes share.

The text fields `expediteur` / `destinataire` keep what the letter said at the time; a contact
reference fills them when they are omitted, and a later change of the contact does not rewrite them.
"""
from courrier.contacts.models import Contact
from courrier.documents.models import REGISTERED_NATURES
from courrier.errors import validation_error
from courrier.extensions import db

UNKNOWN_CONTACT = "Correspondant inconnu."
NUMBER_REQUIRED = "Le numéro de recommandé est obligatoire pour un envoi recommandé."
PARTIES = ("expediteur", "destinataire")


def resolve_parties(data):
    """Check the contact ids of `data` and fill the omitted text fields from them (in place)."""
    for party in PARTIES:
        contact_id = data.get(f"{party}_id")
        if contact_id is None:
            continue
        contact = db.session.get(Contact, contact_id)
        if contact is None:
            raise validation_error(f"{party}_id", UNKNOWN_CONTACT)
        if not data.get(party):
            data[party] = contact.display_name[:255]
    return data


def check_registered_number(nature, numero):
    """A registered letter (recommandé, with or without AR) carries its number."""
    if nature in REGISTERED_NATURES and not numero:
        raise validation_error("numero_recommande", NUMBER_REQUIRED)


def reply_fields(letter, data):
    """A reply's fields: what was given, else the answered letter's sender, service and objet."""
    fields = {"type": "sortant", "priorite": letter.priorite, "nature": "courrier_simple", **data}
    fields.setdefault("objet", f"Réponse : {letter.objet}"[:255])
    if not data.get("destinataire") and not data.get("destinataire_id"):
        fields["destinataire"], fields["destinataire_id"] = letter.expediteur, letter.expediteur_id
    if not data.get("expediteur") and not data.get("expediteur_id"):
        fields["expediteur"] = letter.service.nom[:255] if letter.service else letter.destinataire
    if letter.service_id is not None:
        fields["service_id"] = letter.service_id
    return fields
