"""/api/contacts: the correspondents directory; everyone writes it, administrateurs delete and merge."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.contacts import importer, service
from courrier.contacts.schemas import (
    ContactCreateSchema, ContactListArgsSchema, ContactSchema, ContactUpdateSchema, ForceArgsSchema, MergeResultSchema,
    MergeSchema,
)
from courrier.csvfile import csv_download
from courrier.documents.schemas import DocumentSchema
from courrier.resources import resolver
from courrier.schemas import MessageEnvelopeSchema, PaginationArgsSchema, envelope

blp = Blueprint("contacts", __name__, url_prefix="/api/contacts", description="Correspondants")

admin_only = auth_required("administrateur")


@resolver("contact_id")
def resolve_contact(caller, contact_id):
    """An unknown contact is 404 before the body or the query is read."""
    service.get_contact(contact_id)


CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(ContactListArgsSchema, location="query")
@blp.response(200, envelope(ContactSchema, paginated=True))
@blp.doc(responses=CSV_RESPONSE)
def list_contacts(filters):
    """The directory, alphabetically; `q` ignores case and accents; `format=csv` exports every match."""
    if filters["format"] == "csv":
        return csv_download(importer.csv_chunks(service.iter_contacts(filters)), "correspondants.csv")
    return service.list_contacts(filters)


@blp.route("", methods=["POST"])
@auth_required()
@blp.arguments(ForceArgsSchema, location="query")
@blp.arguments(ContactCreateSchema)
@blp.response(201, envelope(ContactSchema))
def create_contact(args, data):
    """Add a contact; one with the same name (or organisation) and postcode is a 409 unless `force=true`."""
    contact = service.create_contact(current_principal(), data, force=args["force"])
    return {"message": "Correspondant créé.", "data": contact}


@blp.route("/<contact_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(ContactSchema))
def get_contact(contact_id):
    return {"data": service.get_contact(contact_id)}


@blp.route("/<contact_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(ContactUpdateSchema)
@blp.response(200, envelope(ContactSchema))
def update_contact(changes, contact_id):
    """Correct a contact; the letters keep the sender and recipient text they were registered with."""
    contact = service.update_contact(current_principal(), contact_id, changes)
    return {"message": "Correspondant modifié.", "data": contact}


@blp.route("/<contact_id>", methods=["DELETE"])
@admin_only
@blp.response(200, MessageEnvelopeSchema)
def delete_contact(contact_id):
    """Delete a contact no letter names (administrateurs); otherwise 409: merge it instead."""
    service.delete_contact(current_principal(), contact_id)
    return {"message": "Correspondant supprimé."}


@blp.route("/<contact_id>/merge", methods=["POST"])
@admin_only
@blp.arguments(MergeSchema)
@blp.response(200, envelope(MergeResultSchema))
def merge_contact(data, contact_id):
    """Move this contact's letters to `into`, with a history line on each, then delete it (administrateurs)."""
    result = service.merge_contact(current_principal(), contact_id, data["into"])
    return {"message": f"Correspondants fusionnés : {result['documents']} courrier(s) déplacé(s).", "data": result}


@blp.route("/<contact_id>/documents", methods=["GET"])
@auth_required()
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, envelope(DocumentSchema, paginated=True))
def contact_documents(args, contact_id):
    """The letters from or to this contact that the caller may see, newest first."""
    return service.contact_documents(current_principal(), contact_id, args["page"], args["per_page"])
