"""An e-mail read into what a draft needs: objet, reception date, sender, attachments, its capture key.

Everything here works on the raw bytes alone (no database, no mailbox), so that it is tested on its own.
A message that cannot be taken raises `Refused` with the French reason the job reports: over
ATTACHMENT_MAX_BYTES, an executable attachment, unreadable MIME.
"""
import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import timezone
from email import policy
from email.errors import MultipartInvariantViolationDefect, StartBoundaryNotFoundDefect
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from courrier.capture import files
from courrier.deadlines import PARIS

NO_SUBJECT = "(sans objet)"
UNREADABLE_DEFECTS = (StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect)


class Refused(Exception):
    """A message that cannot become a draft; its French reason."""

    def __init__(self, reason, subject=None):
        super().__init__(reason)
        self.reason, self.subject = reason, subject


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Mail:
    key: str
    message_id: str | None
    objet: str
    received: object  # a date (Paris) or None
    sender_name: str | None
    sender_email: str | None
    recipient: str
    attachments: list = field(default_factory=list)


def capture_key(message_id, raw):
    """Its Message-ID (hashed: they can be long), or without one the SHA-256 of the raw message."""
    if message_id:
        return "message-id:" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def one_line(text, limit=255):
    """A header's text as a field holds it: control characters dropped, spaces collapsed."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text or "")
    return " ".join(text.split())[:limit]


def header_text(message, name):
    """A header decoded (RFC 2047), even when the parser's own decoding gives up on it."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:  # a malformed encoded word: decode what can be
        raw = message.get_all(name, [""])[0]
        try:
            return str(make_header(decode_header(str(raw))))
        except Exception:
            return str(raw)


def received_on(message):
    """The Date header as a day in Paris; None when absent or unreadable (the capture day is used then)."""
    raw = message.get("date")
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the sender's zone unknown
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS).date()


def first_address(message, name):
    addresses = getaddresses([header_text(message, name)])
    for display, address in addresses:
        if "@" in address:
            return one_line(display) or None, address.strip().lower()
    return None, None


def parse(raw, max_bytes):
    """The Mail of a raw message, or Refused."""
    if len(raw) > max_bytes:
        raise Refused(f"Message de {len(raw)} octets : au-delà de la taille maximale ({max_bytes} octets).")
    objet = None
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        objet = one_line(header_text(message, "subject")) or NO_SUBJECT
        if any(isinstance(defect, UNREADABLE_DEFECTS) for defect in _all_defects(message)):
            raise Refused("Message illisible : structure MIME invalide.")
        attachments = list(_attachments(message))
        message_id = one_line(header_text(message, "message-id"), 998) or None
        sender_name, sender_email = first_address(message, "from")
        recipient_name, recipient_email = first_address(message, "to")
    except Refused as refused:
        raise Refused(refused.reason, objet) from None
    except Exception as error:  # whatever the parser trips on is a message nobody can read
        raise Refused(f"Message illisible ({type(error).__name__}).", objet) from None
    return Mail(key=capture_key(message_id, raw), message_id=message_id, objet=objet, received=received_on(message),
                sender_name=sender_name, sender_email=sender_email,
                recipient=recipient_name or recipient_email or "", attachments=attachments)


def _all_defects(message):
    for part in message.walk():
        yield from part.defects


def _attachments(message):
    """Each attached file (a forwarded e-mail kept whole as .eml), refused if one is a program; a message that
    is a single file (no multipart) is that file."""
    if message.is_multipart():
        for part in message.iter_parts():
            yield from _files_of(part)
    elif message.get_content_type() != files.EMAIL:
        yield from _files_of(message)


def _files_of(part):
    if part.get_content_type() == files.EMAIL:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is None:
            return
        list(_attachments(inner))  # a program inside a forwarded e-mail refuses the message too
        name = part.get_filename() or (one_line(header_text(inner, "subject"), 100) or "message") + ".eml"
        yield Part(files.safe_filename(name, files.EMAIL), files.EMAIL, inner.as_bytes())
        return
    if part.is_multipart():
        for child in part.iter_parts():
            yield from _files_of(child)
        return
    filename = part.get_filename()
    disposition = part.get_content_disposition()
    if not filename and disposition != "attachment":
        return  # the body (text, HTML) and unnamed inline parts: kept in message.eml
    data = part.get_payload(decode=True) or b""
    reason = files.refusal(data, filename, part.get_content_type())
    if reason:
        raise Refused(f"Pièce jointe refusée : {reason}")
    content_type = files.detect(data)
    yield Part(files.safe_filename(filename, content_type), content_type, data)
