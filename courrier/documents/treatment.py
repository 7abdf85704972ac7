"""The treatment of a letter: its states, who moves it between them, and its deadline.

Who may take which step from which state is `rules.TREATMENT_STEPS` and `rules.MAY_TREAT`.
`a_traiter` is not stored: a valid letter with a treating service and no stored state is to be
treated. `en_cours` and `traite` are stored in `traitement_etat`, changed by conditional UPDATEs like
the decisions, so two concurrent clicks cannot both win.
"""
from flask import current_app
from sqlalchemy import or_, select, update

from courrier import deadlines
from courrier.columns import utcnow
from courrier.database import transactional
from courrier.documents import rules, service, visibility
from courrier.documents.models import EN_COURS, TRAITE, Document
from courrier.documents.rules import A_TRAITER, TREATMENT_STEPS, WRONG_STATE, etat_of
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.signals import announce

SVA_SVR = {
    "sva": "Silence vaut acceptation : sans réponse à l'échéance, la demande sera réputée acceptée.",
    "svr": "Silence vaut rejet : sans réponse à l'échéance, la demande sera réputée rejetée.",
}


def traitement_of(document, today=None):
    """The `traitement` object of a document as of today (Europe/Paris)."""
    config = current_app.config
    today = today or deadlines.paris_today()
    etat = etat_of(document.statut, document.service_id, document.traitement_etat)
    open_ = document.statut != "rejete" and etat != TRAITE and document.echeance is not None
    late = open_ and document.echeance < today
    mode = document.typologie.mode if document.typologie is not None else "normal"
    return {
        "etat": etat,
        "echeance": document.echeance,
        "en_retard": late,
        "bientot_en_retard": open_ and not late and deadlines.due_soon(config, document.echeance, today),
        "traite_at": document.traite_at,
        "traite_par": document.traite_par,
        "commentaire": document.traitement_commentaire,
        "mode": mode,
        "silence": SVA_SVR.get(mode),
    }


# ------------------------------------------------------------------ the steps

def _stored_state_is_one_of(sources):
    column = Document.traitement_etat
    return or_(*(column.is_(None) if source is None else column == source for source in sources))


@transactional
def take_step(user, document_id, name, data):
    """Take a treatment step (TREATMENT_STEPS) on a letter: who may, from which state, as one conditional UPDATE."""
    step = TREATMENT_STEPS[name]
    viewer = visibility.viewer_of(user)
    document = service.get_document(user, document_id, viewer)
    before = etat_of(document.statut, document.service_id, document.traitement_etat)
    rules.require(rules.STEP_ACTIONS[name], viewer, document)
    now = utcnow()
    values = {"traitement_etat": step.target, "updated_at": now}
    details = {"reference": document.reference, "from": before, "to": step.target or A_TRAITER}
    if step.target == TRAITE:
        values.update(traite_at=now, traite_par_id=user.id, traitement_commentaire=data.get("commentaire"))
    elif step.target is None:
        values.update(traite_at=None, traite_par_id=None, traitement_commentaire=None)
    if data.get("commentaire") or data.get("motif"):
        details["commentaire" if "commentaire" in data else "motif"] = data.get("commentaire") or data.get("motif")
    if step.target == EN_COURS and document.responsable_id is None and document.service_id in viewer.service_ids:
        values["responsable_id"] = details["responsable_id"] = user.id
    updated = db.session.execute(
        update(Document).where(Document.id == document.id, Document.statut == "valide",
                               Document.service_id.is_not(None), _stored_state_is_one_of(step.sources))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if updated != 1:
        db.session.rollback()
        current = db.session.execute(select(Document.statut, Document.service_id, Document.traitement_etat)
                                     .where(Document.id == document.id)).one()
        raise ApiError("conflict", WRONG_STATE[etat_of(*current)])
    service.record(document, step.action, user, now, details)
    announce(step.signal, actor_id=user.id, subject_user_id=document.created_by_id,
             details={"document_id": document.id, **details})
    db.session.expire(document)
    return document
