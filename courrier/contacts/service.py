"""The correspondents directory: each rule in one function, each action one transaction.

Search and the duplicate guard read columns that `Contact.refresh_derived()` writes in Python on every
change (accents folded the same way on SQLite and PostgreSQL), so every write here goes through
`apply_fields()`. A contact is deleted only when no letter names it; otherwise it is merged into another one.
"""
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from courrier import signals
from courrier.signals import announce
from courrier.columns import utcnow
from courrier.contacts.models import ADDRESS_FIELDS, REQUIRED_NAME, Contact, normalized
from courrier.database import escape_like, paginate, transactional
from courrier.documents import correspondence
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

CONTACT_NOT_FOUND = "Correspondant introuvable."
UNKNOWN_TARGET = "Correspondant inconnu."
MERGE_INTO_ITSELF = "Un correspondant ne peut pas être fusionné avec lui-même."
DUPLICATE = "Un correspondant semblable existe déjà : « {name} » (id {id}). Pour le créer quand même : {force}."
IN_USE = ("Ce correspondant est utilisé par {count} courrier(s) : il ne peut pas être supprimé. "
          "Fusionnez-le plutôt avec un autre correspondant.")
CHANGED_MEANWHILE = "Un courrier vient d'être lié à ce correspondant : réessayez."
LIST_ORDER = (Contact.search_text, Contact.id)


# ------------------------------------------------------------------ reading

def find_contact(contact_id):
    """The contact of that id, or None (also for what cannot be an id)."""
    return db.session.get(Contact, contact_id) if isinstance(contact_id, str) and len(contact_id) <= 36 else None


def get_contact(contact_id):
    contact = find_contact(contact_id)
    if contact is None:
        raise ApiError("not_found", CONTACT_NOT_FOUND)
    return contact


def contacts_query(filters):
    """The contacts matching `q` and `type`, alphabetically (by the folded name that starts `search_text`).

    `q` is folded like the stored text (no case, no accents, no punctuation), then each of its words is
    searched as a substring, in any order: « francois dupre » finds « Dupré François » as « dupre fr »
    does. On PostgreSQL the trigram index of `search_text` answers each word.
    """
    query = select(Contact)
    for word in normalized(filters.get("q")).split():
        query = query.where(Contact.search_text.like(f"%{escape_like(word)}%", escape="\\"))
    if filters.get("type"):
        query = query.where(Contact.type == filters["type"])
    return query.order_by(*LIST_ORDER)


def list_contacts(filters):
    """One page of the directory: `{data, meta}`."""
    return paginate(contacts_query(filters), filters["page"], filters["per_page"])


def iter_contacts(filters):
    """Every matching contact, streamed from the database in batches (the CSV export).

    A generator, so the query runs when the export is read: a streamed response reads it after the view
    has returned and its session has been closed.
    """
    yield from db.session.scalars(contacts_query(filters).execution_options(yield_per=1000))


def contact_documents(user, contact_id, page, per_page):
    """The letters from or to a contact that `user` may see (`documents.correspondence`)."""
    return correspondence.contact_documents(user, get_contact(contact_id).id, page, per_page)


# ------------------------------------------------------------------ rules

def missing_name(contact):
    """(field, message) when the contact lacks the name its type needs, else None."""
    field, message = REQUIRED_NAME[contact.type]
    return None if getattr(contact, field) else (field, message)


def duplicate_of(contact):
    """An existing contact with the same duplicate key (same type, folded name and postcode), or None."""
    return db.session.scalars(select(Contact).where(
        Contact.duplicate_key == contact.duplicate_key, Contact.id != (contact.id or "")).limit(1)).first()


def duplicate_message(existing, force="ajoutez ?force=true"):
    return DUPLICATE.format(name=existing.display_name, id=existing.id, force=force)


def full_address(adresse):
    """Every address field (null when not given), or None for no address at all."""
    if not adresse or not any(adresse.get(name) for name in ADDRESS_FIELDS):
        return None
    return {name: adresse.get(name) for name in ADDRESS_FIELDS}


def apply_fields(contact, data):
    """Set the fields and recompute the derived columns; returns `missing_name()` of the result."""
    for name, value in data.items():
        setattr(contact, name, full_address(value) if name == "adresse" else value)
    contact.refresh_derived()
    return missing_name(contact)


def _write(contact, data):
    """`apply_fields`, the missing name a 422 on its field."""
    problem = apply_fields(contact, data)
    if problem:
        raise validation_error(*problem)


# ------------------------------------------------------------------ writing

@transactional
def create_contact(actor, data, force=False):
    """Anyone authenticated adds a contact; a likely duplicate is a 409 naming it unless `force`."""
    contact = Contact()
    _write(contact, data)
    if not force:
        existing = duplicate_of(contact)
        if existing is not None:
            raise ApiError("conflict", duplicate_message(existing))
    db.session.add(contact)
    db.session.flush()
    return contact


@transactional
def update_contact(actor, contact_id, changes):
    """Anyone authenticated corrects a contact; letters keep the text they were registered with."""
    contact = get_contact(contact_id)
    _write(contact, changes)
    return contact


@transactional
def delete_contact(actor, contact_id):
    """An administrateur deletes a contact no letter names (409 saying how many do)."""
    contact = get_contact(contact_id)
    count = correspondence.letters_using(contact.id)
    if count:
        raise ApiError("conflict", IN_USE.format(count=count))
    details = {"contact_id": contact.id, "type": contact.type, "nom": contact.display_name}
    with refused_if_linked_meanwhile():
        db.session.delete(contact)
        db.session.flush()
    announce(signals.contact_deleted, actor_id=actor.id, details=details)


@transactional
def merge_contact(actor, contact_id, into_id):
    """Move every letter of a contact to another one, with a history line on each (`correspondence.move_letters`),
    then delete it."""
    source = get_contact(contact_id)
    if into_id == source.id:
        raise validation_error("into", MERGE_INTO_ITSELF)
    # A 404 names the URL's contact; an unknown one in the body is invalid input, as everywhere else.
    target = find_contact(into_id)
    if target is None:
        raise validation_error("into", UNKNOWN_TARGET)
    now = utcnow()
    details = {"from_id": source.id, "from": source.display_name, "into_id": target.id, "into": target.display_name}
    moved = correspondence.move_letters(actor, source.id, target.id, details, now)
    with refused_if_linked_meanwhile():
        db.session.execute(delete(Contact).where(Contact.id == source.id))
    db.session.expunge(source)
    announce(signals.contacts_merged, actor_id=actor.id,
             details={**details, "documents": moved})
    return {"contact": target, "documents": moved}


@contextmanager
def refused_if_linked_meanwhile():
    """A letter linked to the contact by a concurrent request breaks the foreign key: 409, not 500."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise ApiError("conflict", CHANGED_MEANWHILE) from None
