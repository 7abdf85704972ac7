"""`flask capture imap`: one pass over the mailbox of CAPTURE_IMAP_URL, as the periodic job makes it."""
import click
from flask.cli import AppGroup

from courrier.capture import imap

capture_cli = AppGroup("capture", help="Capture du courrier arrivé par courriel.")


@capture_cli.command("imap")
def imap_command():
    """Read the mailbox once: each new message becomes a draft to qualify, then is moved away."""
    try:
        summary, message = imap.capture_from_mailbox()
    except imap.CaptureError as error:
        raise click.ClickException(str(error)) from None
    click.echo(message)
    if summary.refused:
        raise SystemExit(2)  # some messages went to the error folder: a script may want to know
