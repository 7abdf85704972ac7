"""Work queues (bannettes): each one a predicate over the letters the caller may see.

The queues are a table: who they apply to and which letters they hold. Each queue's condition implies
that the caller may see the letter (a queue only names letters through the ways of seeing them: their
services, their responsabilité, their copies, what they registered, or everything for those who see
everything), so each is counted on its own, as one scalar subquery that an index answers, and all
counts are one statement. Counting them over every visible letter instead read 20,000 rows for a
validateur at 100,000 letters (the benchmark).
"""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import and_, exists, func, or_, select

from courrier import deadlines
from courrier.documents.models import A_QUALIFIER, EN_COURS, TRAITE, UNREGISTERED, Document, document_reads
from courrier.documents.visibility import copied_to_services, copied_to_user
from courrier.extensions import db


@dataclass(frozen=True)
class Bannette:
    libelle: str
    applies: Callable  # (viewer) -> bool
    holds: Callable  # (viewer, today) -> SQL condition


def not_treated():
    return or_(Document.traitement_etat.is_(None), Document.traitement_etat != TRAITE)


def to_qualify(viewer, today):
    """Drafts: captured from the mailbox or scanned, not registered yet (courrier.capture)."""
    return Document.statut == A_QUALIFIER


def to_route(viewer, today):
    """Pending, or valid with no treating service (a rejected letter needs nothing more)."""
    return or_(Document.statut == "en_attente", and_(Document.statut == "valide", Document.service_id.is_(None)))


def to_validate(viewer, today):
    routed_below = Document.service_id.in_(viewer.supervised_ids) if viewer.supervised_ids else False
    return and_(Document.statut == "en_attente", Document.created_by_id != viewer.id,
                or_(Document.service_id.is_(None), routed_below))


def to_treat(viewer, today):
    mine = Document.responsable_id == viewer.id
    unassigned_in_my_services = (and_(Document.responsable_id.is_(None), Document.service_id.in_(viewer.service_ids))
                                 if viewer.service_ids else False)
    return and_(Document.statut == "valide", Document.service_id.is_not(None),
                or_(Document.traitement_etat.is_(None), Document.traitement_etat == EN_COURS),
                or_(mine, unassigned_in_my_services))


def coming(viewer, today):
    """Pending letters routed to the caller's services: on their way, not yet to treat (ix_documents_queue_statut)."""
    return and_(Document.statut == "en_attente", Document.service_id.in_(viewer.service_ids))


def in_copy_unread(viewer, today):
    copied = [copied_to_user(viewer)] + ([copied_to_services(viewer)] if viewer.service_ids else [])
    read = exists().where(document_reads.c.document_id == Document.id, document_reads.c.user_id == viewer.id)
    return and_(or_(*copied), ~read)


def late(viewer, today):
    # Drafts and set-aside letters have no deadline (`echeance` is given at registration): never late.
    overdue = and_(Document.statut != "rejete", not_treated(), Document.echeance < today)
    if viewer.sees_all:
        return overdue
    services = viewer.service_ids | viewer.supervised_ids
    mine = [Document.responsable_id == viewer.id] + ([Document.service_id.in_(services)] if services else [])
    return and_(overdue, or_(*mine))


def registered_by_me(viewer, today):
    return and_(Document.created_by_id == viewer.id, not_treated(), Document.statut.not_in(UNREGISTERED))


def everyone(viewer):
    return True


# In the order the home screen shows them.
BANNETTES = {
    "a_qualifier": Bannette("À qualifier", lambda v: v.sees_all, to_qualify),
    "a_orienter": Bannette("À orienter", lambda v: v.sees_all, to_route),
    "a_valider": Bannette("À valider", lambda v: v.role == "validateur", to_validate),
    "a_traiter": Bannette("À traiter", everyone, to_treat),
    # A service's agents learn what is coming before it is validated; its validateurs find it in `a_valider`,
    # the mail office in `a_orienter`.
    "a_venir": Bannette("En attente de validation", lambda v: v.role == "agent" and bool(v.service_ids)
                        and not v.sees_all, coming),
    "en_copie": Bannette("En copie, non lus", everyone, in_copy_unread),
    "en_retard": Bannette("En retard", everyone, late),
    "mes_enregistrements": Bannette("Mes enregistrements en cours", everyone, registered_by_me),
}


def bannette_condition(viewer, code, today=None):
    return BANNETTES[code].holds(viewer, today or deadlines.paris_today())


def count_bannettes(viewer):
    """[{code, libelle, count}] of the queues that apply to `viewer`, in one statement."""
    today = deadlines.paris_today()
    applying = [(code, bannette) for code, bannette in BANNETTES.items() if bannette.applies(viewer)]
    counts = db.session.execute(select(*(
        select(func.count()).select_from(Document).where(bannette.holds(viewer, today)).scalar_subquery().label(code)
        for code, bannette in applying))).one()
    return [{"code": code, "libelle": bannette.libelle, "count": getattr(counts, code)} for code, bannette in applying]
