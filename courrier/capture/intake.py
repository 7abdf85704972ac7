"""One e-mail becomes one draft, once: the capture key is inserted in the draft's transaction.

The files (the whole message as `message.eml`, then each attachment) are stored first, then the draft, its
attachments, their text-extraction jobs, its history and audit rows and the `captured_messages` row commit
together. Two workers capturing the same message both store the same bytes (content-addressed: one object);
the unique key lets one transaction commit, the other rolls back and reports the message as already
captured, so that its caller only moves it. A message found again after a worker died between the commit
and the move is recognised the same way, before anything is stored.
"""
import io
import logging

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from courrier import storage
from courrier.capture import drafts, files, messages
from courrier.capture.models import CapturedMessage
from courrier.columns import utcnow
from courrier.contacts.models import Contact
from courrier.database import transactional
from courrier.extensions import db

log = logging.getLogger(__name__)

CAPTURED, ALREADY = "captured", "already"
WHOLE_MESSAGE = "message.eml"


def captured_document(key):
    """The draft a message of this key became, or None."""
    return db.session.scalar(select(CapturedMessage.document_id).where(CapturedMessage.cle == key))


def contact_by_email(address):
    """The correspondent of this e-mail address (the oldest, if several share it), or None."""
    if not address:
        return None
    return db.session.scalars(select(Contact).where(func.lower(Contact.email) == address.lower())
                              .order_by(Contact.created_at, Contact.id).limit(1)).first()


def capture(raw):
    """(CAPTURED or ALREADY, the draft's id) for a raw message; `messages.Refused` when it cannot be taken."""
    mail = messages.parse(raw, current_app.config["ATTACHMENT_MAX_BYTES"])
    existing = captured_document(mail.key)
    db.session.rollback()  # nothing written: end the read's transaction before the files are stored
    if existing is not None:
        return ALREADY, existing
    parts = [messages.Part(WHOLE_MESSAGE, files.EMAIL, raw), *mail.attachments]
    sources = [io.BytesIO(part.data) for part in parts]
    stored = []
    try:
        for source in sources:
            stored.append(storage.current().put(source))
        document_id = _record(mail, parts, stored)
    except IntegrityError:
        _discard(stored, sources)
        existing = captured_document(mail.key)
        db.session.rollback()
        if existing is None:
            raise
        return ALREADY, existing
    except BaseException:
        _discard(stored, sources)
        raise
    for one, source in zip(stored, sources):
        storage.ensure(one, source)
    return CAPTURED, document_id


def _discard(stored, sources):
    db.session.rollback()
    for one, source in zip(stored, sources):
        storage.discard(one, source)


@transactional
def _record(mail, parts, stored):
    contact = contact_by_email(mail.sender_email)
    proposal = None
    if contact is not None:
        expediteur = contact.display_name or mail.sender_email
    else:
        expediteur = f"{mail.sender_name} <{mail.sender_email}>" if mail.sender_name else (mail.sender_email or "")
        if mail.sender_email:
            proposal = {"nom": mail.sender_name, "email": mail.sender_email}
    document = drafts.new_draft(
        objet=mail.objet, origine="courriel", expediteur=expediteur, destinataire=mail.recipient,
        date_reception=mail.received, expediteur_id=contact.id if contact else None, nature="courriel",
        capture={"expediteur_propose": proposal} if proposal else None, details={"message_id": mail.message_id})
    db.session.add(CapturedMessage(cle=mail.key, message_id=mail.message_id, document_id=document.id,
                                   captured_at=utcnow()))
    db.session.flush()  # the unique key decides here, before the attachments' rows
    for part, one in zip(parts, stored):
        drafts.attach(document, part.filename, part.content_type, one)
    return document.id
