"""/api/services: the organisation tree; everyone reads it (to route letters), administrateurs write it."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.resources import resolver
from courrier.schemas import envelope
from courrier.services import service
from courrier.services.schemas import (
    ServiceCreateSchema, ServiceListArgsSchema, ServiceMemberSchema, ServiceSchema, ServiceUpdateSchema,
)

blp = Blueprint("services", __name__, url_prefix="/api/services", description="Services et imputation")

admin_only = auth_required("administrateur")


@resolver("service_id")
def resolve_service(caller, service_id):
    """An unknown service is 404 before the body is read."""
    service.get_service(service_id)


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(ServiceListArgsSchema, location="query")
@blp.response(200, envelope(ServiceSchema, many=True))
def list_services(args):
    """Every service, by code; filters `q` (code or nom), `is_active` and `parent_id`."""
    return {"data": service.list_services(args)}


@blp.route("", methods=["POST"])
@admin_only
@blp.arguments(ServiceCreateSchema)
@blp.response(201, envelope(ServiceSchema))
def create_service(data):
    """Add a service (administrateurs); `code` is unique whatever its case."""
    return {"message": "Service créé.", "data": service.create_service(current_principal(), data)}


@blp.route("/<service_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(ServiceSchema))
def get_service(service_id):
    return {"data": service.get_service(service_id)}


@blp.route("/<service_id>", methods=["PATCH"])
@admin_only
@blp.arguments(ServiceUpdateSchema)
@blp.response(200, envelope(ServiceSchema))
def update_service(changes, service_id):
    """Rename, move, deactivate or make the mail office (administrateurs); never deleted."""
    return {"message": "Service modifié.", "data": service.update_service(current_principal(), service_id, changes)}


@blp.route("/<service_id>/members", methods=["GET"])
@auth_required()
@blp.response(200, envelope(ServiceMemberSchema, many=True))
def list_members(service_id):
    """The service's active members, by name: whom a letter routed there may have as responsable."""
    return {"data": service.active_members(service_id)}
