"""The organisation tree and memberships: each rule in one function, each action one transaction.

The tree's invariants (no cycle, a known parent, one mail office, unique codes) are checked here and,
where a race could break them, by the database too (unique indexes): a concurrent loser gets 422.
"""

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from courrier import signals
from courrier.signals import announce
from courrier.auth.models import User
from courrier.database import transactional
from courrier.errors import ApiError, validation_error
from courrier.extensions import db
from courrier.services.models import Service, ServiceMember
from courrier.users.service import get_user

SERVICE_NOT_FOUND = "Service introuvable."
UNKNOWN_PARENT = "Service parent inconnu."
CYCLE = "Un service ne peut pas être placé sous lui-même ni sous l'un de ses sous-services."
CODE_USED = "Ce code est déjà utilisé par un autre service."
MAIL_OFFICE_TAKEN = "Le bureau du courrier est déjà le service {code} : retirez-lui d'abord ce rôle."
MAIL_OFFICE_INACTIVE = "Le bureau du courrier ne peut pas être désactivé : retirez-lui d'abord ce rôle."
UNKNOWN_SERVICES = "Service(s) inconnu(s) ou désactivé(s) : {ids}."
EDITABLE_FIELDS = ("code", "nom", "parent_id", "email", "is_active", "is_mail_office")


# ------------------------------------------------------------------ reading

def list_services(args):
    """Every service matching the filters, by code: the tree is small (a few hundred at most)."""
    query = select(Service).order_by(Service.code)
    if args.get("q"):
        text = args["q"].lower()
        query = query.where(or_(func.lower(Service.code).contains(text, autoescape=True),
                                func.lower(Service.nom).contains(text, autoescape=True)))
    if args.get("is_active") is not None:
        query = query.where(Service.is_active.is_(args["is_active"]))
    if args.get("parent_id"):
        query = query.where(Service.parent_id == args["parent_id"])
    return db.session.scalars(query).all()


def get_service(service_id):
    service = db.session.get(Service, service_id) if isinstance(service_id, str) and len(service_id) <= 36 else None
    if service is None:
        raise ApiError("not_found", SERVICE_NOT_FOUND)
    return service


def subtree_ids(root_ids):
    """The ids of the services in `root_ids` and of all their descendants (one recursive query)."""
    if not root_ids:
        return set()
    tree = select(Service.id).where(Service.id.in_(root_ids)).cte("tree", recursive=True)
    tree = tree.union(select(Service.id).join(tree, Service.parent_id == tree.c.id))
    return set(db.session.scalars(select(tree.c.id)))


def mail_office():
    return db.session.scalars(select(Service).where(Service.is_mail_office.is_(True))).first()


def active_by_id(model, ids, field, message):
    """The active rows of `model` with these ids, in that order; 422 on `field` naming any unknown or inactive id."""
    ids = list(dict.fromkeys(ids))
    found = {row.id: row for row in db.session.scalars(
        select(model).where(model.id.in_(ids), model.is_active.is_(True)))} if ids else {}
    missing = [row_id for row_id in ids if row_id not in found]
    if missing:
        raise validation_error(field, message.format(ids=", ".join(missing)))
    return [found[row_id] for row_id in ids]


def active_services(service_ids, field):
    return active_by_id(Service, service_ids, field, UNKNOWN_SERVICES)


def active_members(service_id):
    """The active users of a service, by name: the responsables a letter routed there may have."""
    service = get_service(service_id)
    return db.session.scalars(
        select(ServiceMember).join(User, User.id == ServiceMember.user_id)
        .where(ServiceMember.service_id == service.id, User.is_active.is_(True))
        .options(contains_eager(ServiceMember.user)).order_by(User.nom, User.prenom, User.id)).all()


def memberships_of(user_id):
    """A user's memberships with their services, primary first: for the routes that show them."""
    return db.session.scalars(
        select(ServiceMember).where(ServiceMember.user_id == user_id)
        .order_by(ServiceMember.is_primary.desc())).all()


# ------------------------------------------------------------------ writing

def _check_parent(service, parent_id):
    """422 unless `parent_id` is null or a known service outside `service`'s own subtree."""
    if parent_id is None:
        return
    if db.session.get(Service, parent_id) is None:
        raise validation_error("parent_id", UNKNOWN_PARENT)
    if service.id is not None and parent_id in subtree_ids([service.id]):
        raise validation_error("parent_id", CYCLE)


def _check_mail_office(service, is_mail_office, is_active):
    """The mail office is one active service: checked on the values about to be written."""
    if not is_mail_office:
        return
    if not is_active:
        raise validation_error("is_active", MAIL_OFFICE_INACTIVE)
    current = mail_office()
    if current is not None and current.id != service.id:
        raise validation_error("is_mail_office", MAIL_OFFICE_TAKEN.format(code=current.code))


def _flush_unique():
    """Flush; a unique index broken by a concurrent request is the same 422 as the check before it."""
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        if "mail_office" in str(error.orig):
            raise validation_error("is_mail_office", MAIL_OFFICE_TAKEN.format(code="existant")) from None
        raise validation_error("code", CODE_USED) from None


def _check_code_free(code, service_id=None):
    other = db.session.scalar(select(Service.id).where(Service.code == code))
    if other is not None and other != service_id:
        raise validation_error("code", CODE_USED)


@transactional
def create_service(actor, data):
    """An administrateur adds a service to the tree."""
    service = Service(**data)
    _check_code_free(service.code)
    _check_parent(service, service.parent_id)
    _check_mail_office(service, service.is_mail_office, service.is_active)
    db.session.add(service)
    _flush_unique()
    announce(signals.service_created, actor_id=actor.id, details={
        "service_id": service.id, "code": service.code, "nom": service.nom, "parent_id": service.parent_id,
        "is_mail_office": service.is_mail_office})
    return service


@transactional
def update_service(actor, service_id, changes):
    """Rename, move, (de)activate a service or make it the mail office; a service is never deleted."""
    service = get_service(service_id)
    changed = {name: {"old": getattr(service, name), "new": changes[name]}
               for name in EDITABLE_FIELDS if name in changes and changes[name] != getattr(service, name)}
    if not changed:
        return service
    if "code" in changed:
        _check_code_free(changes["code"], service.id)
    if "parent_id" in changed:
        _check_parent(service, changes["parent_id"])
    _check_mail_office(service, changes.get("is_mail_office", service.is_mail_office),
                       changes.get("is_active", service.is_active))
    for name, change in changed.items():
        setattr(service, name, change["new"])
    _flush_unique()
    announce(signals.service_updated, actor_id=actor.id, details={
        "service_id": service.id, "code": service.code, "changes": changed})
    return service


@transactional
def set_memberships(actor, user_id, data):
    """Replace a user's services (PUT): active services only; the primary one defaults to the first."""
    user = get_user(user_id)
    services = active_services(data["services"], "services")
    primary = data.get("primary") or (services[0].id if services else None)
    before = [(m.service.code, m.is_primary) for m in memberships_of(user.id)]
    db.session.execute(delete(ServiceMember).where(ServiceMember.user_id == user.id))
    db.session.add_all(ServiceMember(user_id=user.id, service_id=service.id, is_primary=service.id == primary)
                       for service in services)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    announce(
        signals.memberships_changed, actor_id=actor.id, subject_user_id=user.id, email=user.email,
        details={"before": [code for code, _ in before],
                 "after": [service.code for service in services],
                 "primary": next((s.code for s in services if s.id == primary), None)})
    return user


def is_member(user_id, service_id):
    """Whether an active user belongs to the service."""
    return db.session.scalar(
        select(func.count()).select_from(ServiceMember).join(User, User.id == ServiceMember.user_id)
        .where(ServiceMember.user_id == user_id, ServiceMember.service_id == service_id,
               User.is_active.is_(True))) > 0
