"""The audit log in words, for the Journal screen: a French label per event type and each event's details
as « label : value » lines, with names instead of ids and dates as people write them.

The rows keep their raw `details` (the chain hashes them, scripts read them); this is only how a page of
them is shown. Ids that only the database can name (a responsable, a parent service, a typologie) are
read in one query per kind for the whole page (`describe`), never one per event.
"""
from datetime import date

from sqlalchemy import select

from courrier.auth.models import User
from courrier.extensions import db
from courrier.services.models import Service
from courrier.typologies.models import Typologie

EVENT_LABELS = {
    "login_succeeded": "Connexion réussie",
    "login_failed": "Échec de connexion",
    "logout": "Déconnexion",
    "logout_all": "Déconnexion de toutes les sessions",
    "token_refreshed": "Session prolongée",
    "refresh_reuse_detected": "Réutilisation d'un jeton détectée",
    "password_changed": "Mot de passe modifié",
    "user_created": "Utilisateur créé",
    "user_updated": "Utilisateur modifié",
    "sessions_revoked": "Déconnexion forcée",
    "document_validated": "Courrier validé",
    "document_rejected": "Courrier rejeté",
    "document_assigned": "Courrier imputé",
    "service_created": "Service créé",
    "service_updated": "Service modifié",
    "memberships_changed": "Services d'un utilisateur modifiés",
    "document_taken_in_charge": "Courrier pris en charge",
    "document_treated": "Courrier traité",
    "document_reopened": "Courrier rouvert",
    "typologie_changed": "Typologie créée ou modifiée",
    "notifications_changed": "Notifications par e-mail modifiées",
    "contacts_merged": "Correspondants fusionnés",
    "contact_deleted": "Correspondant supprimé",
    "register_exported": "Registre exporté",
    "mfa_enabled": "Double authentification activée",
    "mfa_disabled": "Double authentification désactivée",
    "mfa_failed": "Code de double authentification refusé",
    "mfa_recovery_used": "Code de secours utilisé",
    "mfa_reset": "Double authentification réinitialisée",
    "reauthenticated": "Identité confirmée",
    "oidc_identity_linked": "Compte ProConnect associé",
    "document_captured": "Courrier reçu à qualifier (courriel ou numérisation)",
    "document_qualified": "Courrier qualifié et enregistré",
    "document_set_aside": "Courrier reçu écarté",
}

YES_NO = {True: "oui", False: "non"}
VALUES = {
    "method": {"password": "mot de passe", "oidc": "ProConnect"},
    "restriction": {"password_change_required": "changement du mot de passe imposé",
                    "mfa_enrollment_required": "activation de la double authentification imposée"},
    "reason": {
        "unknown_email": "adresse inconnue", "wrong_password": "mot de passe erroné", "inactive": "compte désactivé",
        "reauthentication": "confirmation d'identité", "login_code": "code de connexion",
        "recovery_code": "code de secours", "disable_code": "code de désactivation",
        "enrolment_code": "code d'activation", "state_invalid": "connexion ProConnect expirée ou déjà utilisée",
        "provider_error": "réponse de ProConnect invalide", "provider_denied": "annulée sur ProConnect",
        "siret_not_allowed": "établissement (SIRET) non autorisé", "account_inactive": "compte désactivé",
        "account_unknown": "aucun compte pour cette identité ProConnect"},
    "role": {"agent": "agent", "validateur": "validateur", "administrateur": "administrateur"},
    "via": {"cli": "ligne de commande"},
    "source": {"import": "import d'un fichier"},
    "format": {"csv": "CSV", "pdf": "PDF"},
    "etat": {"a_traiter": "à traiter", "en_cours": "en cours", "traite": "traité"},
    "mode": {"normal": "normal", "sva": "silence vaut acceptation", "svr": "silence vaut rejet"},
    "contact_type": {"personne": "personne", "organisation": "organisation"},
    "is_active": {True: "actif", False: "désactivé"},
    "notifications_email": {True: "activées", False: "désactivées"},
    "origine": {"courriel": "courriel (boîte aux lettres)", "numerisation": "numérisation"},
}

# key -> (label, how its value reads: a VALUES table's name, "bool", "user", "service", "typologie", "date",
# "text"). Keys absent here and from the types' own describers are not shown: ids of sessions, and the letter's
# id and reference, which are the event's `document` (a link).
KEYS = {
    "method": ("Méthode", "method"),
    "mfa": ("Double authentification", "bool"),
    "restriction": ("Restriction", "restriction"),
    "reason": ("Motif", "reason"),
    "role": ("Rôle", "role"),
    "via": ("Origine", "via"),
    "source": ("Origine", "source"),
    "revoked": ("Sessions fermées", "text"),
    "revoked_sessions": ("Sessions fermées", "text"),
    "remaining": ("Codes de secours restants", "text"),
    "had_mfa": ("Double authentification active avant", "bool"),
    "password_change_required": ("À changer à la première connexion", "bool"),
    "required_change": ("Changement imposé à la connexion", "bool"),
    "notifications_email": ("Notifications par e-mail", "notifications_email"),
    "issuer": ("Fournisseur d'identité", "text"),
    "motif": ("Motif", "text"),
    "commentaire": ("Commentaire", "text"),
    "responsable_id": ("Responsable", "user"),
    "parent_id": ("Service parent", "service"),
    "is_mail_office": ("Bureau du courrier", "bool"),
    "typologie_id": ("Typologie", "typologie"),
    "format": ("Format", "format"),
    "rows": ("Lignes exportées", "text"),
    "documents": ("Courriers déplacés", "text"),
    "objet": ("Objet", "text"),
    "origine": ("Origine", "origine"),
    "fichier": ("Fichier", "text"),
    "message_id": ("Message-ID", "text"),
    "type": ("Type", "contact_type"),  # a deleted contact's (the register's type is read by `_register`)
}
# The fields of a `changes` or `created` dict (user, service, typologie), in words.
FIELDS = {
    "role": ("Rôle", "role"), "is_active": ("État", "is_active"), "nom": ("Nom", "text"),
    "prenom": ("Prénom", "text"), "contact": ("Contact", "text"), "code": ("Code", "text"),
    "email": ("Adresse électronique", "text"), "parent_id": ("Service parent", "service"),
    "is_mail_office": ("Bureau du courrier", "bool"), "delai_jours": ("Délai (jours ouvrés)", "text"),
    "mode": ("Mode", "mode"),
}
ID_KINDS = {"user": User, "service": Service, "typologie": Typologie}


class Names:
    """The names of the ids a page of events mentions, read in one query per kind."""

    def __init__(self, wanted):
        self.found = {kind: {} for kind in ID_KINDS}
        for kind, ids in wanted.items():
            model = ID_KINDS[kind]
            if ids:
                for row in db.session.scalars(select(model).where(model.id.in_(ids))):
                    self.found[kind][row.id] = row

    def of(self, kind, value):
        row = self.found[kind].get(value)
        if row is None:
            return "(supprimé)" if value else "aucun"
        if kind == "user":
            return f"{row.prenom} {row.nom}"
        return f"{row.code} — {row.nom}"


def _read(how, value, names):
    if value is None or value == "":
        return "aucun"
    if how in ID_KINDS:
        return names.of(how, value)
    if how == "bool":
        return YES_NO.get(value, str(value))
    if how == "date":
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    if how in VALUES:
        return VALUES[how].get(value, str(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "aucun"
    return str(value)


def _wanted_ids(details, wanted):
    """Add the ids `details` names to `wanted` (kind -> set)."""
    for key, value in details.items():
        how = KEYS.get(key, (None, None))[1]
        if how in ID_KINDS and isinstance(value, str):
            wanted[how].add(value)
    for section in ("changes", "created"):
        for name, change in (details.get(section) or {}).items():
            how = FIELDS.get(name, (None, None))[1]
            values = (change.get("old"), change.get("new")) if isinstance(change, dict) else (change,)
            if how in ID_KINDS:
                wanted[how].update(value for value in values if isinstance(value, str))


# ---------------------------------------------------------------------------------- the events with a shape

def _unit(unit):
    return unit["code"] if unit else "aucun"


def _person(person):
    return f"{person['prenom']} {person['nom']}" if person else "personne"


def _move(before, after):
    return after if before in ("aucun", "personne") else f"de {before} à {after}"


def _routing(details):
    """An imputation: what changed between `from` and `to` (routing.routing_state)."""
    before, after = details.get("from") or {}, details.get("to") or {}
    lines = []
    if _unit(before.get("service")) != _unit(after.get("service")):
        lines.append(("Service", _move(_unit(before.get("service")), _unit(after.get("service")))))
    if _person(before.get("responsable")) != _person(after.get("responsable")):
        lines.append(("Responsable", _move(_person(before.get("responsable")), _person(after.get("responsable")))))

    def copies(state):
        held = (state or {}).get("copies") or {}
        return [_unit(s) for s in held.get("services") or []] + [_person(u) for u in held.get("users") or []]

    had, has = copies(before), copies(after)
    added, removed = [c for c in has if c not in had], [c for c in had if c not in has]
    if added:
        lines.append(("Copies ajoutées", ", ".join(added)))
    if removed:
        lines.append(("Copies retirées", ", ".join(removed)))
    return lines


def _treatment(details):
    """A treatment step: the state it went from and to."""
    return [("État", f"de {_read('etat', details.get('from'), None)} à {_read('etat', details.get('to'), None)}")]


def _memberships(details):
    before, after = details.get("before") or [], details.get("after") or []
    lines = [("Services", _move(", ".join(before) or "aucun", ", ".join(after) or "aucun"))]
    if details.get("primary"):
        lines.append(("Service principal", details["primary"]))
    return lines


def _service(details):
    name = details.get("code") or ""
    if details.get("nom"):
        name = f"{name} — {details['nom']}"
    return [("Service", name)] if name else []


def _register(details):
    lines = [("Registre", f"courrier {details['type']}")] if details.get("type") else []
    if details.get("date_from") and details.get("date_to"):
        lines.append(("Période", f"du {_read('date', details['date_from'], None)} "
                                 f"au {_read('date', details['date_to'], None)}"))
    return lines


def _contacts(details):
    lines = [("Correspondant", details["nom"])] if details.get("nom") else []
    if details.get("from"):
        lines += [("Fusionné", details["from"]), ("Conservé", details.get("into") or "")]
    return lines


# Per type: its own lines first (keys it reads itself are then skipped), then the generic keys.
SHAPES = {
    "document_assigned": (_routing, {"from", "to"}),
    "document_taken_in_charge": (_treatment, {"from", "to"}),
    "document_treated": (_treatment, {"from", "to"}),
    "document_reopened": (_treatment, {"from", "to"}),
    "memberships_changed": (_memberships, {"before", "after", "primary"}),
    "service_created": (_service, {"code", "nom"}),
    "service_updated": (_service, {"code"}),
    "register_exported": (_register, {"type", "date_from", "date_to"}),
    "contact_deleted": (_contacts, {"nom"}),
    "contacts_merged": (_contacts, {"from", "into"}),
}


def _changes(details, names):
    lines = []
    for name, change in (details.get("changes") or {}).items():
        label, how = FIELDS.get(name, (name, "text"))
        if isinstance(change, dict) and "new" in change:
            lines.append((label, f"{_read(how, change.get('old'), names)} → {_read(how, change['new'], names)}"))
    for name, value in (details.get("created") or {}).items():
        label, how = FIELDS.get(name, (name, "text"))
        lines.append((label, _read(how, value, names)))
    return lines


def summary(event, names):
    """The event's details as (label, value) lines."""
    details = event.details if isinstance(event.details, dict) else {}
    shape, own_keys = SHAPES.get(event.type, (None, set()))
    lines = shape(details) if shape else []
    for key, value in details.items():
        if key in own_keys or key not in KEYS or value is None:
            continue
        label, how = KEYS[key]
        lines.append((label, _read(how, value, names)))
    lines += _changes(details, names)
    return [{"label": label, "value": value} for label, value in lines]


def describe(events):
    """Give each event of a page its `label`, its `summary` lines and the `document` it concerns, if any."""
    wanted = {kind: set() for kind in ID_KINDS}
    for event in events:
        if isinstance(event.details, dict):
            _wanted_ids(event.details, wanted)
    names = Names(wanted)
    for event in events:
        details = event.details if isinstance(event.details, dict) else {}
        event.label = EVENT_LABELS.get(event.type, event.type)
        event.summary = summary(event, names)
        event.document = ({"id": details["document_id"], "reference": details.get("reference")}
                          if details.get("document_id") else None)
    return events
