"""/api/documents: the mail register (API.md section 5); the rules live in `courrier.documents.service`."""
from flask import send_file
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.documents import service
from courrier.documents.schemas import (
    AssignSchema, AttachmentSchema, AttachmentUploadSchema, DocumentCreateSchema, DocumentListArgsSchema,
    DocumentSchema, DocumentUpdateSchema, HistoryEntrySchema, RejectSchema,
)
from courrier.http import accepts_upload
from courrier.schemas import envelope

blp = Blueprint("documents", __name__, url_prefix="/api/documents", description="Registre du courrier")

accepts_upload("documents.upload_attachment")

DOWNLOAD_RESPONSE = {"200": {
    "description": "Le fichier, en pièce jointe (Content-Disposition: attachment).",
    "content": {ctype: {"schema": {"type": "string", "format": "binary"}}
                for ctype in ("application/pdf", "image/png", "image/jpeg")},
}}


@blp.route("", methods=["POST"])
@auth_required()
@blp.arguments(DocumentCreateSchema)
@blp.response(201, envelope(DocumentSchema))
def create_document(data):
    """Register a document; the server gives its reference and statut `en_attente`."""
    document = service.create_document(current_principal(), data)
    return {"message": f"Courrier enregistré sous la référence {document.reference}.", "data": document}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(DocumentListArgsSchema, location="query")
@blp.response(200, envelope(DocumentSchema, paginated=True))
def list_documents(filters):
    """The register, newest first; an agent sees only the documents they registered."""
    return service.list_documents(current_principal(), filters)


@blp.route("/<document_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(DocumentSchema))
def get_document(document_id):
    return {"data": service.get_document(current_principal(), document_id)}


@blp.route("/<document_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(DocumentUpdateSchema)
@blp.response(200, envelope(DocumentSchema))
def update_document(changes, document_id):
    """Correct a pending document: its creator, or an administrateur."""
    document = service.update_document(current_principal(), document_id, changes)
    return {"message": "Courrier modifié.", "data": document}


@blp.route("/<document_id>/validate", methods=["POST"])
@auth_required()
@blp.response(200, envelope(DocumentSchema))
def validate_document(document_id):
    """Validate a pending document: validateur or administrateur, never its creator."""
    return {"message": "Courrier validé.", "data": service.decide(current_principal(), document_id, "validate")}


@blp.route("/<document_id>/reject", methods=["POST"])
@auth_required()
@blp.arguments(RejectSchema)
@blp.response(200, envelope(DocumentSchema))
def reject_document(data, document_id):
    """Reject a pending document with a `motif`: validateur or administrateur, never its creator."""
    document = service.decide(current_principal(), document_id, "reject", motif=data["motif"])
    return {"message": "Courrier rejeté.", "data": document}


@blp.route("/<document_id>/assign", methods=["POST"])
@auth_required()
@blp.arguments(AssignSchema)
@blp.response(200, envelope(DocumentSchema))
def assign_document(data, document_id):
    """Route or re-route a letter: the mail office, administrateurs, validateurs above it, its responsable."""
    document = service.assign_document(current_principal(), document_id, data)
    return {"message": f"Courrier imputé au service {document.service.code}.", "data": document}


@blp.route("/<document_id>/history", methods=["GET"])
@auth_required()
@blp.response(200, envelope(HistoryEntrySchema, many=True))
def document_history(document_id):
    """What happened to the document, oldest first: created, updated, attachment_added, validated, rejected."""
    return {"data": service.document_history(current_principal(), document_id)}


@blp.route("/<document_id>/attachments", methods=["GET"])
@auth_required()
@blp.response(200, envelope(AttachmentSchema, many=True))
def list_attachments(document_id):
    return {"data": service.list_attachments(current_principal(), document_id)}


@blp.route("/<document_id>/attachments", methods=["POST"])
@auth_required()
@blp.arguments(AttachmentUploadSchema, location="files")
@blp.response(201, envelope(AttachmentSchema))
def upload_attachment(files, document_id):
    """Attach a PDF, PNG or JPEG (recognised by its content) to a pending document: its creator or an admin."""
    attachment = service.add_attachment(current_principal(), document_id, files["file"])
    return {"message": "Pièce jointe ajoutée.", "data": attachment}


@blp.route("/<document_id>/attachments/<attachment_id>", methods=["GET"])
@auth_required()
@blp.doc(responses=DOWNLOAD_RESPONSE)
def download_attachment(document_id, attachment_id):
    """Download an attachment under its original name, always as a download, never rendered inline."""
    attachment, path = service.get_attachment_file(current_principal(), document_id, attachment_id)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
