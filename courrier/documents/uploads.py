"""What an attachment may be: its type read from its content, its size, and a safe name.

The file is stored by `courrier.storage` under the SHA-256 of its bytes, a name the server computes: the
client's filename never reaches a path or a key, so `../../etc/passwd.pdf` is only metadata (sanitised
by `clean_filename`). Its type comes from its first bytes (`detect_content_type`), never from its name
or the client's `Content-Type`, and anything that is not PDF, PNG or JPEG is refused before a byte is
stored.
"""
import os
import unicodedata

from flask import current_app

from courrier.errors import ApiError, validation_error

# Magic numbers of the accepted types: PDF header, PNG signature, JPEG SOI marker + next marker.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
HEAD_BYTES = max(len(magic) for magic, _, _ in SIGNATURES)
MAX_FILENAME = 255
DEFAULT_STEM = "piece-jointe"


def detect_content_type(head):
    """The MIME type of a file from its first bytes, or None when it is not PDF, PNG or JPEG."""
    for magic, content_type, _ in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def extension_of(content_type):
    return next(ext for _, ctype, ext in SIGNATURES if ctype == content_type)


def clean_filename(raw, content_type):
    """The client's filename as safe metadata: basename only, no control characters, at most 255 chars.

    Both separators are cut (a Windows browser may send `C:\\Users\\x\\lettre.pdf`), control and
    format characters (including bidi overrides that disguise an extension) are dropped; an empty
    result becomes `piece-jointe.<ext>` from the detected type.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = name.strip().lstrip(".").strip()
    if not name:
        name = DEFAULT_STEM + extension_of(content_type)
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[:MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name


def _size_of(stream):
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check_upload(file_storage):
    """The detected type of an uploaded file; 413 over ATTACHMENT_MAX_BYTES, 422 when empty or not PDF/PNG/JPEG.

    Read from the request's spooled copy (Werkzeug keeps a large body in a temporary file), nothing stored;
    the stream is left at its start.
    """
    stream = file_storage.stream
    size = _size_of(stream)
    if size == 0:
        raise validation_error("file", "Le fichier est vide.")
    if size > current_app.config["ATTACHMENT_MAX_BYTES"]:
        raise ApiError("payload_too_large", "Le fichier dépasse la taille maximale autorisée.")
    content_type = detect_content_type(stream.read(HEAD_BYTES))
    if content_type is None:
        raise validation_error("file", "Type de fichier non accepté : PDF, PNG ou JPEG uniquement "
                                       "(le type est lu dans le contenu du fichier, pas dans son nom).")
    stream.seek(0)
    return content_type
