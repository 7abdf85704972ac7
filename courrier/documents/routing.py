"""Routing a letter (imputation): the treating service, its responsable, the copy list.

Who may route is a table (`rules.MAY_ASSIGN`); what a routing may name is checked against the database (active
services, active users, a responsable who belongs to the treating service), and a bad id is a 422, never a 500.
"""
from dataclasses import dataclass

from courrier.auth.models import User
from courrier.errors import ApiError
from courrier.services.service import active_by_id, active_services, is_member

RESPONSABLE_NOT_MEMBER = "Le responsable doit être un membre actif du service traitant."
RESPONSABLE_WITHOUT_SERVICE = "Choisissez d'abord le service traitant."
UNKNOWN_USERS = "Utilisateur(s) inconnu(s) ou désactivé(s) : {ids}."
ROUTING_FIELDS = ("service_id", "responsable_id", "copie_service_ids", "copie_user_ids")


@dataclass
class Routing:
    """A checked routing; `None` copies mean "leave the copy list as it is"."""

    service: object
    responsable: object
    copy_services: list | None
    copy_users: list | None


def active_users(user_ids, field):
    return active_by_id(User, user_ids, field, UNKNOWN_USERS)


def resolve_routing(data, document=None):
    """Check the routing fields of a request against the database; `document` is the letter re-routed.

    An omitted `responsable_id` keeps the current responsable while the service stays the same.
    """
    service = None
    if data.get("service_id") is not None:
        service = active_services([data["service_id"]], "service_id")[0]
    if "responsable_id" in data:
        responsable_id = data["responsable_id"]
    elif document is not None and service is not None and document.service_id == service.id:
        responsable_id = document.responsable_id
    else:
        responsable_id = None
    responsable = None
    if responsable_id is not None:
        if service is None:
            raise ApiError("validation_error", errors={"responsable_id": [RESPONSABLE_WITHOUT_SERVICE]})
        responsable = active_users([responsable_id], "responsable_id")[0]
        if not is_member(responsable.id, service.id):
            raise ApiError("validation_error", errors={"responsable_id": [RESPONSABLE_NOT_MEMBER]})
    copy_services = (active_services(data["copie_service_ids"], "copie_service_ids")
                     if data.get("copie_service_ids") is not None else None)
    copy_users = (active_users(data["copie_user_ids"], "copie_user_ids")
                  if data.get("copie_user_ids") is not None else None)
    return Routing(service, responsable, copy_services, copy_users)


def apply_routing(document, routing):
    document.service = routing.service
    document.responsable = routing.responsable
    if routing.copy_services is not None:
        document.copy_services = routing.copy_services
    if routing.copy_users is not None:
        document.copy_users = routing.copy_users


def routing_state(document):
    """What the history records of a routing: who treats the letter and who has a copy."""
    def person(user):
        return {"id": user.id, "nom": user.nom, "prenom": user.prenom} if user else None

    def unit(service):
        return {"id": service.id, "code": service.code, "nom": service.nom} if service else None

    return {"service": unit(document.service), "responsable": person(document.responsable),
            "copies": {"services": [unit(s) for s in document.copy_services],
                       "users": [person(u) for u in document.copy_users]}}


def has_routing(data):
    return any(data.get(name) for name in ROUTING_FIELDS)
