"""Drafts to qualify: letters that arrived by themselves (a mailbox, a scanner), with no reference yet.

A draft is an incoming letter with `statut = a_qualifier` and no reference, seen by the mail office alone
(`documents.visibility`), in its queue « À qualifier ». The office either registers it (`qualify`: the
fields completed and checked as a letter's creation checks them, then the next reference of the gapless
counter and `en_attente`, as any letter) or sets it aside (`set_aside`: spam, duplicate; kept, audited,
out of every queue). Who may, and from which state, is `documents.rules` (`qualifier`, `ecarter`).

Registering a draft makes its registrar its `created_by` and its registration time its `created_at`: the
register (in reference order, by registration day) and the statistics count it from then, like a letter
typed in; when it was captured stays in its history.
"""
from flask import current_app
from sqlalchemy import update

from courrier import deadlines, signals
from courrier.columns import new_uuid, utcnow
from courrier.database import transactional
from courrier.deadlines import paris_today
from courrier.documents import parties, routing, rules, service, visibility
from courrier.documents.models import A_QUALIFIER, ECARTE, Attachment, Document, DocumentEvent
from courrier.documents.references import next_reference
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.search.text_jobs import queue_text_extraction
from courrier.signals import announce
from courrier.typologies.service import active_typologie

REQUIRED = "Champ obligatoire pour enregistrer le courrier."
# The fields a registration takes from the draft when the body does not give them.
DRAFT_FIELDS = ("type", "objet", "expediteur", "destinataire", "date_courrier", "date_reception", "priorite",
                "description", "typologie_id", "expediteur_id", "destinataire_id", "nature", "numero_recommande")


# ------------------------------------------------------------------ making drafts (in the caller's transaction)

def new_draft(*, objet, origine, created_by=None, expediteur="", destinataire="", date_reception=None,
              date_courrier=None, expediteur_id=None, nature="courrier_simple", capture=None, details=None):
    """Add an incoming draft to the current transaction, with its `captured` history line and audit row."""
    now = utcnow()
    document = Document(
        id=new_uuid(), reference=None, type="entrant", statut=A_QUALIFIER, objet=objet[:255],
        expediteur=expediteur[:255], destinataire=destinataire[:255], date_reception=date_reception or paris_today(now),
        date_courrier=date_courrier, expediteur_id=expediteur_id, nature=nature, priorite="normale",
        capture={"origine": origine, **(capture or {})}, created_by_id=created_by.id if created_by else None,
        created_at=now, updated_at=now)
    db.session.add(document)
    db.session.flush()
    event_details = {"origine": origine, **(details or {})}
    db.session.add(DocumentEvent(document_id=document.id, action="captured", actor_id=document.created_by_id, at=now,
                                 details=event_details))
    announce(signals.document_captured, actor_id=document.created_by_id,
             details={"document_id": document.id, "objet": document.objet, **event_details})
    return document


def attach(document, filename, content_type, stored, user=None):
    """Record a stored file as an attachment of a new draft, and send it to text extraction (or OCR)."""
    now = utcnow()
    attachment = Attachment(
        id=new_uuid(), document_id=document.id, filename=filename, content_type=content_type, size=stored.size,
        sha256=stored.sha256, storage_name=stored.key, uploaded_by_id=user.id if user else None, created_at=now)
    db.session.add(attachment)
    db.session.add(DocumentEvent(
        document_id=document.id, action="attachment_added", actor_id=user.id if user else None, at=now,
        details={"attachment_id": attachment.id, "filename": filename, "content_type": content_type,
                 "size": stored.size, "sha256": stored.sha256}))
    db.session.flush()
    queue_text_extraction(attachment)
    return attachment


# ------------------------------------------------------------------ the mail office's decisions

def _draft_for(user, document_id, action):
    viewer = visibility.viewer_of(user)
    document = service.get_document(user, document_id, viewer)
    rules.require(action, viewer, document)
    return document


def _claim(document, now, **values):
    """Change the draft only if it is still a draft: of two concurrent decisions the second gets 409."""
    claimed = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut == A_QUALIFIER)
        .values(updated_at=now, **values).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise ApiError("conflict", rules.NOT_A_DRAFT)


def registration_fields(document, data):
    """The letter's fields: the body's, else the draft's; 422 naming what a registration still lacks."""
    fields = {name: getattr(document, name) for name in DRAFT_FIELDS}
    fields.update(data)
    errors = {}
    for name in ("objet", "expediteur", "destinataire"):
        if not fields.get(name) and not (name != "objet" and fields.get(f"{name}_id")):
            errors[name] = [REQUIRED]
    if errors:
        raise ApiError("validation_error", errors=errors)
    parties.resolve_parties(fields)
    parties.check_registered_number(fields.get("nature"), fields.get("numero_recommande"))
    return fields


@transactional
def qualify(user, document_id, data):
    """Register a draft: its fields completed, the next reference, `en_attente`; routed too if asked."""
    document = _draft_for(user, document_id, "qualifier")
    routing_fields = {name: data.pop(name) for name in routing.ROUTING_FIELDS if name in data}
    routed = routing.resolve_routing(routing_fields) if routing.has_routing(routing_fields) else None
    fields = registration_fields(document, data)
    typologie = active_typologie(fields["typologie_id"]) if fields.get("typologie_id") else None
    now = utcnow()
    if fields["type"] == "entrant" and fields.get("date_reception") is None:
        fields["date_reception"] = paris_today(now)
    fields["echeance"] = deadlines.echeance(current_app.config, fields.get("date_reception") or paris_today(now),
                                            fields.get("priorite") or "normale", typologie)
    # The draft's row first (its lock), then the counter: a refused registration never spends a number.
    _claim(document, now)
    reference = next_reference(fields["type"], now.year)
    db.session.execute(
        update(Document).where(Document.id == document.id)
        .values(**fields, reference=reference, statut=rules.PENDING, created_by_id=user.id, created_at=now)
        .execution_options(synchronize_session=False))
    db.session.expire(document)
    service.record(document, "qualified", user, now, {"reference": reference})
    if routed is not None:
        before = routing.routing_state(document)
        routing.apply_routing(document, routed)
        service.record_assignment(user, document, now, before, None)
    announce(signals.document_qualified, actor_id=user.id,
             details={"document_id": document.id, "reference": reference, "objet": fields["objet"]})
    return document


@transactional
def set_aside(user, document_id, motif):
    """Set a draft aside (spam, duplicate…): kept with its reason, without a reference, out of every queue."""
    document = _draft_for(user, document_id, "ecarter")
    now = utcnow()
    _claim(document, now, statut=ECARTE, motif_ecart=motif)
    service.record(document, "set_aside", user, now, {"motif": motif})
    announce(signals.document_set_aside, actor_id=user.id,
             details={"document_id": document.id, "objet": document.objet, "motif": motif})
    db.session.expire(document)
    return document
