"""The job that reads an attachment's text: extraction, or OCR for a scan, then the letter's index entry.

`queue_text_extraction(attachment)` marks the attachment `en_attente` and enqueues `texte.extraction` in the
caller's transaction (an upload, a captured message, a bulk scan): nothing starts if that transaction rolls
back, and the upload never waits for the reading. The job stores the outcome (TEXTE_ETATS), the searchable
PDF OCR made (beside the original, which is kept) and rebuilds the letter's index entry, in one transaction.
Running it twice gives the same state; a previous searchable PDF no row names any more is removed.

A broken file is `echec` at once (the job itself ends `termine`: reading it again would fail again); a store
that does not answer is retried by the runner, and after its last try the attachment says `echec` too.
"""
import logging
import os
import shutil
import tempfile

from flask import current_app
from sqlalchemy import select

from courrier import storage
from courrier.background import JobError, Result, enqueue
from courrier.documents.models import TEXTE_ETATS, Attachment
from courrier.extensions import db
from courrier.search import extraction, index, ocr

log = logging.getLogger(__name__)

KIND = "texte.extraction"
LABEL = "Lecture du texte d'une pièce jointe (extraction ou OCR)"
EN_ATTENTE, EXTRAIT, RECONNU, AUCUN, ECHEC, INDISPONIBLE = TEXTE_ETATS

MISSING = "Le fichier manque dans le stockage : son texte ne peut pas être lu."
STORE_DOWN = "Le stockage des fichiers ne répond pas : la lecture du texte sera réessayée."
STORE_GAVE_UP = "Le stockage des fichiers n'a pas répondu : le texte n'a pas pu être lu."
INTERNAL = "Erreur interne pendant la lecture du texte."
NOTHING_RECOGNISED = "Aucun texte n'a été reconnu dans ce scan."
MESSAGES = {
    EXTRAIT: "Texte extrait de « {name} ».",
    RECONNU: "Texte reconnu (OCR) dans « {name} ».",
    AUCUN: "Aucun texte dans « {name} ».",
    ECHEC: "Texte de « {name} » illisible : {motif}",
    INDISPONIBLE: "Texte de « {name} » non lu : {motif}",
}


def queue_text_extraction(attachment):
    """Enqueue the reading of `attachment`'s text, in the caller's transaction (its row must have an id)."""
    attachment.texte_etat, attachment.texte_motif = EN_ATTENTE, None
    return enqueue(KIND, params={"attachment_id": attachment.id})


def queue_waiting_extractions(etats=(EN_ATTENTE,), batch_size=1000):
    """Enqueue a reading for each attachment in one of `etats` (by default those still `en_attente`, added
    before this feature; `indisponible` ones once OCR is installed), or for all (`etats=None`: every scan is
    OCR'd again), committing every `batch_size`: the number enqueued."""
    count, last = 0, ""
    while True:
        query = select(Attachment).where(Attachment.id > last).order_by(Attachment.id).limit(batch_size)
        if etats is not None:
            query = query.where(Attachment.texte_etat.in_(etats))
        batch = db.session.scalars(query).all()
        if not batch:
            return count
        for attachment in batch:
            queue_text_extraction(attachment)
        last = batch[-1].id
        count += len(batch)
        db.session.commit()


def read_attachment_text(job):
    """The kind's function: read the attachment's text, store it with its state, index the letter."""
    attachment = db.session.get(Attachment, job.params.get("attachment_id"))
    if attachment is None:
        return Result("La pièce jointe n'existe plus : rien à lire.")
    last_try = job.attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]
    name = attachment.filename  # (read before the commit expires the row)
    workdir = tempfile.mkdtemp(prefix="courrier-texte-")
    try:
        try:
            outcome, searchable = read_file(attachment, workdir)
            record(attachment, outcome, searchable)
        except storage.ObjectMissing:
            log.error("text of attachment %s: object %s missing", attachment.id, attachment.storage_name)
            outcome = extraction.Outcome(ECHEC, motif=MISSING)
            record(attachment, outcome, None)
        except storage.StorageUnavailable as error:
            log.error("text of attachment %s: store unavailable: %s", attachment.id, error)
            if not last_try:
                raise JobError(STORE_DOWN, retry=True) from None
            outcome = extraction.Outcome(ECHEC, motif=STORE_GAVE_UP)
            record(attachment, outcome, None)
        except Exception:
            if not last_try:
                raise  # the runner logs it and tries again later
            log.exception("text of attachment %s: last try failed", attachment.id)
            outcome = extraction.Outcome(ECHEC, motif=INTERNAL)
            record(attachment, outcome, None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Result(MESSAGES[outcome.etat].format(name=name, motif=outcome.motif or ""))


def read_file(attachment, workdir):
    """(Outcome, path of the searchable PDF or None): the file copied from the store, read, OCR'd if a scan."""
    original = os.path.join(workdir, "original")
    with storage.current().open(attachment.storage_name) as source, open(original, "wb") as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
    outcome = extraction.read_text(original, attachment.content_type, attachment.filename)
    if outcome.etat != extraction.SCAN:
        return outcome, None
    return recognise(original, outcome, workdir)


def recognise(original, scanned, workdir, settings=None):
    """OCR of a scan: (Outcome `reconnu`/`aucun`/`echec`/`indisponible`, the searchable PDF or None)."""
    try:
        settings = settings or ocr.Settings.from_config(current_app.config)
        ocr.available(settings)
        if extraction.kind_of(original, None, None) == "image":
            pages = ocr.image_pages(original)
            source = os.path.join(workdir, "image.pdf")
            ocr.image_to_pdf(original, source)
        else:
            source = original
            pages = len(extraction.pdf_reader(original).pages)
        output = os.path.join(workdir, "ocr.pdf")
        note = ocr.make_searchable(source, output, settings, pages)
        texte = extraction.pdf_text(output)
    except ocr.OcrUnavailable as reason:
        return extraction.Outcome(INDISPONIBLE, scanned.texte, str(reason)), None
    except (ocr.OcrFailed, extraction.Unreadable) as reason:
        return extraction.Outcome(ECHEC, scanned.texte, str(reason)), None
    found = extraction.finished(texte, [note] if note else [])
    if found.etat != EXTRAIT:
        return extraction.Outcome(AUCUN, motif=NOTHING_RECOGNISED), output
    return extraction.Outcome(RECONNU, found.texte, found.motif), output


def record(attachment, outcome, searchable):
    """Store the outcome, the searchable PDF and the letter's index entry in one transaction."""
    previous = attachment.ocr_storage_name
    stream = open(searchable, "rb") if searchable else None
    try:
        stored = storage.current().put(stream) if stream else None
        try:
            attachment.texte_etat, attachment.texte_motif = outcome.etat, outcome.motif
            attachment.texte = outcome.texte
            attachment.ocr_storage_name = stored.key if stored else None
            attachment.ocr_size = stored.size if stored else None
            index.index_document(attachment.document_id)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            if stored is not None:
                storage.discard(stored, stream)
            raise
        if stored is not None:
            storage.ensure(stored, stream)
    finally:
        if stream is not None:
            stream.close()
    if previous and previous != attachment.ocr_storage_name:
        forget(previous)


def forget(key):
    """Remove a searchable PDF that an earlier run stored and no committed row names any more."""
    try:
        if not storage.is_referenced(key):
            storage.current().delete(key)
    except storage.StorageUnavailable as error:
        log.error("could not remove the replaced searchable PDF %s: %s", key, error)
