"""Scans in bulk: the mail office drops several files at once, one draft to qualify per file.

Every file is checked first (size, type by content: PDF, PNG, JPEG or TIFF), so that a bad one refuses the
whole drop before a byte is stored; the files are then stored, and the drafts, their attachments, their
text-extraction jobs and their audit rows commit in one transaction (or none of them, and the stored files
are discarded again).
"""
import logging
import os

from flask import current_app

from courrier import storage
from courrier.capture import drafts, files
from courrier.database import transactional
from courrier.documents import uploads, visibility
from courrier.errors import ApiError, validation_error

log = logging.getLogger(__name__)

MAX_FILES = 50  # per drop: the body limit is this many times ATTACHMENT_MAX_BYTES
MAY_NOT_SCAN = "Seuls le bureau du courrier et les administrateurs déposent des numérisations."
NO_FILE = "Aucun fichier reçu dans le champ « file »."
TOO_MANY = f"Au plus {MAX_FILES} fichiers par dépôt."
NOT_A_SCAN = "« {name} » : type non accepté, PDF, PNG, JPEG ou TIFF uniquement (lu dans le contenu du fichier)."
EMPTY = "« {name} » est vide."
DEFAULT_OBJET = "Document numérisé"


def detect_scan_type(head):
    for magic, content_type, _ in files.SCAN_SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def check_scan(upload):
    """The detected type of one dropped file; 413 over ATTACHMENT_MAX_BYTES, 422 when empty or not a scan."""
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    name = upload.filename or "sans nom"
    if size == 0:
        raise validation_error("file", EMPTY.format(name=name))
    if size > current_app.config["ATTACHMENT_MAX_BYTES"]:
        raise ApiError("payload_too_large", f"« {name} » dépasse la taille maximale autorisée.")
    content_type = detect_scan_type(stream.read(8))
    stream.seek(0)
    if content_type is None:
        raise validation_error("file", NOT_A_SCAN.format(name=name))
    return content_type


def objet_of(filename):
    """The draft's objet from the file's name: its stem, `_` as spaces (the office corrects it when qualifying)."""
    stem = os.path.splitext(uploads.clean_filename(filename, "application/pdf"))[0]
    text = " ".join(stem.replace("_", " ").split())
    return text[:255] if text and filename else DEFAULT_OBJET


def drop_scans(user, uploaded):
    """One draft per dropped file (the mail office only: others 403), each file attached and sent to OCR."""
    if not visibility.viewer_of(user).sees_all:
        raise ApiError("forbidden", MAY_NOT_SCAN)
    uploaded = [upload for upload in uploaded or () if upload is not None]
    if not uploaded:
        raise validation_error("file", NO_FILE)
    if len(uploaded) > MAX_FILES:
        raise validation_error("file", TOO_MANY)
    types = [check_scan(upload) for upload in uploaded]
    stored = []
    try:
        for upload in uploaded:
            stored.append(storage.current().put(upload.stream))
    except storage.StorageUnavailable as error:
        log.error("store unavailable storing scans: %s", error)
        for one, upload in zip(stored, uploaded):
            storage.discard(one, upload.stream)
        raise storage.unavailable_error() from None
    try:
        documents = _record_scans(user, uploaded, types, stored)
    except BaseException:
        for one, upload in zip(stored, uploaded):
            storage.discard(one, upload.stream)
        raise
    for one, upload in zip(stored, uploaded):
        storage.ensure(one, upload.stream)
    return documents


@transactional
def _record_scans(user, uploaded, types, stored):
    documents = []
    for upload, content_type, one in zip(uploaded, types, stored):
        filename = files.safe_filename(upload.filename, content_type)
        document = drafts.new_draft(objet=objet_of(upload.filename), origine="numerisation", created_by=user,
                                    details={"fichier": filename})
        drafts.attach(document, filename, content_type, one, user)
        documents.append(document)
    return documents
