"""Domain signals → outbox rows, added to the transaction of the change (like courrier.audit.listeners).

A routing notifies its new responsable, the new treating service (its mailbox, or its members when
nobody in particular is in charge) and the newly copied users and services; a decision notifies the
letter's registrar. The sender (sender.py) delivers them after the commit; a rolled-back change
leaves no mail behind.
"""
from courrier import signals
from courrier.documents.models import Document
from courrier.extensions import db
from courrier.notifications import mails, recipients
from courrier.notifications.models import Notification


def queue(kind, document, recipient, motif=None, dedup_key=None):
    """The outbox row of one mail (added to the session; the caller's transaction commits it)."""
    mail = mails.render(kind, document, motif)
    return Notification(user_id=recipient.user_id, to_email=recipient.email, kind=kind, document_id=document.id,
                        subject=mail.subject, body_text=mail.text, body_html=mail.html, dedup_key=dedup_key)


def _id(item):
    return item["id"] if item else None


def on_assigned(sender, actor_id=None, details=None, **_):
    before, after = details["from"], details["to"]
    listed = recipients.RecipientList(actor_id)
    responsable_id, service_id = _id(after["responsable"]), _id(after["service"])
    if responsable_id and responsable_id != _id(before["responsable"]):
        listed.add("assigned", recipients.users([responsable_id]))
    if service_id and service_id != _id(before["service"]):
        listed.add("assigned_service", recipients.services([service_id], members=responsable_id is None))
    new_copies = {
        kind: {item["id"] for item in after["copies"][kind]} - {item["id"] for item in before["copies"][kind]}
        for kind in ("users", "services")}
    listed.add("copy", recipients.users(new_copies["users"]))
    listed.add("copy", recipients.services(new_copies["services"]))
    _queue_all(listed, details["document_id"], details.get("motif"))


def _on_decision(kind):
    def on_decided(sender, actor_id=None, subject_user_id=None, details=None, **_):
        listed = recipients.RecipientList(actor_id)
        listed.add(kind, recipients.users([subject_user_id] if subject_user_id else []))
        _queue_all(listed, details["document_id"], details.get("motif"))

    on_decided.__name__ = f"notify_{kind}"
    return on_decided


def _queue_all(listed, document_id, motif):
    found = list(listed)
    if not found:
        return
    document = db.session.get(Document, document_id)
    for kind, recipient in found:
        db.session.add(queue(kind, document, recipient, motif))


# Built once, so connecting again (one app per test) never doubles a receiver.
_RECEIVERS = {
    signals.document_assigned: on_assigned,
    signals.document_validated: _on_decision("validated"),
    signals.document_rejected: _on_decision("rejected"),
}


def connect_notification_listeners():
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver, weak=False)
