"""Typologies: list, create, change; a typologie is deactivated, never deleted (letters keep theirs)."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courrier import signals
from courrier.signals import announce
from courrier.database import transactional
from courrier.errors import ApiError, validation_error
from courrier.extensions import db
from courrier.typologies.models import Typologie

CODE_USED = "Ce code est déjà utilisé par une autre typologie."
NOT_FOUND = "Typologie introuvable."
UNKNOWN = "Typologie inconnue ou désactivée."


def list_typologies(args):
    query = select(Typologie).order_by(Typologie.code)
    if args.get("is_active") is not None:
        query = query.where(Typologie.is_active.is_(args["is_active"]))
    return db.session.scalars(query).all()


def get_typologie(typologie_id):
    typologie = db.session.get(Typologie, typologie_id) if len(typologie_id) <= 36 else None
    if typologie is None:
        raise ApiError("not_found", NOT_FOUND)
    return typologie


def active_typologie(typologie_id):
    """The active typologie of a letter being written; 422 on `typologie_id` otherwise."""
    typologie = db.session.get(Typologie, typologie_id)
    if typologie is None or not typologie.is_active:
        raise validation_error("typologie_id", UNKNOWN)
    return typologie


def _save(typologie):
    # Not autoflushed: flushing the changed code first would make the duplicate an IntegrityError here.
    with db.session.no_autoflush:
        other = db.session.scalar(select(Typologie.id).where(Typologie.code == typologie.code))
    if other is not None and other != typologie.id:
        raise validation_error("code", CODE_USED)
    db.session.add(typologie)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise validation_error("code", CODE_USED) from None


@transactional
def create_typologie(actor, data):
    typologie = Typologie(**data)
    _save(typologie)
    announce(signals.typologie_changed, actor_id=actor.id,
             details={"typologie_id": typologie.id, "created": data})
    return typologie


@transactional
def update_typologie(actor, typologie_id, changes):
    """Change a typologie; letters already registered keep the deadline computed when they were."""
    typologie = get_typologie(typologie_id)
    changed = {name: {"old": getattr(typologie, name), "new": value} for name, value in changes.items()
               if getattr(typologie, name) != value}
    for name, change in changed.items():
        setattr(typologie, name, change["new"])
    if changed:
        _save(typologie)
        announce(signals.typologie_changed, actor_id=actor.id,
                 details={"typologie_id": typologie.id, "changes": changed})
    return typologie
