"""Attachment files on disk: type by content, server-generated names, sha256 and size, and safe names.

A file is stored under `UPLOAD_FOLDER` as `<uuid4 hex>`, a name the server makes up: the client's
filename never reaches a path, so `../../etc/passwd.pdf` is only metadata (sanitised by
`clean_filename`). Its type comes from its first bytes (`detect_content_type`), never from its name
or the client's `Content-Type`, and anything that is not PDF, PNG or JPEG is refused before a byte
is written.
"""
import hashlib
import logging
import os
import unicodedata
import uuid
from dataclasses import dataclass

from flask import current_app

from courrier.errors import ApiError, validation_error

log = logging.getLogger(__name__)

# Magic numbers of the accepted types: PDF header, PNG signature, JPEG SOI marker + next marker.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
HEAD_BYTES = max(len(magic) for magic, _, _ in SIGNATURES)
CHUNK_BYTES = 64 * 1024
MAX_FILENAME = 255
DEFAULT_STEM = "piece-jointe"


@dataclass(frozen=True)
class StoredFile:
    storage_name: str
    content_type: str
    size: int
    sha256: str


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


def upload_folder():
    """The attachment folder, created on first use."""
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    return folder


def path_of(storage_name):
    return os.path.join(current_app.config["UPLOAD_FOLDER"], storage_name)


def exists(storage_name):
    return os.path.isfile(path_of(storage_name))


def _size_of(stream):
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def store(file_storage):
    """Check and write an uploaded file; 413 over ATTACHMENT_MAX_BYTES, 422 when not PDF/PNG/JPEG.

    Nothing is written for a refused file. The file is written to a temporary name then renamed,
    so a reader never sees half a file under its final name.
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
    storage_name = uuid.uuid4().hex
    final_path = os.path.join(upload_folder(), storage_name)
    temp_path = final_path + ".part"
    digest = hashlib.sha256()
    written = 0
    try:
        with open(temp_path, "xb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
        os.replace(temp_path, final_path)
    except BaseException:
        _remove(temp_path)
        raise
    return StoredFile(storage_name=storage_name, content_type=content_type, size=written, sha256=digest.hexdigest())


def delete(storage_name):
    """Remove a stored file whose database row was not committed."""
    _remove(path_of(storage_name))


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not remove %s", path)
