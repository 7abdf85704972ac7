"""The one place audit rows are written: a receiver per domain signal, adding to the current transaction.

At flush, courrier.audit.chain gives each new row its place and hash in the chain.
"""
from flask import has_request_context, request

from courrier.audit.chain import connect_chain
from courrier.audit.models import AuditEvent
from courrier.extensions import db
from courrier.signals import AUDITED_SIGNALS


def _receiver_for(event_type):
    def record(sender, actor_id=None, subject_user_id=None, email=None, details=None, **_):
        ip = user_agent = None
        if has_request_context():
            ip = request.remote_addr
            user_agent = (request.user_agent.string or "")[:512] or None
        db.session.add(AuditEvent(
            type=event_type, actor_id=actor_id, subject_user_id=subject_user_id, email=email,
            ip=ip, user_agent=user_agent, details=details))

    record.__name__ = f"record_{event_type}"
    return record


# Built once, so connecting again (one app per test) never doubles a receiver.
_RECEIVERS = {signal: _receiver_for(signal.name) for signal in AUDITED_SIGNALS}


def connect_audit_listeners():
    connect_chain()
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver, weak=False)
