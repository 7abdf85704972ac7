"""`flask notifications send [--loop]`, `flask notifications status`, `flask notifications deadlines`."""
import logging
import signal
import threading

import click
from flask.cli import AppGroup

from courrier.extensions import db
from courrier.notifications import sender
from courrier.notifications.deadlines import queue_deadline_notices

log = logging.getLogger(__name__)

notifications_cli = AppGroup("notifications", help="Notifications par e-mail : envoi, état, échéances.")


@notifications_cli.command("send")
@click.option("--loop", is_flag=True, help="Continuer indéfiniment (service), une passe toutes les --interval s.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Secondes entre deux passes avec --loop.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Messages réservés à la fois.")
def send_command(loop, interval, batch_size):
    """Envoyer les e-mails en attente par SMTP_URL (MAIL_FROM en expéditeur)."""
    stopping = threading.Event()
    if loop:
        # systemd stops the service with SIGTERM: finish the message in hand, give back the rest, exit.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
    while True:
        try:
            counts = sender.send_pending(batch_size=batch_size, should_stop=stopping.is_set)
        except RuntimeError as error:
            raise click.ClickException(str(error)) from None
        except Exception:
            if not loop:
                raise
            log.exception("notifications: sending pass failed, trying again in %s s", interval)
            db.session.rollback()
            counts = None
        if counts and (any(counts.values()) or not loop):
            click.echo(" ; ".join(f"{name} : {count}" for name, count in counts.items()))
        if not loop or stopping.wait(interval):
            return


@notifications_cli.command("status")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Nombre maximal de messages en échec listés.")
def status_command(limit):
    """Nombre de messages par état, puis les messages en échec."""
    for status, count in sender.status_counts().items():
        click.echo(f"{status}\t{count}")
    failed = sender.failed_notifications(limit)
    if failed:
        click.echo("\nÉchecs :")
    for notification in failed:
        click.echo("\t".join([notification.id, notification.created_at.isoformat(timespec="seconds"),
                              notification.kind, notification.to_email, f"{notification.attempts} essai(s)",
                              notification.last_error or ""]))


@notifications_cli.command("deadlines")
@click.option("--date", "today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Le jour considéré (AAAA-MM-JJ), aujourd'hui à Paris par défaut.")
def deadlines_command(today):
    """Mettre en file les avis d'échéance proche et de retard (une fois chacun) ; à lancer chaque jour."""
    queued = queue_deadline_notices(today.date() if today else None)
    click.echo(f"{queued} avis mis en file.")
