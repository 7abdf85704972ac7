"""Drafts to qualify (under /api/documents) and scans in bulk (/api/numerisations): the mail office's routes."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.capture import drafts, scans
from courrier.capture.files import SCAN_SIGNATURES
from courrier.capture.schemas import QualifySchema, ScansUploadSchema, SetAsideSchema
from courrier.documents import replies, rules, service, visibility
from courrier.documents.schemas import DocumentDetailSchema, DocumentSchema
from courrier.http import accepts_upload
from courrier.schemas import envelope

blp = Blueprint("capture", __name__, url_prefix="/api/documents",
                description="Capture et brouillons à qualifier (courriels, numérisations)")


def as_seen(document):
    """The letter as every route returning one letter returns it (documents.routes does the same): read by the
    caller, with the linked letters they may see and what they may do to it now."""
    user = current_principal()
    viewer = visibility.viewer_of(user)
    document = replies.with_links(user, service.mark_read(user, document), viewer)
    return rules.with_actions(viewer, [document])[0]


SCAN_TYPES = sorted({content_type for _, content_type, _ in SCAN_SIGNATURES})
SCANS_ENCODING = {"content": {"multipart/form-data": {"encoding": {"file": {"contentType": ", ".join(SCAN_TYPES)}}}}}


@blp.route("/<document_id>/qualifier", methods=["POST"])
@auth_required()
@blp.arguments(QualifySchema)
@blp.response(200, envelope(DocumentDetailSchema))
def qualify(data, document_id):
    """Register a draft (the mail office): its fields completed, the next reference, statut `en_attente`."""
    document = drafts.qualify(current_principal(), document_id, data)
    return {"message": f"Courrier enregistré sous la référence {document.reference}.", "data": as_seen(document)}


@blp.route("/<document_id>/ecarter", methods=["POST"])
@auth_required()
@blp.arguments(SetAsideSchema)
@blp.response(200, envelope(DocumentDetailSchema))
def set_aside(data, document_id):
    """Set a draft aside with a `motif` (spam, duplicate): kept and audited, out of every queue."""
    document = drafts.set_aside(current_principal(), document_id, data["motif"])
    return {"message": "Brouillon écarté.", "data": as_seen(document)}


# Not under /api/documents: a static path beside /api/documents/<document_id> would also answer that rule's
# methods (an OPTIONS or a 405 would advertise GET and PATCH).
scans_blp = Blueprint("scans", __name__, url_prefix="/api/numerisations",
                      description="Numérisations déposées en nombre : un brouillon à qualifier par fichier")


@scans_blp.route("", methods=["POST"])
@accepts_upload(files=scans.MAX_FILES)
@auth_required()
@scans_blp.arguments(ScansUploadSchema, location="files")
@scans_blp.doc(requestBody=SCANS_ENCODING)
@scans_blp.response(201, envelope(DocumentSchema, many=True))
def drop_scans(files):
    """Scans in bulk (the mail office): one draft to qualify per file, each file attached and sent to OCR."""
    user = current_principal()
    documents = scans.drop_scans(user, files["file"])
    viewer = visibility.viewer_of(user)
    return {"message": f"{len(documents)} brouillon(s) à qualifier créé(s).",
            "data": rules.with_actions(viewer, documents)}
