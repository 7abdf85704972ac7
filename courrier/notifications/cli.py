"""`flask notifications send` (one pass; the workers' periodic task runs it every NOTIFY_INTERVAL seconds),
`flask notifications status`, `flask notifications deadlines`."""
import click
from flask.cli import AppGroup

from courrier.notifications import sender
from courrier.notifications.deadlines import queue_deadline_notices

notifications_cli = AppGroup("notifications", help="Notifications par e-mail : envoi, état, échéances.")


@notifications_cli.command("send")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Messages réservés à la fois.")
def send_command(batch_size):
    """Envoyer maintenant les e-mails en attente par SMTP_URL (MAIL_FROM en expéditeur), une passe."""
    try:
        counts = sender.send_pending(batch_size=batch_size)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(" ; ".join(f"{name} : {count}" for name, count in counts.items()))


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
    """Mettre en file les avis d'échéance proche et de retard (une fois chacun) ; les workers le font chaque jour
    ouvré à 07:00."""
    queued = queue_deadline_notices(today.date() if today else None)
    click.echo(f"{queued} avis mis en file.")
