"""Delivering the outbox over SMTP, each message once, whatever dies when.

1. Claim a batch in one short transaction: the due rows are selected `FOR UPDATE SKIP LOCKED` on
   PostgreSQL (a concurrent sender skips them instead of waiting), then marked `sending` with this
   run's `claim_token` and `claimed_until`, by an UPDATE that repeats the claimable condition, so that
   on SQLite (no row locks, one writer) two senders cannot take the same row either. Commit.
2. For each message: renew its claim (a conditional UPDATE on our token: if another sender took it over,
   skip it), commit, hand it to the SMTP server, and mark it `sent` in its own commit as soon as the
   server said 250. A sender killed at any point loses nothing: its claims expire and the next run takes
   them again. The SMTP timeout is shorter than a claim, so a claim never expires while its message is
   being handed over; the only window for a duplicate is a crash between the server's 250 and that
   commit, and the stable `Message-ID` (the row's id) lets a receiving server spot it.
3. An SMTP failure puts the message back to `pending` with `next_attempt_at` doubling from
   NOTIFY_RETRY_SECONDS; after NOTIFY_MAX_ATTEMPTS tries (claims) it is `failed`, listed by
   `flask notifications status`.
"""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from courrier.columns import new_uuid, utcnow
from courrier.extensions import db
from courrier.notifications.models import FAILED, PENDING, SENDING, SENT, Notification

log = logging.getLogger(__name__)

TRUE_WORDS = ("1", "true", "yes", "on")
MAX_RETRY_DELAY = timedelta(hours=6)
ERROR_MAX = 1000
CLAIM_EXPIRED = "Expéditeur interrompu pendant l'envoi (réservation expirée)."


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    implicit_tls: bool


def parse_smtp_url(url):
    """`smtp://user:pass@host:port?starttls=true` (or `smtps://` for TLS from the first byte)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL doit être de la forme smtp://utilisateur:mot-de-passe@hôte:port[?starttls=true].")
    starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in TRUE_WORDS
    implicit_tls = parts.scheme == "smtps"
    port = parts.port or (465 if implicit_tls else 587 if starttls else 25)
    return SmtpSettings(parts.hostname, port, unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None, starttls, implicit_tls)


class SmtpConnection:
    """One connection for a batch, opened at the first message and again after the server dropped it."""

    def __init__(self, settings, timeout):
        self.settings, self.timeout, self.client = settings, timeout, None

    def send(self, message):
        if self.client is None:
            self.client = self._open()
        try:
            self.client.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # the server answered: the connection is still good for the next message
        except BaseException:
            self._drop()
            raise

    def _open(self):
        settings = self.settings
        if settings.implicit_tls:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=self.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=self.timeout)
        try:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self):
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self):
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def email_message(notification, config):
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = notification.to_email
    message["Date"] = format_datetime(notification.created_at)
    domain = config["MAIL_FROM"].rpartition("@")[2] or "courrier"
    message["Message-ID"] = f"<{notification.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.body_text)
    message.add_alternative(notification.body_html, subtype="html")
    return message


def _claimable(now):
    return or_(and_(Notification.status == PENDING, Notification.next_attempt_at <= now),
               and_(Notification.status == SENDING, Notification.claimed_until < now))


def fail_dead_claims(now, max_attempts):
    """Messages whose last allowed try died with its sender (expired claim) are failed, not retried forever."""
    db.session.execute(
        update(Notification).where(Notification.status == SENDING, Notification.claimed_until < now,
                                   Notification.attempts >= max_attempts)
        .values(status=FAILED, claim_token=None, claimed_until=None, last_error=CLAIM_EXPIRED))


def claim_batch(size, now, config):
    """Reserve up to `size` due messages for this run (one commit); they come back in claim order."""
    fail_dead_claims(now, config["NOTIFY_MAX_ATTEMPTS"])
    ids = db.session.scalars(
        select(Notification.id).where(_claimable(now))
        .order_by(Notification.next_attempt_at, Notification.id).limit(size)
        .with_for_update(skip_locked=True)).all()
    if not ids:
        db.session.commit()
        return None, []
    token = new_uuid()
    db.session.execute(
        update(Notification).where(Notification.id.in_(ids), _claimable(now))
        .values(status=SENDING, claim_token=token, claimed_until=now + claim_duration(config),
                attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    claimed = db.session.scalars(
        select(Notification).where(Notification.claim_token == token)
        .order_by(Notification.next_attempt_at, Notification.id)).all()
    return token, claimed


def claim_duration(config):
    return timedelta(seconds=config["NOTIFY_CLAIM_SECONDS"])


def smtp_timeout(config):
    """Half a claim (at most a minute): a message's claim outlives any single SMTP exchange."""
    return max(1, min(60, config["NOTIFY_CLAIM_SECONDS"] // 2))


def _ours(notification_id, token):
    return and_(Notification.id == notification_id, Notification.claim_token == token,
                Notification.status == SENDING)


def _set(condition, **values):
    changed = db.session.execute(update(Notification).where(condition).values(**values)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed == 1


def retry_delay(attempts, config):
    return min(timedelta(seconds=config["NOTIFY_RETRY_SECONDS"] * 2 ** max(0, attempts - 1)), MAX_RETRY_DELAY)


def deliver(notification, token, connection, clock, config):
    """Send one claimed message; 'sent', 'retry', 'failed' or 'lost' (another sender took it over)."""
    if not _set(_ours(notification.id, token), claimed_until=clock() + claim_duration(config)):
        return "lost"
    message = email_message(notification, config)
    try:
        connection.send(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        error_text = (f"{type(error).__name__}: {error}")[:ERROR_MAX]
        now = clock()
        if notification.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
            _set(_ours(notification.id, token), status=FAILED, claim_token=None, claimed_until=None,
                 last_error=error_text)
            log.warning("notification %s to %s failed for good: %s", notification.id, notification.to_email,
                        error_text)
            return "failed"
        _set(_ours(notification.id, token), status=PENDING, claim_token=None, claimed_until=None,
             last_error=error_text, next_attempt_at=now + retry_delay(notification.attempts, config))
        return "retry"
    _set(_ours(notification.id, token), status=SENT, sent_at=clock(), claim_token=None, claimed_until=None)
    return "sent"


def send_pending(clock=utcnow, batch_size=None):
    """Deliver every message due now, batch after batch; the counts of each outcome."""
    config = current_app.config
    if not config.get("SMTP_URL"):
        raise RuntimeError("SMTP_URL n'est pas configuré : aucun e-mail ne peut être envoyé.")
    connection = SmtpConnection(parse_smtp_url(config["SMTP_URL"]), smtp_timeout(config))
    counts = {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
    try:
        while True:
            token, batch = claim_batch(batch_size or config["NOTIFY_BATCH_SIZE"], clock(), config)
            if not batch:
                break
            for notification in batch:
                counts[deliver(notification, token, connection, clock, config)] += 1
            db.session.expunge_all()
    finally:
        connection.close()
    return counts


def status_counts():
    """{status: count} of the whole outbox."""
    rows = db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: 0 for status in (PENDING, SENDING, SENT, FAILED)} | dict(rows)


def failed_notifications(limit=100):
    return db.session.scalars(select(Notification).where(Notification.status == FAILED)
                              .order_by(Notification.created_at.desc()).limit(limit)).all()
