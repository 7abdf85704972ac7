"""The mailbox: one pass reads every message of CAPTURE_IMAP_URL's folder, and moves each one away.

`imaps://user:password@host[:port]/INBOX` connects with TLS from the start (certificate checked);
`imap://…` upgrades with STARTTLS, and is refused when the server does not offer it — except to a loopback
address (a local TLS tunnel, the tests' server), where the connection never leaves the machine.

A message is moved to CAPTURE_IMAP_DONE_FOLDER only once its draft has committed (or when its key shows
that it already had: a worker died between the commit and the move, or another worker took it at the same
moment); a message that cannot be taken (`messages.Refused`: too large, a program attached, unreadable)
goes to CAPTURE_IMAP_ERROR_FOLDER with its reason in the pass's summary and the log, and is never tried
again. The folders are created when missing. The password is never logged: only `Mailbox.__str__` is.
"""
import imaplib
import ipaddress
import logging
import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from flask import current_app

from courrier.capture import intake, messages

log = logging.getLogger(__name__)

BATCH = 200  # messages per pass; the next pass takes the rest
TIMEOUT = 60  # seconds per network operation
SCHEMES = {"imaps": 993, "imap": 143}
SUMMARY_MAX = 1000


class CaptureError(Exception):
    """The mailbox cannot be read (configuration, network, login): a French message, without the password."""


@dataclass(frozen=True)
class Mailbox:
    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str

    def __str__(self):
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"

    @property
    def on_loopback(self):
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def mailbox_from_url(url):
    """The Mailbox of CAPTURE_IMAP_URL; CaptureError (never quoting the URL: it holds the password)."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        raise CaptureError("CAPTURE_IMAP_URL est mal formée (port invalide ?).") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise CaptureError("CAPTURE_IMAP_URL doit être de la forme imaps://utilisateur:mot-de-passe@serveur/INBOX "
                           "(ou imap://… avec STARTTLS).")
    if parts.username is None or parts.password is None:
        raise CaptureError("CAPTURE_IMAP_URL doit donner l'utilisateur et le mot de passe de la boîte.")
    return Mailbox(parts.scheme, parts.hostname, port or SCHEMES[parts.scheme], unquote(parts.username),
                   unquote(parts.password), unquote(parts.path.lstrip("/")) or "INBOX")


def quoted(folder):
    """A folder name as an IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(mailbox):
    """A logged-in connection, encrypted unless it stays on this machine."""
    context = ssl.create_default_context()
    if mailbox.scheme == "imaps":
        connection = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT)
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
        if "STARTTLS" in connection.capabilities:
            connection.starttls(context)
        elif not mailbox.on_loopback:
            connection.shutdown()
            raise CaptureError(f"{mailbox.host} ne propose pas STARTTLS : courrier refuse d'y envoyer le mot de "
                               "passe en clair (utilisez imaps://).")
    try:
        connection.login(mailbox.user, mailbox.password)
    except imaplib.IMAP4.error:
        connection.shutdown()
        raise
    return connection


@dataclass
class Summary:
    """What a pass did, for the job's message."""

    captured: int = 0
    already: int = 0
    refused: list = field(default_factory=list)  # (subject or uid, reason)

    def message(self, mailbox, done, errors):
        text = (f"{mailbox.folder} : {self.captured} brouillon(s) créé(s), {self.already} déjà capturé(s), "
                f"déplacé(s) dans {done} ; {len(self.refused)} refusé(s), déplacé(s) dans {errors}.")
        for what, reason in self.refused:
            text += f" {what} : {reason}"
        return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1] + "…"


def _ok(answer, what):
    status, data = answer
    if status != "OK":
        raise CaptureError(f"Le serveur IMAP a refusé {what} : {_text(data)}")
    return data


def _text(data):
    return " ".join(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                    for item in data or () if item is not None)[:200]


def ensure_folder(connection, folder):
    status, _ = connection.select(quoted(folder), readonly=True)
    if status != "OK":
        connection.create(quoted(folder))  # two workers creating it at once: the loser's NO is harmless
        connection.subscribe(quoted(folder))


def fetch(connection, uid, item):
    """The FETCH answer of one message by UID; None when it is gone (another worker moved it)."""
    status, data = connection.uid("FETCH", uid, f"({item})")
    if status != "OK" or not data or data[0] is None:
        return None
    return data


def size_of(connection, uid):
    data = fetch(connection, uid, "RFC822.SIZE")
    match = re.search(rb"RFC822\.SIZE (\d+)", data[0] if data and isinstance(data[0], bytes) else b"")
    return int(match.group(1)) if match else None


def body_of(connection, uid):
    data = fetch(connection, uid, "BODY.PEEK[]")
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def move(connection, uid, folder):
    """Move one message (RFC 6851 MOVE; else copy, flag deleted and expunge), unless another session has moved
    it meanwhile (NOOP brings its expunges). Two passes running at once may still both move one message in the
    same instant: its draft exists once, and the done folder then holds a second copy of it."""
    connection.noop()
    if fetch(connection, uid, "UID") is None:
        return
    if "MOVE" in connection.capabilities:
        connection.uid("MOVE", uid, quoted(folder))
        return
    status, _ = connection.uid("COPY", uid, quoted(folder))
    if status == "OK":
        connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in connection.capabilities:
            connection.uid("EXPUNGE", uid)
        else:
            connection.expunge()


def capture_from_mailbox(config=None):
    """One pass over the mailbox; its Summary's French message. CaptureError when it cannot be read."""
    config = config or current_app.config
    if not config.get("CAPTURE_IMAP_URL"):
        raise CaptureError("CAPTURE_IMAP_URL n'est pas définie : aucune boîte aux lettres à lire.")
    mailbox = mailbox_from_url(config["CAPTURE_IMAP_URL"])
    done, errors = config["CAPTURE_IMAP_DONE_FOLDER"], config["CAPTURE_IMAP_ERROR_FOLDER"]
    try:
        connection = connect(mailbox)
    except (OSError, imaplib.IMAP4.error) as error:
        raise CaptureError(f"Connexion à {mailbox} impossible : {_describe(error)}") from None
    summary = Summary()
    try:
        for folder in (done, errors):
            ensure_folder(connection, folder)
        _ok(connection.select(quoted(mailbox.folder)), f"le dossier {mailbox.folder}")
        uids = _ok(connection.uid("SEARCH", None, "ALL"), "la recherche")[0].split()
        for uid in uids[:BATCH]:
            _take(connection, uid.decode(), config, summary, done, errors)
    except (OSError, imaplib.IMAP4.error) as error:
        raise CaptureError(f"Lecture de {mailbox} interrompue : {_describe(error)}") from None
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    message = summary.message(mailbox, done, errors)
    log.info("capture %s: %s", mailbox, message)
    return summary, message


def _describe(error):
    return f"{type(error).__name__} {error}".strip()[:300]


def _take(connection, uid, config, summary, done, errors):
    size = size_of(connection, uid)
    if size is None:
        return  # gone meanwhile
    if size > config["ATTACHMENT_MAX_BYTES"]:
        _refuse(connection, uid, f"message {uid}", messages.Refused(
            f"Message de {size} octets : au-delà de la taille maximale ({config['ATTACHMENT_MAX_BYTES']} octets)."),
            summary, errors)
        return
    raw = body_of(connection, uid)
    if raw is None:
        return
    try:
        outcome, _ = intake.capture(raw)
    except messages.Refused as refused:
        _refuse(connection, uid, f"« {refused.subject} »" if refused.subject else f"message {uid}", refused, summary,
                errors)
        return
    if outcome == intake.CAPTURED:
        summary.captured += 1
    else:
        summary.already += 1
    move(connection, uid, done)


def _refuse(connection, uid, what, refused, summary, errors):
    log.warning("capture: %s refused and moved to %s: %s", what, errors, refused.reason)
    summary.refused.append((what, refused.reason))
    move(connection, uid, errors)
