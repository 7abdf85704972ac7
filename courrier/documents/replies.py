"""Replies and acknowledgements of receipt (issue 14): a reply is a `sortant` letter linked to the
`entrant` it answers; validating it treats the letter (`service.decide`)."""
from sqlalchemy import select, update

from courrier.columns import utcnow
from courrier.database import transactional
from courrier.deadlines import paris_today
from courrier.documents import correspondence, service, treatment, visibility
from courrier.documents.models import Document
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

NOT_INCOMING = "Seul un courrier entrant appelle une réponse."
MAY_NOT_REPLY = ("Seuls son auteur, son responsable, les membres de son service traitant, le bureau du courrier et "
                 "les administrateurs peuvent répondre à ce courrier.")
MAY_NOT_ACKNOWLEDGE = ("Seuls son auteur, son responsable, les membres de son service traitant, le bureau du courrier "
                       "et les administrateurs peuvent enregistrer l'accusé de réception.")
FUTURE_DATE = "L'accusé de réception ne peut pas être daté de demain ou plus tard."


def may_handle(viewer, letter):
    """Who answers a letter or records its acknowledgement: its author, its treaters, the mail office."""
    return (letter.created_by_id == viewer.id or viewer.in_mail_office
            or treatment.may_treat(viewer, letter, "treaters"))


def with_links(user, document):
    """The document with the letters it links to that `user` may see: the one it answers, its replies."""
    visible = visibility.visible_predicate(visibility.viewer_of(user))
    document.visible_reponses = db.session.scalars(
        service.visible_documents(user).where(Document.en_reponse_a_id == document.id)
        .order_by(Document.created_at, Document.id)).all()
    if document.en_reponse_a_id is not None:
        query = select(Document).where(Document.id == document.en_reponse_a_id)
        document.visible_en_reponse_a = db.session.scalars(
            query if visible is None else query.where(visible)).first()
    return document


def create_reply(user, document_id, data):
    """Register the reply to an incoming letter, pre-filled from it, in one transaction."""
    letter = service.get_document(user, document_id)
    if letter.type != "entrant":
        raise ApiError("conflict", NOT_INCOMING)
    if not may_handle(visibility.viewer_of(user), letter):
        raise ApiError("forbidden", MAY_NOT_REPLY)
    fields = correspondence.reply_fields(letter, data)
    return service.create_document(user, {**fields, "en_reponse_a_id": letter.id})


@transactional
def acknowledge(user, document_id, day):
    """Record the date the signed acknowledgement of receipt came back, whatever the letter's state."""
    letter = service.get_document(user, document_id)
    if not may_handle(visibility.viewer_of(user), letter):
        raise ApiError("forbidden", MAY_NOT_ACKNOWLEDGE)
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
