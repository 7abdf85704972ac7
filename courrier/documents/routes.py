"""/api/documents: the mail register (API.md section 5); who may do what is `courrier.documents.rules`."""
from flask_smorest import Blueprint

from courrier import storage
from courrier.auth.guard import auth_required, current_principal
from courrier.documents import attachments, bannettes, register, replies, rules, service, treatment, visibility
from courrier.documents.schemas import (
    AcknowledgementSchema, AssignSchema, AttachmentReadTextSchema, AttachmentSchema, AttachmentUploadSchema,
    BannetteSchema, CommentSchema,
    DocumentCreateSchema, DocumentDetailSchema, DocumentListArgsSchema, DocumentUpdateSchema,
    HistoryEntrySchema, RegisterPageEnvelopeSchema, RejectSchema, ReopenSchema, ReplyCreateSchema,
)
from courrier.documents.uploads import SIGNATURES
from courrier.http import accepts_upload
from courrier.resources import resolver
from courrier.schemas import envelope

blp = Blueprint("documents", __name__, url_prefix="/api/documents", description="Registre du courrier")
queues_blp = Blueprint("bannettes", __name__, url_prefix="/api/bannettes", description="Bannettes (files de travail)")


@resolver("document_id")
def resolve_document(caller, document_id):
    """A letter the caller may not see is 404 before its body is read, like one that does not exist."""
    service.get_document(caller, document_id)


def as_seen(document):
    """One letter as the caller sees it: they are looking at it, so it is read by them (`lu`, and the
    `en_copie` queue forgets it), with the letters it links to that they may see and what they may do
    to it now (`actions`). Every route returning one letter returns this same shape."""
    user = current_principal()
    viewer = visibility.viewer_of(user)
    document = replies.with_links(user, service.mark_read(user, document), viewer)
    return rules.with_actions(viewer, [document])[0]


ATTACHMENT_TYPES = tuple(content_type for _, content_type, _ in SIGNATURES)
FILE_CONTENT = {ctype: {"schema": {"type": "string", "format": "binary"}} for ctype in ATTACHMENT_TYPES}
DOWNLOAD_RESPONSE = {
    "200": {"description": "Le fichier, en pièce jointe (Content-Disposition: attachment).", "content": FILE_CONTENT},
    "206": {"description": "La plage d'octets demandée par l'en-tête Range (Content-Range).", "content": FILE_CONTENT},
}
# The multipart part `file` and the types it may hold (recognised by content: its declared type is not trusted).
UPLOAD_ENCODING = {"content": {"multipart/form-data": {
    "encoding": {"file": {"contentType": ", ".join(ATTACHMENT_TYPES)}}}}}


@blp.route("", methods=["POST"])
@auth_required()
@blp.arguments(DocumentCreateSchema)
@blp.response(201, envelope(DocumentDetailSchema))
def create_document(data):
    """Register a document; the server gives its reference and statut `en_attente`."""
    document = service.create_document(current_principal(), data)
    return {"message": f"Courrier enregistré sous la référence {document.reference}.", "data": as_seen(document)}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(DocumentListArgsSchema, location="query")
@blp.response(200, RegisterPageEnvelopeSchema)
def list_documents(filters):
    """The register, newest first; an agent sees only the documents they registered. Each letter carries
    the caller's `actions`; `meta.actions` says what they may do with the register itself."""
    viewer = visibility.viewer_of(current_principal())
    page = service.list_documents(current_principal(), filters, viewer)
    page["meta"]["actions"] = register.register_actions(viewer)
    return page


@blp.route("/<document_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(DocumentDetailSchema))
def get_document(document_id):
    """One letter with its replies; opening it marks it read for the caller (`lu`)."""
    return {"data": as_seen(service.get_document(current_principal(), document_id))}


@blp.route("/<document_id>/reponses", methods=["POST"])
@auth_required()
@blp.arguments(ReplyCreateSchema)
@blp.response(201, envelope(DocumentDetailSchema))
def create_reply(data, document_id):
    """Register the reply to an incoming letter: a `sortant` letter pre-filled from it (objet, destinataire,
    treating service); validating the reply treats the letter."""
    reply = replies.create_reply(current_principal(), document_id, data)
    return {"message": f"Réponse enregistrée sous la référence {reply.reference}.", "data": as_seen(reply)}


@blp.route("/<document_id>/accuse-reception", methods=["POST"])
@auth_required()
@blp.arguments(AcknowledgementSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def acknowledge(data, document_id):
    """Record the date the acknowledgement of receipt came back, at any state."""
    document = replies.acknowledge(current_principal(), document_id, data["date"])
    return {"message": "Accusé de réception enregistré.", "data": as_seen(document)}


@blp.route("/<document_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(DocumentUpdateSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def update_document(changes, document_id):
    """Correct a pending document: its creator, or an administrateur."""
    document = service.update_document(current_principal(), document_id, changes)
    return {"message": "Courrier modifié.", "data": as_seen(document)}


@blp.route("/<document_id>/validate", methods=["POST"])
@auth_required()
@blp.response(200, envelope(DocumentDetailSchema))
def validate_document(document_id):
    """Validate a pending document: validateur or administrateur, never its creator."""
    document = service.decide(current_principal(), document_id, "validate")
    return {"message": "Courrier validé.", "data": as_seen(document)}


@blp.route("/<document_id>/reject", methods=["POST"])
@auth_required()
@blp.arguments(RejectSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def reject_document(data, document_id):
    """Reject a pending document with a `motif`: validateur or administrateur, never its creator."""
    document = service.decide(current_principal(), document_id, "reject", motif=data["motif"])
    return {"message": "Courrier rejeté.", "data": as_seen(document)}


@blp.route("/<document_id>/assign", methods=["POST"])
@auth_required()
@blp.arguments(AssignSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def assign_document(data, document_id):
    """Route or re-route a letter: the mail office, administrateurs, validateurs above it, its responsable."""
    document = service.assign_document(current_principal(), document_id, data)
    return {"message": f"Courrier imputé au service {document.service.code}.", "data": as_seen(document)}


def treatment_step(name, document_id, data=None):
    document = treatment.take_step(current_principal(), document_id, name, data or {})
    return {"message": treatment.TREATMENT_STEPS[name].message, "data": as_seen(document)}


@blp.route("/<document_id>/prendre-en-charge", methods=["POST"])
@auth_required()
@blp.response(200, envelope(DocumentDetailSchema))
def take_in_charge(document_id):
    """À traiter → en cours: its responsable or a member of its service (who becomes responsable if none)."""
    return treatment_step("prendre-en-charge", document_id)


@blp.route("/<document_id>/traiter", methods=["POST"])
@auth_required()
@blp.arguments(CommentSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def treat(data, document_id):
    """À traiter or en cours → traité, with an optional `commentaire`."""
    return treatment_step("traiter", document_id, data)


@blp.route("/<document_id>/rouvrir", methods=["POST"])
@auth_required()
@blp.arguments(ReopenSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def reopen(data, document_id):
    """En cours or traité → à traiter, with a `motif`: validateurs of its service or above, administrateurs."""
    return treatment_step("rouvrir", document_id, data)


@queues_blp.route("", methods=["GET"])
@auth_required()
@queues_blp.response(200, envelope(BannetteSchema, many=True))
def list_bannettes():
    """The caller's work queues with their counts (one query); `GET /api/documents?bannette=` lists one."""
    return {"data": bannettes.count_bannettes(visibility.viewer_of(current_principal()))}


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
    return {"data": attachments.list_attachments(current_principal(), document_id)}


@blp.route("/<document_id>/attachments", methods=["POST"])
@accepts_upload
@auth_required()
@blp.arguments(AttachmentUploadSchema, location="files")
@blp.doc(requestBody=UPLOAD_ENCODING)
@blp.response(201, envelope(AttachmentSchema))
def upload_attachment(files, document_id):
    """Attach a PDF, PNG or JPEG (recognised by its content) to a pending document: its creator or an admin."""
    attachment = attachments.add_attachment(current_principal(), document_id, files["file"])
    return {"message": "Pièce jointe ajoutée.", "data": attachment}


@blp.route("/<document_id>/attachments/<attachment_id>", methods=["GET"])
@auth_required()
@blp.doc(responses=DOWNLOAD_RESPONSE)
def download_attachment(document_id, attachment_id):
    """Download an attachment under its original name, always as a download, never rendered inline; a Range
    of one span is answered 206."""
    attachment = attachments.get_attachment(current_principal(), document_id, attachment_id)
    return storage.send(attachment.storage_name, filename=attachment.filename, content_type=attachment.content_type,
                        size=attachment.size)


@blp.route("/<document_id>/attachments/<attachment_id>/texte", methods=["GET"])
@auth_required()
@blp.response(200, envelope(AttachmentReadTextSchema))
def read_attachment_text(document_id, attachment_id):
    """The text read from an attachment (its state, and the text once extracted or recognised): what the viewer
    shows of an e-mail or a text file, parsed by the server, never by the browser."""
    attachment = attachments.get_attachment(current_principal(), document_id, attachment_id)
    return {"data": {"etat": attachment.texte_etat, "motif": attachment.texte_motif, "texte": attachment.texte}}


OCR_RESPONSE = {
    "200": {"description": "Le PDF cherchable, en pièce jointe.", "content": {"application/pdf": FILE_CONTENT[
        "application/pdf"]}},
    "206": {"description": "La plage d'octets demandée par l'en-tête Range.", "content": {
        "application/pdf": FILE_CONTENT["application/pdf"]}},
}


@blp.route("/<document_id>/attachments/<attachment_id>/ocr", methods=["GET"])
@auth_required()
@blp.doc(responses=OCR_RESPONSE)
def download_searchable_pdf(document_id, attachment_id):
    """Download the searchable PDF that OCR made of a scan (the original stays at the attachment's route); 404
    while there is none."""
    attachment = attachments.get_searchable_pdf(current_principal(), document_id, attachment_id)
    return storage.send(attachment.ocr_storage_name, filename=attachments.searchable_pdf_name(attachment),
                        content_type="application/pdf", size=attachment.ocr_size)
