"""A stored object as a download: streamed in chunks, byte ranges answered 206, never cached, sniffed or run."""
import logging
import unicodedata
from urllib.parse import quote

from flask import Response, request
from werkzeug.http import dump_options_header

from courrier.csvfile import DOWNLOAD_HEADERS
from courrier.errors import ApiError, error_response
from courrier.storage.objects import ObjectMissing, StorageUnavailable, read_chunks
from courrier.storage.stores import current

log = logging.getLogger(__name__)

MISSING_MESSAGE = "Fichier introuvable : il manque dans le stockage des fichiers."
UNAVAILABLE_MESSAGE = "Le stockage des fichiers ne répond pas : réessayez dans un instant."
RETRY_AFTER_SECONDS = "30"
# What the body relays at once: the client gets a piece while the store's next one arrives (1 MiB pieces
# kept it waiting longer: 10 MB downloads ~0.55x boto3's rate here, 256-512 KiB ~0.65-0.75x).
RELAY_CHUNK_BYTES = 512 * 1024


def send(key, *, filename, content_type, size, as_attachment=True):
    """The object `key` (of `size` bytes) as a response; a Range of one span answers 206 with that span.

    A missing object is a 404 `not_found`, a store that does not answer a 503 `service_unavailable`,
    both logged here, before any byte is sent.
    """
    span = requested_span(key, size)
    if span == "unsatisfiable":
        response = error_response("bad_request", "La plage d'octets demandée est hors du fichier.", status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    start, stop = span or (0, size)
    try:
        stream = current().open(key, start, stop if span else None)
    except ObjectMissing:
        log.error("object %s missing from the store", key)
        raise ApiError("not_found", MISSING_MESSAGE) from None
    except StorageUnavailable as error:
        log.error("store unavailable reading object %s: %s", key, error)
        raise unavailable_error() from None
    response = Response(_body(stream, key), status=206 if span else 200, mimetype=content_type)
    response.content_length = stop - start
    response.headers["Accept-Ranges"] = "bytes"
    if span:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    if len(key) == 64:  # a content-addressed key names these bytes for ever: a strong validator for If-Range
        response.headers["ETag"] = f'"{key}"'
    response.headers["Content-Disposition"] = content_disposition(filename, as_attachment)
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def unavailable_error():
    """The 503 of a request the store did not answer (the caller logs what failed)."""
    return ApiError("service_unavailable", UNAVAILABLE_MESSAGE, headers={"Retry-After": RETRY_AFTER_SECONDS})


def requested_span(key, size):
    """(start, stop) of a single-span Range, "unsatisfiable", or None for the whole file.

    Several spans, another unit, a malformed header or an If-Range that is not this object's ETag: the whole file.
    """
    byte_range = request.range
    if byte_range is None or byte_range.units != "bytes" or len(byte_range.ranges) != 1:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != f'"{key}"':
        return None
    span = byte_range.range_for_length(size)
    return span if span is not None else "unsatisfiable"


def content_disposition(filename, as_attachment):
    """`attachment; filename=…`, with an RFC 5987 `filename*` for a name that is not ASCII."""
    try:
        filename.encode("ascii")
        names = {"filename": filename}
    except UnicodeEncodeError:
        names = {"filename": unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii"),
                 "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
    return dump_options_header("attachment" if as_attachment else "inline", names)


def _body(stream, key):
    """The stream's chunks; closed at the end or when the client goes away. A store failing mid-way
    ends the body short (the client sees fewer bytes than Content-Length), logged."""
    with stream:
        try:
            yield from read_chunks(stream, RELAY_CHUNK_BYTES)
        except (OSError, StorageUnavailable) as error:
            log.error("download of object %s interrupted: %s", key, error)
