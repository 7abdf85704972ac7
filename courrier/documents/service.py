"""The mail register's workflow: reading the visible letters, registering, correcting, deciding, routing.

Who may do what is `rules` (the tables); reference numbers are `references`, attachments `attachments`.

Every public function is one transaction: the change, its history row (and, for a decision, its
audit row) are committed together, or rolled back together. State changes are conditional UPDATEs
(`... WHERE statut = 'en_attente'`), so two concurrent decisions cannot both win: the database
decides, and the loser gets 409.
"""
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import or_, select, update

from courrier import deadlines, signals
from courrier.signals import announce
from courrier.deadlines import paris_today
from courrier.columns import new_uuid, utcnow
from courrier.database import insert_ignoring_duplicates, paginate, transactional
from courrier.documents import bannettes, history, parties, routing, rules, visibility
from courrier.documents.models import Document, DocumentEvent, document_reads
from courrier.documents.references import next_reference
from courrier.errors import ApiError
from courrier.search import query as search_query
from courrier.extensions import db
from courrier.services.service import subtree_ids
from courrier.typologies.service import active_typologie


# ------------------------------------------------------------------ reading

def visible_documents(user, viewer=None):
    """SELECT of the documents `user` may see (`visibility`: one SQL predicate)."""
    predicate = visibility.visible_predicate(viewer or visibility.viewer_of(user))
    query = select(Document)
    return query if predicate is None else query.where(predicate)


def get_document(user, document_id, viewer=None):
    """The document if `user` may see it; 404 otherwise, so that its existence does not leak."""
    document = db.session.scalars(visible_documents(user, viewer).where(Document.id == document_id)).first()
    if document is None:
        raise ApiError("not_found", "Courrier introuvable.")
    return document


def day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


REGISTER_ORDER = (Document.created_at.desc(), Document.id.desc())
# A change of one of these recomputes the deadline.
DEADLINE_INPUTS = {"priorite", "typologie_id", "date_reception"}


def documents_query(user, filters, viewer=None):
    """The visible documents matching the filters, newest first (then by id, so pages are stable).

    `date_from` / `date_to` are registration dates (the UTC day of `created_at`), both inclusive.
    `q` is full-text (courrier.search.query): every word of it, case- and accent-blind, in the reference,
    objet, correspondents, registered-mail number or attachments' text.
    """
    viewer = viewer or visibility.viewer_of(user)
    query = visible_documents(user, viewer)
    for name in ("statut", "type", "priorite"):
        if filters.get(name):
            query = query.where(getattr(Document, name) == filters[name])
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
        query = query.where(bannettes.bannette_condition(viewer, filters["bannette"]))
    return query.order_by(*REGISTER_ORDER)


def list_documents(user, filters, viewer=None):
    """One page of the register: `{data, meta}`, each letter with `lu` and `actions` (and with `q`, its
    `extrait`); a fixed number of queries whatever the page size (the caller's Viewer is read once).

    With `q`, the letters match it (the filters and visibility still apply), by relevance unless
    `tri=date`; only the page's letters get an extract."""
    viewer = viewer or visibility.viewer_of(user)
    query = documents_query(user, filters, viewer)
    if not filters.get("q"):
        page = paginate(query, filters["page"], filters["per_page"], keyed_by=(Document.id, REGISTER_ORDER))
    else:
        query, rank = search_query.matching(query, filters["q"], viewer)
        by_relevance = rank is not None and filters.get("tri", "pertinence") == "pertinence"
        page = search_query.ranked_page(query, (rank, *REGISTER_ORDER) if by_relevance else REGISTER_ORDER,
                                        filters["page"], filters["per_page"])
        search_query.with_extracts(page["data"], filters["q"], viewer)
    as_listed(user, viewer, page["data"])
    return page


def with_read_marks(user, documents):
    """Set `lu` on each document: whether `user` has opened it (one query for them all)."""
    if documents:
        reads = document_reads.c
        read = set(db.session.scalars(select(reads.document_id).where(
            reads.user_id == user.id, reads.document_id.in_([d.id for d in documents]))))
        for document in documents:
            document.lu = document.id in read
    return documents


def as_listed(user, viewer, documents):
    """Letters as a list returns them: each with the caller's `lu` and `actions`."""
    return rules.with_actions(viewer, with_read_marks(user, documents))


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


# ------------------------------------------------------------------ writing

@transactional
def create_document(user, data):
    """Register a document: the next reference, statut `en_attente`, a `created` history row.

    With routing fields, the letter is routed in the same transaction (an `assigned` row too).
    """
    routing_fields = {name: data.pop(name) for name in routing.ROUTING_FIELDS if name in data}
    routed = routing.resolve_routing(routing_fields) if routing.has_routing(routing_fields) else None
    typologie = active_typologie(data["typologie_id"]) if data.get("typologie_id") else None
    parties.resolve_parties(data)
    now = utcnow()
    if data["type"] == "entrant" and data.get("date_reception") is None:
        data["date_reception"] = paris_today(now)  # the day the office opened it, as the form prefills it
    data["echeance"] = deadlines.echeance(current_app.config, data.get("date_reception") or paris_today(now),
                                          data.get("priorite", "normale"), typologie)
    reference = next_reference(data["type"], now.year)
    document = Document(id=new_uuid(), reference=reference, statut=rules.PENDING, created_by_id=user.id,
                        created_at=now, updated_at=now, **data)
    db.session.add(document)
    db.session.flush()
    record(document, "created", user, now, {"reference": reference})
    if routed is not None:
        before = routing.routing_state(document)
        routing.apply_routing(document, routed)
        record_assignment(user, document, now, before, None)
    return document


@transactional
def assign_document(user, document_id, data):
    """Route or re-route a letter (who may: `rules.MAY_ASSIGN`); never a rejected one.

    The letter's row is updated first, which locks it (PostgreSQL) or takes the write lock (SQLite):
    of two concurrent routings the second waits, then reads what the first committed, so both
    apply in order and the history's "from" of each is what it really replaced.
    """
    viewer = visibility.viewer_of(user)
    document = get_document(user, document_id, viewer)
    rules.require("affecter", viewer, document)
    locked = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut != "rejete").values(updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not locked:
        raise ApiError("conflict", rules.NOT_ROUTABLE)
    # The time is read once the lock is held, so that the history's order is the order of the routings.
    now = utcnow()
    db.session.refresh(document)
    rules.require("affecter", viewer, document, checks=(rules.may_assign,))
    routed = routing.resolve_routing(data, document)
    before = routing.routing_state(document)
    routing.apply_routing(document, routed)
    record_assignment(user, document, now, before, data.get("motif"))
    return document


def record_assignment(user, document, now, before, motif):
    db.session.flush()
    details = history.routing_change(before, routing.routing_state(document), motif)
    record(document, "assigned", user, now, details)
    announce(signals.document_assigned, actor_id=user.id,
             subject_user_id=document.responsable_id,
             details={"document_id": document.id, "reference": document.reference, **details})


@transactional
def update_document(user, document_id, changes):
    """Change the writable fields of a pending document (its creator, or an administrateur)."""
    viewer = visibility.viewer_of(user)
    document = get_document(user, document_id, viewer)
    rules.require("modifier", viewer, document)
    changed = {name: value for name, value in changes.items() if getattr(document, name) != value}
    if not changed:
        return document
    parties.resolve_parties(changed)
    parties.check_registered_number(changed.get("nature", document.nature),
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
    update_if_statut(document, rules.PENDING, **changed, updated_at=now)
    record(document, "updated", user, now, details)
    return document


@transactional
def decide(user, document_id, decision, motif=None):
    """Validate or reject a pending document: the rules' checks (`rules.ACTIONS`), then the conditional UPDATE."""
    transition = rules.TRANSITIONS[decision]
    viewer = visibility.viewer_of(user)
    document = get_document(user, document_id, viewer)
    rules.require(rules.DECISION_ACTIONS[decision], viewer, document)
    now = utcnow()
    values = {"statut": transition.target, "validated_by_id": user.id, "validated_at": now, "updated_at": now}
    details = {"reference": document.reference}
    if decision == "reject":
        values["motif_rejet"] = details["motif"] = motif
    update_if_statut(document, transition.source, **values)
    record(document, transition.action, user, now, details)
    announce(transition.signal, actor_id=user.id,
             subject_user_id=document.created_by_id,
             details={"document_id": document.id, **details})
    if decision == "validate" and document.en_reponse_a_id is not None:
        _close_answered_letter(document, user, now)
    return document


def _close_answered_letter(reply, user, now):
    """A validated reply treats the letter it answers, with a history entry on both."""
    # Locked first (PostgreSQL; SQLite's write lock is already held), so that `from` is the state replaced.
    letter = db.session.scalars(select(Document).where(Document.id == reply.en_reponse_a_id)
                                .with_for_update(of=Document).execution_options(populate_existing=True)).one()
    before = rules.etat_of(letter.statut, letter.service_id, letter.traitement_etat)
    closed = db.session.execute(
        update(Document).where(Document.id == letter.id, or_(Document.traitement_etat.is_(None),
                                                             Document.traitement_etat != "traite"))
        .values(traitement_etat="traite", traite_at=now, traite_par_id=reply.created_by_id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if closed:
        record(letter, "treated", user, now, {"reference": letter.reference, "reponse": reply.reference,
                                              "reponse_id": reply.id, "from": before, "to": "traite"})
        record(reply, "answered", user, now, {"reference": letter.reference, "document_id": letter.id})


def update_if_statut(document, expected, **values):
    """UPDATE the row only if its statut is still `expected`, else 409: the database arbitrates races.

    The ORM copy of `document` keeps its old values until the commit expires it.
    """
    result = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut == expected).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        current = db.session.scalar(select(Document.statut).where(Document.id == document.id))
        raise rules.conflict(current)


def record(document, action, user, at, details=None):
    """Add one history row to the current transaction."""
    db.session.add(DocumentEvent(document_id=document.id, action=action, actor_id=user.id, at=at, details=details))


def as_json(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value
