"""Who may do what to a letter, as tables: the role matrix, the workflow, routing, treatment, replies.

Each action of the API is a row of `ACTIONS`: the checks it must pass, in the order the route makes them.
A check is a predicate `(viewer, document) -> None | ApiError` (the refusal, with its status: 403 for
who, 409 for the letter's state). The routes raise the first refusal (`require`); a letter's `actions`
(what the caller may do to it now, read by the web client's buttons) are the actions with none
(`actions_of`). One table for both, so a button is never offered that the server then refuses.

The checks read the `Viewer` (`visibility.viewer_of`: the caller's role, services, sub-trees) and the
letter's own columns, never the database: a page of 100 letters costs no query more for their actions.
Visibility comes first and is not here: a letter the caller may not see is 404.
"""
from dataclasses import dataclass

from blinker import Signal

from courrier import signals
from courrier.documents.models import A_QUALIFIER, ECARTE, EN_COURS, REGISTERED_NATURES, TRAITE, UNREGISTERED
from courrier.errors import ApiError

PENDING = "en_attente"
A_TRAITER = "a_traiter"

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


@dataclass(frozen=True)
class TreatmentStep:
    sources: tuple  # the stored states it starts from (None: à traiter)
    target: str | None  # the stored state it leads to (None: back to à traiter)
    action: str  # the history action
    signal: Signal  # the audit event
    who: str  # "treaters" or "supervisors", see `MAY_TREAT`
    message: str  # the success message


TREATMENT_STEPS = {
    "prendre-en-charge": TreatmentStep((None,), EN_COURS, "taken_in_charge", signals.document_taken_in_charge,
                                       "treaters", "Courrier pris en charge."),
    "traiter": TreatmentStep((None, EN_COURS), TRAITE, "treated", signals.document_treated, "treaters",
                             "Courrier traité."),
    "rouvrir": TreatmentStep((EN_COURS, TRAITE), None, "reopened", signals.document_reopened, "supervisors",
                             "Courrier rouvert : il est de nouveau à traiter."),
}

# ------------------------------------------------------------------ messages

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
NOT_ROUTABLE = "Ce courrier a été rejeté : il ne peut plus être imputé."
MAY_NOT_ASSIGN = ("Seuls le bureau du courrier, les administrateurs, les validateurs du service traitant (ou d'un "
                  "service supérieur) et le responsable du courrier peuvent l'imputer.")
WRONG_STATE = {
    None: "Ce courrier n'est pas à traiter : il doit être validé et imputé à un service.",
    A_TRAITER: "Ce courrier est à traiter : il n'a pas été pris en charge ni traité.",
    EN_COURS: "Ce courrier est déjà pris en charge.",
    TRAITE: "Ce courrier est déjà traité.",
}
MAY_NOT_TREAT = {
    "treaters": "Seuls le responsable du courrier, les membres du service traitant et les administrateurs "
                "peuvent le traiter.",
    "supervisors": "Seuls les validateurs du service traitant (ou d'un service supérieur) et les administrateurs "
                   "peuvent rouvrir un courrier.",
}
NOT_INCOMING = "Seul un courrier entrant appelle une réponse."
MAY_NOT_REPLY = ("Seuls son auteur, son responsable, les membres de son service traitant, le bureau du courrier et "
                 "les administrateurs peuvent répondre à ce courrier.")
NOT_REGISTERED = ("Seul un courrier recommandé a un accusé de réception : changez d'abord sa nature "
                  "(recommandé, recommandé avec AR) et son numéro.")
NOT_A_DRAFT = "Ce courrier est déjà enregistré (ou écarté) : il n'est plus à qualifier."
UNREGISTERED_LETTER = {
    A_QUALIFIER: "Ce courrier n'est pas encore enregistré : qualifiez-le d'abord (POST /qualifier).",
    ECARTE: "Ce courrier a été écarté : il n'a jamais été enregistré.",
}
MAY_NOT_QUALIFY = ("Seuls le bureau du courrier et les administrateurs qualifient les courriers reçus par courriel "
                   "ou numérisés.")
MAY_NOT_ACKNOWLEDGE = ("Seuls son auteur, son responsable, les membres de son service traitant, le bureau du courrier "
                       "et les administrateurs peuvent enregistrer l'accusé de réception.")

# ------------------------------------------------------------------ who: tables of rules

# Who may route or re-route a letter they see: anyone for whom one of these holds.
MAY_ASSIGN = {
    "administrateur": lambda viewer, document: viewer.role == "administrateur",
    "mail_office": lambda viewer, document: viewer.in_mail_office,
    "validateur_above": lambda viewer, document: viewer.role == "validateur" and viewer.supervises(document.service_id),
    "responsable": lambda viewer, document: document.responsable_id == viewer.id,
}

# Who may take a treatment step, by its `who`: anyone for whom one rule holds.
MAY_TREAT = {
    "treaters": (
        lambda viewer, document: viewer.role == "administrateur",
        lambda viewer, document: document.responsable_id == viewer.id,
        lambda viewer, document: document.service_id in viewer.service_ids,
    ),
    "supervisors": (
        lambda viewer, document: viewer.role == "administrateur",
        lambda viewer, document: viewer.role == "validateur" and viewer.supervises(document.service_id),
    ),
}


def is_allowed(viewer, action, document):
    """Whether the role matrix lets the caller do `action` (edit, attach, decide) on `document`."""
    scope = PERMISSIONS[viewer.role][action]
    if scope in ("all", "none"):
        return scope == "all"
    is_creator = document.created_by_id == viewer.id
    return is_creator if scope == "own" else not is_creator


def may_treat(viewer, document, who):
    return any(rule(viewer, document) for rule in MAY_TREAT[who])


def may_handle(viewer, letter):
    """Who answers a letter or records its acknowledgement: its author, its treaters, the mail office."""
    return letter.created_by_id == viewer.id or viewer.in_mail_office or may_treat(viewer, letter, "treaters")


def etat_of(statut, service_id, stored):
    """The treatment state shown: null unless the letter is valid and routed."""
    if statut != "valide" or service_id is None:
        return None
    return stored or A_TRAITER


def conflict(statut):
    if statut in UNREGISTERED_LETTER:
        return ApiError("conflict", UNREGISTERED_LETTER[statut])
    return ApiError("conflict", NOT_PENDING.format(statut=STATUT_WORDS.get(statut, "traité")))


# ------------------------------------------------------------------ the checks: (viewer, document) -> refusal

def role_allows(permission):
    def check(viewer, document):
        if is_allowed(viewer, permission, document):
            return None
        if permission == "decide" and PERMISSIONS[viewer.role]["decide"] == "others":
            return ApiError("forbidden", FOUR_EYES)
        return ApiError("forbidden", FORBIDDEN[permission])
    return check


def supervising(viewer, document):
    """A routed letter is decided by a validateur of its treating service or of a service above it."""
    if document.service_id is None or viewer.role == "administrateur" or viewer.supervises(document.service_id):
        return None
    return ApiError("forbidden", NOT_SUPERVISOR)


def pending(viewer, document):
    return None if document.statut == PENDING else conflict(document.statut)


def may_assign(viewer, document):
    if any(rule(viewer, document) for rule in MAY_ASSIGN.values()):
        return None
    return ApiError("forbidden", MAY_NOT_ASSIGN)


def routable(viewer, document):
    return ApiError("conflict", NOT_ROUTABLE) if document.statut == "rejete" else None


def treaters_of(step_name):
    who = TREATMENT_STEPS[step_name].who

    def check(viewer, document):
        return None if may_treat(viewer, document, who) else ApiError("forbidden", MAY_NOT_TREAT[who])
    return check


def in_state_for(step_name):
    step = TREATMENT_STEPS[step_name]

    def check(viewer, document):
        before = etat_of(document.statut, document.service_id, document.traitement_etat)
        if before is None or document.traitement_etat not in step.sources:
            return ApiError("conflict", WRONG_STATE[before])
        return None
    return check


def incoming(viewer, document):
    return None if document.type == "entrant" else ApiError("conflict", NOT_INCOMING)


def registered(viewer, document):
    """Only registered mail has a signed acknowledgement of receipt that comes back."""
    return None if document.nature in REGISTERED_NATURES else ApiError("conflict", NOT_REGISTERED)


def handler(message):
    def check(viewer, document):
        return None if may_handle(viewer, document) else ApiError("forbidden", message)
    return check


def mail_office(viewer, document):
    """Drafts are the mail office's (its members, and administrateurs: with no mail office defined, they)."""
    return None if viewer.sees_all else ApiError("forbidden", MAY_NOT_QUALIFY)


def draft(viewer, document):
    return None if document.statut == A_QUALIFIER else ApiError("conflict", NOT_A_DRAFT)


def registered_letter(viewer, document):
    """A draft or a set-aside letter has no reference yet: nobody routes it, answers it or acknowledges it."""
    return conflict(document.statut) if document.statut in UNREGISTERED else None


# The actions of the API (the vocabulary of a letter's `actions`), each with its checks in the order the
# route makes them; the route itself runs them through `require`.
ACTIONS = {
    "modifier": (role_allows("edit"), pending),
    "valider": (role_allows("decide"), supervising, pending),
    "rejeter": (role_allows("decide"), supervising, pending),
    "affecter": (may_assign, registered_letter, routable),
    "prendre_en_charge": (treaters_of("prendre-en-charge"), in_state_for("prendre-en-charge")),
    "traiter": (treaters_of("traiter"), in_state_for("traiter")),
    "rouvrir": (treaters_of("rouvrir"), in_state_for("rouvrir")),
    "repondre": (incoming, handler(MAY_NOT_REPLY), registered_letter),
    "joindre": (role_allows("attach"), pending),
    "accuser_reception": (handler(MAY_NOT_ACKNOWLEDGE), registered, registered_letter),
    # Drafts (courrier.capture): register one (the next reference, then `en_attente`), or set it aside.
    "qualifier": (mail_office, draft),
    "ecarter": (mail_office, draft),
}
# The route's name of a decision or a treatment step, and its action.
DECISION_ACTIONS = {"validate": "valider", "reject": "rejeter"}
STEP_ACTIONS = {"prendre-en-charge": "prendre_en_charge", "traiter": "traiter", "rouvrir": "rouvrir"}


def refusal(action, viewer, document):
    """The first refusal of `action` on `document` for the caller (an ApiError, not raised), or None."""
    for check in ACTIONS[action]:
        refused = check(viewer, document)
        if refused is not None:
            return refused
    return None


def require(action, viewer, document, *, checks=None):
    """Raise the refusal of `action` (or of those of its `checks` given), if any."""
    for check in checks or ACTIONS[action]:
        refused = check(viewer, document)
        if refused is not None:
            raise refused


def actions_of(viewer, document):
    """What the caller may do to the letter now, in the order of `ACTIONS`."""
    return [action for action in ACTIONS if refusal(action, viewer, document) is None]


def with_actions(viewer, documents):
    """Set `actions` on each document (what the schema dumps); no query, whatever their number."""
    for document in documents:
        document.actions = actions_of(viewer, document)
    return documents
