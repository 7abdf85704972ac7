"""Who receives a notice: users who are active and have not turned e-mail notifications off, or a service's
own mailbox (`services.email`), else that service's members. Never the person whose action caused it."""
from dataclasses import dataclass

from sqlalchemy import select

from courrier.auth.models import User
from courrier.extensions import db
from courrier.services.models import Service, ServiceMember


@dataclass(frozen=True)
class Recipient:
    user_id: str | None  # None for a service's mailbox
    email: str


def _reachable(query):
    return query.where(User.is_active.is_(True), User.notifications_email.is_(True))


def users(user_ids):
    """The users among `user_ids` who want e-mails."""
    if not user_ids:
        return []
    rows = db.session.execute(_reachable(select(User.id, User.email).where(User.id.in_(list(user_ids))))
                              .order_by(User.email))
    return [Recipient(row.id, row.email) for row in rows]


def services(service_ids, members=True):
    """Each service's mailbox if it has one, else (with `members`) its members who want e-mails."""
    if not service_ids:
        return []
    found = db.session.execute(select(Service.id, Service.email).where(Service.id.in_(list(service_ids)))).all()
    recipients = [Recipient(None, row.email) for row in found if row.email]
    without_mailbox = [row.id for row in found if not row.email]
    if members and without_mailbox:
        rows = db.session.execute(_reachable(
            select(User.id, User.email).join(ServiceMember, ServiceMember.user_id == User.id)
            .where(ServiceMember.service_id.in_(without_mailbox))).distinct().order_by(User.email))
        recipients += [Recipient(row.id, row.email) for row in rows]
    return recipients


class RecipientList:
    """The recipients of one event, each address once (the first, most specific, kind wins), never the actor."""

    def __init__(self, actor_id=None):
        self.actor_id = actor_id
        self.kinds = {}

    def add(self, kind, recipients):
        for recipient in recipients:
            if recipient.user_id is not None and recipient.user_id == self.actor_id:
                continue
            self.kinds.setdefault(recipient.email.strip().lower(), (kind, recipient))

    def __iter__(self):
        return iter(self.kinds.values())
