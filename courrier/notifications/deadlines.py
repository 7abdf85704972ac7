"""Due-soon and late notices (a periodic job each working day at 07:00): each once per letter, recipient and deadline.

The outbox's unique `dedup_key` says "once": a second run (or two at the same time) inserts nothing,
and a letter whose deadline moves gets notices for its new deadline.
"""
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from courrier import deadlines
from courrier.database import insert_ignoring_duplicates
from courrier.documents.models import TRAITE, Document
from courrier.extensions import db
from courrier.notifications import mails, recipients
from courrier.notifications.models import Notification

PAGE = 500


def open_letters_due_by(limit):
    """Letters not rejected, not treated, due on or before `limit`."""
    return (select(Document)
            .where(Document.echeance.is_not(None), Document.echeance <= limit, Document.statut != "rejete",
                   or_(Document.traitement_etat.is_(None), Document.traitement_etat != TRAITE))
            .options(lazyload(Document.copy_services), lazyload(Document.copy_users)))


def deadline_recipients(document):
    """The responsable (if still active), else the treating service's mailbox or members."""
    if document.responsable is not None and document.responsable.is_active:
        return recipients.users([document.responsable_id])
    return recipients.services([document.service_id] if document.service_id else [])


def queue_deadline_notices(today=None):
    """Queue the notices of letters due within ALERTE_JOURS working days or late; the number queued."""
    config = current_app.config
    today = today or deadlines.paris_today()
    limit = deadlines.add_working_days(today, config["ALERTE_JOURS"], config["HOLIDAYS_SUBDIVISION"])
    queued, last_id = 0, ""
    while True:
        page = db.session.scalars(open_letters_due_by(limit).where(Document.id > last_id)
                                  .order_by(Document.id).limit(PAGE)).unique().all()
        if not page:
            return queued
        for document in page:
            kind = "late" if document.echeance < today else "due_soon"
            for recipient in deadline_recipients(document):
                key = f"{kind}:{document.id}:{document.echeance.isoformat()}:{recipient.user_id or recipient.email}"
                mail = mails.render(kind, document)
                queued += insert_ignoring_duplicates(
                    Notification.__table__, user_id=recipient.user_id, to_email=recipient.email, kind=kind,
                    document_id=document.id, subject=mail.subject, body_text=mail.text, body_html=mail.html,
                    dedup_key=key)
        db.session.commit()
        last_id = page[-1].id
