"""A letter's attachments (PDF, PNG, JPEG): listing, adding one to a pending letter, reading one back.

The files are on disk (`storage`); the rows and their history line are in the letter's transaction.
"""
import logging

from sqlalchemy import select

from courrier.columns import new_uuid, utcnow
from courrier.database import transactional
from courrier.documents import rules, service, storage, visibility
from courrier.documents.models import Attachment
from courrier.errors import ApiError, validation_error
from courrier.extensions import db

log = logging.getLogger(__name__)


def list_attachments(user, document_id):
    document = service.get_document(user, document_id)
    return db.session.scalars(
        select(Attachment).where(Attachment.document_id == document.id)
        .order_by(Attachment.created_at, Attachment.id)).all()


def add_attachment(user, document_id, upload):
    """Store a PDF/PNG/JPEG for a pending document (its creator or an administrateur).

    Checks come first (scope 404, role 403, statut 409, size 413, type 422), so a refused file is
    never written; the file is then written, and removed again if the database transaction fails.
    """
    viewer = visibility.viewer_of(user)
    document = service.get_document(user, document_id, viewer)
    rules.require("joindre", viewer, document)
    if upload is None:
        raise validation_error("file", "Aucun fichier reçu dans le champ « file ».")
    stored = storage.store(upload)
    try:
        return _record_attachment(user, document, upload.filename, stored)
    except BaseException:
        storage.delete(stored.storage_name)
        raise


@transactional
def _record_attachment(user, document, client_filename, stored):
    now = utcnow()
    # Touching the row re-checks the statut and, on PostgreSQL, locks it against a concurrent decision.
    service.update_if_statut(document, rules.PENDING, updated_at=now)
    attachment = Attachment(
        id=new_uuid(), document_id=document.id, filename=storage.clean_filename(client_filename, stored.content_type),
        content_type=stored.content_type, size=stored.size, sha256=stored.sha256, storage_name=stored.storage_name,
        uploaded_by_id=user.id, created_at=now)
    db.session.add(attachment)
    service.record(document, "attachment_added", user, now, {
        "attachment_id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def get_attachment_file(user, document_id, attachment_id):
    """The attachment of a visible document and its path on disk; 404 for anything else."""
    document = service.get_document(user, document_id)
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document.id)).first()
    if attachment is None:
        raise ApiError("not_found", "Pièce jointe introuvable.")
    path = storage.path_of(attachment.storage_name)
    if not storage.exists(attachment.storage_name):
        log.error("attachment %s: file %s missing from UPLOAD_FOLDER", attachment.id, attachment.storage_name)
        raise ApiError("not_found", "Pièce jointe introuvable.")
    return attachment, path
