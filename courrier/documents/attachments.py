"""A letter's attachments (PDF, PNG, JPEG): listing, adding one to a pending letter, reading one back.

The files are in the store (`courrier.storage`), under the SHA-256 of their bytes; the rows and their
history line are in the letter's transaction. Two attachments of the same bytes share one object.
"""
import logging

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from courrier import storage
from courrier.columns import new_uuid, utcnow
from courrier.database import transactional
from courrier.documents import rules, service, uploads, visibility
from courrier.documents.models import Attachment, Document
from courrier.errors import ApiError, validation_error
from courrier.extensions import db
from courrier.search import text_jobs

log = logging.getLogger(__name__)

ATTACHMENTS = Attachment.__table__.c
storage.register_reference(storage.Reference(
    "pièces jointes", id=ATTACHMENTS.id, key=ATTACHMENTS.storage_name, sha256=ATTACHMENTS.sha256,
    size=ATTACHMENTS.size))
# The searchable PDF that OCR made of a scan (courrier.search.text_jobs), stored beside the original.
storage.register_reference(storage.Reference(
    "PDF cherchables (OCR)", id=ATTACHMENTS.id, key=ATTACHMENTS.ocr_storage_name, size=ATTACHMENTS.ocr_size))


def list_attachments(user, document_id):
    document = service.get_document(user, document_id)
    return db.session.scalars(
        select(Attachment).where(Attachment.document_id == document.id)
        .order_by(Attachment.created_at, Attachment.id)).all()


def add_attachment(user, document_id, upload):
    """Store a PDF/PNG/JPEG for a pending document (its creator or an administrateur).

    Checks come first (scope 404, role 403, statut 409, size 413, type 422), so a refused file is
    never stored; the file is then stored, and discarded again if the database transaction fails
    (unless another row names the same bytes).
    """
    viewer = visibility.viewer_of(user)
    document = service.get_document(user, document_id, viewer)
    rules.require("joindre", viewer, document)
    if upload is None:
        raise validation_error("file", "Aucun fichier reçu dans le champ « file ».")
    content_type = uploads.check_upload(upload)
    try:
        stored = storage.current().put(upload.stream)
    except storage.StorageUnavailable as error:
        log.error("store unavailable storing an attachment of document %s: %s", document.id, error)
        raise storage.unavailable_error() from None
    try:
        attachment = _record_attachment(user, document, upload.filename, content_type, stored)
    except BaseException:
        storage.discard(stored, upload.stream)
        raise
    storage.ensure(stored, upload.stream)
    return attachment


@transactional
def _record_attachment(user, document, client_filename, content_type, stored):
    now = utcnow()
    # Touching the row re-checks the statut and, on PostgreSQL, locks it against a concurrent decision.
    service.update_if_statut(document, rules.PENDING, updated_at=now)
    attachment = Attachment(
        id=new_uuid(), document_id=document.id, filename=uploads.clean_filename(client_filename, content_type),
        content_type=content_type, size=stored.size, sha256=stored.sha256, storage_name=stored.key,
        uploaded_by_id=user.id, created_at=now)
    db.session.add(attachment)
    text_jobs.queue_text_extraction(attachment)  # read after commit, by a worker (extraction or OCR)
    service.record(document, "attachment_added", user, now, {
        "attachment_id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def get_attachment(user, document_id, attachment_id):
    """The attachment of a visible document; 404 for anything else.

    One query when it is there (a download needs none of the letter's columns, nor the uploader); the
    letter is read only to tell which 404 it is.
    """
    visible = service.visible_documents(user).where(Document.id == document_id).with_only_columns(Document.id)
    attachment = db.session.scalars(
        select(Attachment).options(lazyload(Attachment.uploaded_by))
        .where(Attachment.id == attachment_id, Attachment.document_id.in_(visible))).first()
    if attachment is None:
        service.get_document(user, document_id)
        raise ApiError("not_found", "Pièce jointe introuvable.")
    return attachment


def get_searchable_pdf(user, document_id, attachment_id):
    """The attachment (of a visible document) whose scan OCR made searchable; 404 while there is no such PDF."""
    attachment = get_attachment(user, document_id, attachment_id)
    if attachment.ocr_storage_name is None or attachment.ocr_size is None:
        raise ApiError("not_found", "Pas de PDF cherchable pour cette pièce jointe (pas un scan, ou pas encore lu).")
    return attachment


def searchable_pdf_name(attachment):
    """`scan.png` → `scan (texte).pdf`: the download name of its searchable PDF."""
    stem = attachment.filename.rsplit(".", 1)[0] if "." in attachment.filename else attachment.filename
    return f"{stem[:240]} (texte).pdf"
