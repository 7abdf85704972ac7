"""A contact's letters: the letters from or to a correspondent, and their move on a merge.

The contacts directory asks here for what concerns letters, so that the letters' queries, their
visibility and their history stay in the documents package.
"""
from sqlalchemy import func, insert, or_, select, update

from courrier.columns import new_uuid
from courrier.database import paginate
from courrier.documents import service, visibility
from courrier.documents.models import Document, DocumentEvent
from courrier.extensions import db

# The letter columns that name a contact, and the role each gives it in a merge's history.
CONTACT_COLUMNS = {"expediteur": Document.expediteur_id, "destinataire": Document.destinataire_id}


def naming(contact_id):
    """The SQL condition: the letter names the contact as sender or recipient."""
    return or_(*(column == contact_id for column in CONTACT_COLUMNS.values()))


def contact_documents(user, contact_id, page, per_page):
    """The letters from or to a contact that `user` may see, newest first, each with `lu` and `actions`."""
    viewer = visibility.viewer_of(user)
    query = service.visible_documents(user, viewer).where(naming(contact_id)).order_by(*service.REGISTER_ORDER)
    result = paginate(query, page, per_page, keyed_by=(Document.id, service.REGISTER_ORDER))
    service.as_listed(user, viewer, result["data"])
    return result


def letters_using(contact_id):
    """How many letters name the contact as sender or recipient."""
    return db.session.scalar(select(func.count()).select_from(Document).where(naming(contact_id)))


def move_letters(actor, source_id, target_id, details, now):
    """Make the letters naming `source_id` name `target_id`, with a `contact_merged` history line on each.

    Two UPDATEs and one bulk INSERT whatever the number of letters; the letters' text fields are kept.
    Returns how many letters moved.
    """
    roles = {}
    for role, column in CONTACT_COLUMNS.items():
        for document_id in db.session.scalars(select(Document.id).where(column == source_id)):
            roles.setdefault(document_id, []).append(role)
        db.session.execute(update(Document).where(column == source_id).values({column.key: target_id})
                           .execution_options(synchronize_session=False))
    if roles:
        db.session.execute(insert(DocumentEvent), [
            {"id": new_uuid(), "document_id": document_id, "action": "contact_merged", "actor_id": actor.id,
             "at": now, "details": {**details, "roles": document_roles}}
            for document_id, document_roles in roles.items()])
    return len(roles)
