"""/api/typologies: everyone reads them (to register a letter), administrateurs write them."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.resources import resolver
from courrier.schemas import envelope
from courrier.typologies import service
from courrier.typologies.schemas import (
    TypologieCreateSchema, TypologieListArgsSchema, TypologieSchema, TypologieUpdateSchema,
)

blp = Blueprint("typologies", __name__, url_prefix="/api/typologies", description="Typologies et délais")


@resolver("typologie_id")
def resolve_typologie(caller, typologie_id):
    """An unknown typologie is 404 before the body is read."""
    service.get_typologie(typologie_id)


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(TypologieListArgsSchema, location="query")
@blp.response(200, envelope(TypologieSchema, many=True))
def list_typologies(args):
    """Every typologie, by code (a few dozen at most); filter `is_active`."""
    return {"data": service.list_typologies(args)}


@blp.route("", methods=["POST"])
@auth_required("administrateur")
@blp.arguments(TypologieCreateSchema)
@blp.response(201, envelope(TypologieSchema))
def create_typologie(data):
    return {"message": "Typologie créée.", "data": service.create_typologie(current_principal(), data)}


@blp.route("/<typologie_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(TypologieSchema))
def get_typologie(typologie_id):
    return {"data": service.get_typologie(typologie_id)}


@blp.route("/<typologie_id>", methods=["PATCH"])
@auth_required("administrateur")
@blp.arguments(TypologieUpdateSchema)
@blp.response(200, envelope(TypologieSchema))
def update_typologie(changes, typologie_id):
    """Change a typologie; deactivated, never deleted. Letters keep the deadline they were given."""
    return {"message": "Typologie modifiée.",
            "data": service.update_typologie(current_principal(), typologie_id, changes)}
