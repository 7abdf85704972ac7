"""`flask statistiques rebuild`: recount the dashboard's aggregates from the letters."""
import time

import click
from flask.cli import AppGroup

from courrier.extensions import db
from courrier.statistics import ledger

statistiques_cli = AppGroup("statistiques", help="Tableau de bord : agrégats des statistiques.")


@statistiques_cli.command("rebuild")
def rebuild_command():
    """Recompute the aggregates from every letter, in one transaction (after a bulk load, or to check)."""
    started = time.monotonic()
    count = ledger.rebuild(db.session)
    db.session.commit()
    click.echo(f"{count} courriers recomptés en {time.monotonic() - started:.1f} s.")
