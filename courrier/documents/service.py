"""The mail register's rules, each in one place: who sees and does what (the role matrix of API.md
section 4 and the four-eyes rule), the workflow's transitions, reference numbers, history, attachments.

Every public function is one transaction: the change, its history row (and, for a decision, its
audit row) are committed together, or rolled back together. State changes are conditional UPDATEs
(`... WHERE statut = 'en_attente'`), so two concurrent decisions cannot both win: the database
decides, and the loser gets 409.
"""
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from blinker import Signal
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from courrier import deadlines, signals
from courrier.deadlines import paris_today
from courrier.columns import new_uuid, utcnow
from courrier.database import transactional
from courrier.documents import bannettes, correspondence, routing, storage, visibility
from courrier.documents.models import (
    REFERENCE_PREFIXES, Attachment, Document, DocumentEvent, ReferenceCounter, document_reads,
)
from courrier.errors import ApiError, validation_error
from courrier.extensions import db
from courrier.schemas import paginate
from courrier.services.service import subtree_ids
from courrier.typologies.service import active_typologie

log = logging.getLogger(__name__)

PENDING = "en_attente"

# API.md section 4. "own": documents the user created; "others": documents someone else created (the
# four-eyes rule); "all": every document; "none": never. Who sees what is `visibility.WAYS_TO_SEE`, and a
# routed letter is decided only by validateurs of its treating service or above (`require_supervisor`).
PERMISSIONS = {
    "agent": {"edit": "own", "attach": "own", "decide": "none"},
    "validateur": {"edit": "own", "attach": "own", "decide": "others"},
    "administrateur": {"edit": "all", "attach": "all", "decide": "others"},
}


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str  # the history action
    signal: Signal  # the audit event


# The workflow: from `en_attente` only, to `valide` or `rejete`; a decision is final.
TRANSITIONS = {
    "validate": Transition(PENDING, "valide", "validated", signals.document_validated),
    "reject": Transition(PENDING, "rejete", "rejected", signals.document_rejected),
}

NOT_PENDING = "Ce courrier a déjà été {statut} : il ne peut plus être modifié ni faire l'objet d'une décision."
STATUT_WORDS = {"valide": "validé", "rejete": "rejeté"}
FOUR_EYES = "Règle des quatre yeux : vous ne pouvez pas valider ou rejeter un courrier que vous avez enregistré."
FORBIDDEN = {
    "edit": "Vous ne pouvez modifier que les courriers que vous avez enregistrés.",
    "attach": "Seul l'auteur du courrier ou un administrateur peut y joindre un fichier.",
    "decide": "Seuls les validateurs et les administrateurs peuvent valider ou rejeter un courrier.",
}
NOT_SUPERVISOR = ("Seuls les validateurs du service traitant (ou d'un service supérieur) peuvent valider ou "
                  "rejeter ce courrier.")


# ------------------------------------------------------------------ rules

def is_allowed(user, action, document):
    """Whether the role matrix lets `user` do `action` (see, edit, attach, decide) on `document`."""
    scope = PERMISSIONS[user.role][action]
    if scope in ("all", "none"):
        return scope == "all"
    is_creator = document.created_by_id == user.id
    return is_creator if scope == "own" else not is_creator


def require(user, action, document):
    """403 unless the role matrix allows it; for a decision on one's own document, say it is four-eyes."""
    if is_allowed(user, action, document):
        return
    if action == "decide" and PERMISSIONS[user.role]["decide"] == "others":
        raise ApiError("forbidden", FOUR_EYES)
    raise ApiError("forbidden", FORBIDDEN[action])


def require_supervisor(user, document):
    """A routed letter is decided by a validateur of its treating service or of a service above it."""
    if document.service_id is None or user.role == "administrateur":
        return
    if not visibility.viewer_of(user).supervises(document.service_id):
        raise ApiError("forbidden", NOT_SUPERVISOR)


def require_pending(document):
    if document.statut != PENDING:
        raise conflict(document.statut)


def conflict(statut):
    return ApiError("conflict", NOT_PENDING.format(statut=STATUT_WORDS.get(statut, "traité")))


# ------------------------------------------------------------------ reading

def visible_documents(user):
    """SELECT of the documents `user` may see (`visibility`: one SQL predicate)."""
    predicate = visibility.visible_predicate(visibility.viewer_of(user))
    query = select(Document)
    return query if predicate is None else query.where(predicate)


def get_document(user, document_id):
    """The document if `user` may see it; 404 otherwise, so that its existence does not leak."""
    document = db.session.scalars(visible_documents(user).where(Document.id == document_id)).first()
    if document is None:
        raise ApiError("not_found", "Courrier introuvable.")
    return document


def escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


REGISTER_ORDER = (Document.created_at.desc(), Document.id.desc())
# A change of one of these recomputes the deadline (issue 13).
DEADLINE_INPUTS = {"priorite", "typologie_id", "date_reception"}


def documents_query(user, filters):
    """The visible documents matching the filters, newest first (then by id, so pages are stable).

    `date_from` / `date_to` are registration dates (the UTC day of `created_at`), both inclusive.
    `q` is a case-insensitive substring of the reference, objet, expediteur or destinataire: searched in
    the indexed `search` column, which holds them lower-cased (lowered by the same database function as `q`).
    """
    query = visible_documents(user)
    for name in ("statut", "type", "priorite"):
        if filters.get(name):
            query = query.where(getattr(Document, name) == filters[name])
    if filters.get("q"):
        pattern = f"%{escape_like(filters['q'])}%"
        query = query.where(Document.search.like(func.lower(pattern), escape="\\"))
    if filters.get("date_from"):
        query = query.where(Document.created_at >= day_start(filters["date_from"]))
    if filters.get("date_to"):
        query = query.where(Document.created_at < day_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("service_id"):
        service_ids = ([filters["service_id"]] if not filters.get("sous_services")
                       else subtree_ids([filters["service_id"]]) or [filters["service_id"]])
        query = query.where(Document.service_id.in_(service_ids))
    if filters.get("responsable_id"):
        query = query.where(Document.responsable_id == filters["responsable_id"])
    if filters.get("non_affecte"):
        query = query.where(Document.service_id.is_(None))
    if filters.get("bannette"):
        query = query.where(bannettes.bannette_condition(visibility.viewer_of(user), filters["bannette"]))
    return query.order_by(*REGISTER_ORDER)


def list_documents(user, filters):
    """One page of the register: `{data, meta}`; a fixed number of queries whatever the page size."""
    page = paginate(documents_query(user, filters), filters["page"], filters["per_page"],
                    keyed_by=(Document.id, REGISTER_ORDER))
    if page["data"]:
        read = set(db.session.scalars(select(document_reads.c.document_id).where(
            document_reads.c.user_id == user.id, document_reads.c.document_id.in_([d.id for d in page["data"]]))))
        for document in page["data"]:
            document.lu = document.id in read
    return page


@transactional
def mark_read(user, document):
    """The caller has seen the letter: the `en_copie` queue forgets it, `lu` says so."""
    insert_ignoring_duplicates(document_reads, document_id=document.id, user_id=user.id, read_at=utcnow())
    document.lu = True
    return document


def document_history(user, document_id):
    """The history of a visible document, oldest first, with each actor loaded in the same query."""
    document = get_document(user, document_id)
    return db.session.scalars(
        select(DocumentEvent).where(DocumentEvent.document_id == document.id)
        .order_by(DocumentEvent.at, DocumentEvent.id)).all()


# ------------------------------------------------------------------ references

def next_reference(doc_type, year):
    """The next reference of `doc_type` for `year` (`ENT-2026-000042`), inside the caller's transaction.

    The counter row of (type, year) is incremented with one `UPDATE … SET last_value = last_value + 1
    … RETURNING last_value` in the transaction that inserts the document:
    - unique and in order: on PostgreSQL the UPDATE locks the row until commit, so concurrent
      creators of one type queue behind each other and each reads the value the previous one
      committed; on SQLite the UPDATE takes the database's single write lock (busy_timeout waits);
    - gapless: a creation that fails rolls its increment back with it (a sequence would not);
    - the first document of a type and year inserts the row with `ON CONFLICT DO NOTHING`, so two
      creators racing for that first row cannot fail: the loser waits for the winner's row, then
      increments it.
    The `documents.reference` unique constraint stays as the last line of defence.
    """
    number = _increment_counter(doc_type, year)
    if number is None:
        _insert_counter_if_missing(doc_type, year)
        number = _increment_counter(doc_type, year)
    return f"{REFERENCE_PREFIXES[doc_type]}-{year:04d}-{number:06d}"


def _increment_counter(doc_type, year):
    counters = ReferenceCounter.__table__
    return db.session.execute(
        update(counters)
        .where(counters.c.type == doc_type, counters.c.year == year)
        .values(last_value=counters.c.last_value + 1)
        .returning(counters.c.last_value)).scalar_one_or_none()


def _insert_counter_if_missing(doc_type, year):
    insert_ignoring_duplicates(ReferenceCounter.__table__, type=doc_type, year=year, last_value=0)


def insert_ignoring_duplicates(table, **values):
    """INSERT … ON CONFLICT DO NOTHING, in the current transaction."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"courrier needs SQLite or PostgreSQL, not {dialect}")
    db.session.execute(insert(table).values(**values).on_conflict_do_nothing())


# ------------------------------------------------------------------ writing

@transactional
def create_document(user, data):
    """Register a document: the next reference, statut `en_attente`, a `created` history row.

    With routing fields, the letter is routed in the same transaction (an `assigned` row too).
    """
    routing_fields = {name: data.pop(name) for name in routing.ROUTING_FIELDS if name in data}
    routed = routing.resolve_routing(routing_fields) if routing.has_routing(routing_fields) else None
    typologie = active_typologie(data["typologie_id"]) if data.get("typologie_id") else None
    correspondence.resolve_parties(data)
    now = utcnow()
    if data["type"] == "entrant" and data.get("date_reception") is None:
        data["date_reception"] = now.date()
    data["echeance"] = deadlines.echeance(current_app.config, data.get("date_reception") or paris_today(now),
                                          data.get("priorite", "normale"), typologie)
    reference = next_reference(data["type"], now.year)
    document = Document(id=new_uuid(), reference=reference, statut=PENDING, created_by_id=user.id,
                        created_at=now, updated_at=now, **data)
    db.session.add(document)
    db.session.flush()
    record(document, "created", user, now, {"reference": reference})
    if routed is not None:
        before = routing.routing_state(document)
        routing.apply_routing(document, routed)
        _record_assignment(user, document, now, before, None)
    return document


@transactional
def assign_document(user, document_id, data):
    """Route or re-route a letter (who may: `routing.MAY_ASSIGN`); never a rejected one.

    The letter's row is updated first, which locks it (PostgreSQL) or takes the write lock (SQLite):
    of two concurrent routings the second waits, then reads what the first committed, so both
    apply in order and the history's "from" of each is what it really replaced.
    """
    document = get_document(user, document_id)
    viewer = visibility.viewer_of(user)
    routing.require_may_assign(viewer, document)
    routing.require_routable(document)
    locked = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut != "rejete").values(updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not locked:
        raise ApiError("conflict", routing.NOT_ROUTABLE)
    # The time is read once the lock is held, so that the history's order is the order of the routings.
    now = utcnow()
    db.session.refresh(document)
    routing.require_may_assign(viewer, document)
    routed = routing.resolve_routing(data, document)
    before = routing.routing_state(document)
    routing.apply_routing(document, routed)
    _record_assignment(user, document, now, before, data.get("motif"))
    return document


def _record_assignment(user, document, now, before, motif):
    db.session.flush()
    after = routing.routing_state(document)
    details = {"from": before, "to": after}
    if motif:
        details["motif"] = motif
    record(document, "assigned", user, now, details)
    signals.document_assigned.send(current_app._get_current_object(), actor_id=user.id,
                                   subject_user_id=document.responsable_id,
                                   details={"document_id": document.id, "reference": document.reference, **details})


@transactional
def update_document(user, document_id, changes):
    """Change the writable fields of a pending document (its creator, or an administrateur)."""
    document = get_document(user, document_id)
    require(user, "edit", document)
    require_pending(document)
    changed = {name: value for name, value in changes.items() if getattr(document, name) != value}
    if not changed:
        return document
    correspondence.resolve_parties(changed)
    correspondence.check_registered_number(changed.get("nature", document.nature),
                                           changed.get("numero_recommande", document.numero_recommande))
    if DEADLINE_INPUTS & changed.keys():
        typologie_id = changed.get("typologie_id", document.typologie_id)
        typologie = active_typologie(typologie_id) if typologie_id else None
        received = changed.get("date_reception", document.date_reception) or paris_today(document.created_at)
        changed["echeance"] = deadlines.echeance(current_app.config, received,
                                                 changed.get("priorite", document.priorite), typologie)
    now = utcnow()
    details = {"changes": {name: {"before": as_json(getattr(document, name)), "after": as_json(value)}
                           for name, value in changed.items()}}
    _update_if_statut(document, PENDING, **changed, updated_at=now)
    record(document, "updated", user, now, details)
    return document


@transactional
def decide(user, document_id, decision, motif=None):
    """Validate or reject a pending document: role matrix, four-eyes rule, then the conditional UPDATE."""
    transition = TRANSITIONS[decision]
    document = get_document(user, document_id)
    require(user, "decide", document)
    require_supervisor(user, document)
    if document.statut != transition.source:
        raise conflict(document.statut)
    now = utcnow()
    values = {"statut": transition.target, "validated_by_id": user.id, "validated_at": now, "updated_at": now}
    details = {"reference": document.reference}
    if decision == "reject":
        values["motif_rejet"] = details["motif"] = motif
    _update_if_statut(document, transition.source, **values)
    record(document, transition.action, user, now, details)
    transition.signal.send(current_app._get_current_object(), actor_id=user.id,
                           subject_user_id=document.created_by_id,
                           details={"document_id": document.id, **details})
    if decision == "validate" and document.en_reponse_a_id is not None:
        _close_answered_letter(document, user, now)
    return document


def _close_answered_letter(reply, user, now):
    """A validated reply treats the letter it answers (issue 14), with a history entry on both."""
    letter = db.session.get(Document, reply.en_reponse_a_id)
    closed = db.session.execute(
        update(Document).where(Document.id == letter.id, or_(Document.traitement_etat.is_(None),
                                                             Document.traitement_etat != "traite"))
        .values(traitement_etat="traite", traite_at=now, traite_par_id=reply.created_by_id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if closed:
        record(letter, "treated", user, now, {"reference": letter.reference, "reponse": reply.reference,
                                              "reponse_id": reply.id, "to": "traite"})
        record(reply, "answered", user, now, {"reference": letter.reference, "document_id": letter.id})


def _update_if_statut(document, expected, **values):
    """UPDATE the row only if its statut is still `expected`, else 409: the database arbitrates races.

    The ORM copy of `document` keeps its old values until the commit expires it.
    """
    result = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut == expected).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        current = db.session.scalar(select(Document.statut).where(Document.id == document.id))
        raise conflict(current)


def record(document, action, user, at, details=None):
    """Add one history row to the current transaction."""
    db.session.add(DocumentEvent(document_id=document.id, action=action, actor_id=user.id, at=at, details=details))


def as_json(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


# ------------------------------------------------------------------ attachments

def list_attachments(user, document_id):
    document = get_document(user, document_id)
    return db.session.scalars(
        select(Attachment).where(Attachment.document_id == document.id)
        .order_by(Attachment.created_at, Attachment.id)).all()


def add_attachment(user, document_id, upload):
    """Store a PDF/PNG/JPEG for a pending document (its creator or an administrateur).

    Checks come first (scope 404, role 403, statut 409, size 413, type 422), so a refused file is
    never written; the file is then written, and removed again if the database transaction fails.
    """
    document = get_document(user, document_id)
    require(user, "attach", document)
    require_pending(document)
    if upload is None:
        raise validation_error("file", "Aucun fichier reçu dans le champ « file ».")
    stored = storage.store(upload)
    try:
        return _record_attachment(user, document, upload.filename, stored)
    except BaseException:
        storage.delete(stored.storage_name)
        raise


@transactional
def _record_attachment(user, document, client_filename, stored):
    now = utcnow()
    # Touching the row re-checks the statut and, on PostgreSQL, locks it against a concurrent decision.
    _update_if_statut(document, PENDING, updated_at=now)
    attachment = Attachment(
        id=new_uuid(), document_id=document.id, filename=storage.clean_filename(client_filename, stored.content_type),
        content_type=stored.content_type, size=stored.size, sha256=stored.sha256, storage_name=stored.storage_name,
        uploaded_by_id=user.id, created_at=now)
    db.session.add(attachment)
    record(document, "attachment_added", user, now, {
        "attachment_id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def get_attachment_file(user, document_id, attachment_id):
    """The attachment of a visible document and its path on disk; 404 for anything else."""
    document = get_document(user, document_id)
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document.id)).first()
    if attachment is None:
        raise ApiError("not_found", "Pièce jointe introuvable.")
    path = storage.path_of(attachment.storage_name)
    if not storage.exists(attachment.storage_name):
        log.error("attachment %s: file %s missing from UPLOAD_FOLDER", attachment.id, attachment.storage_name)
        raise ApiError("not_found", "Pièce jointe introuvable.")
    return attachment, path
