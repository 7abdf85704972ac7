"""Replies and acknowledgements of receipt: a reply is a `sortant` letter linked to the
`entrant` it answers; validating it treats the letter (`service.decide`). Who may: `rules.may_handle`."""
from sqlalchemy import select, update

from courrier.columns import utcnow
from courrier.database import transactional
from courrier.deadlines import paris_today
from courrier.documents import parties, rules, service, visibility
from courrier.documents.models import Document
from courrier.errors import validation_error
from courrier.extensions import db

FUTURE_DATE = "L'accusé de réception ne peut pas être daté de demain ou plus tard."


def with_links(user, document, viewer=None):
    """The document with the letters it links to that `user` may see: the one it answers, its replies."""
    viewer = viewer or visibility.viewer_of(user)
    visible = visibility.visible_predicate(viewer)
    document.visible_reponses = db.session.scalars(
        service.visible_documents(user, viewer).where(Document.en_reponse_a_id == document.id)
        .order_by(Document.created_at, Document.id)).all()
    if document.en_reponse_a_id is not None:
        query = select(Document).where(Document.id == document.en_reponse_a_id)
        document.visible_en_reponse_a = db.session.scalars(
            query if visible is None else query.where(visible)).first()
    return document


def create_reply(user, document_id, data):
    """Register the reply to an incoming letter, pre-filled from it, in one transaction."""
    viewer = visibility.viewer_of(user)
    letter = service.get_document(user, document_id, viewer)
    rules.require("repondre", viewer, letter)
    fields = parties.reply_fields(letter, data)
    return service.create_document(user, {**fields, "en_reponse_a_id": letter.id})


@transactional
def acknowledge(user, document_id, day):
    """Record the date the signed acknowledgement of receipt came back, whatever the letter's state."""
    viewer = visibility.viewer_of(user)
    letter = service.get_document(user, document_id, viewer)
    rules.require("accuser_reception", viewer, letter)
    if day > paris_today():
        raise validation_error("date", FUTURE_DATE)
    now = utcnow()
    db.session.execute(update(Document).where(Document.id == letter.id)
                       .values(date_accuse_reception=day, updated_at=now)
                       .execution_options(synchronize_session=False))
    service.record(letter, "acknowledged", user, now, {"date": day.isoformat(),
                                                       "before": service.as_json(letter.date_accuse_reception)})
    db.session.expire(letter)
    return letter
