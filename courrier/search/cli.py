"""`flask search reindex`: rebuild the full-text index of every letter, in batches, with a progress bar.

Re-runnable at any time: each batch rebuilds its letters' entries from their metadata and attachments'
text and commits, so an interrupted run leaves a usable index and the next run redoes it all.
"""
import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from courrier.documents.models import TEXTE_ETATS, Document
from courrier.extensions import db
from courrier.search import index, text_jobs

search_cli = AppGroup("search", help="Recherche plein texte : l'index des courriers.")


@search_cli.command("reindex")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Courriers réindexés par transaction.")
@click.option("--offline", is_flag=True,
              help="PostgreSQL : supprime l'index GIN pendant la reconstruction et le recrée à la fin (plus "
                   "rapide pour une base entière ; les recherches sont lentes pendant ce temps).")
def reindex_command(batch_size, offline):
    """Rebuild the index entry of every letter (metadata and attachments' text)."""
    connection = db.session.connection()
    total = db.session.scalar(select(func.count()).select_from(Document))
    postgresql = connection.dialect.name == "postgresql"
    index.install(connection, with_index=not (offline and postgresql))
    if offline and postgresql:
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_documents_recherche")
    db.session.commit()
    done = 0
    with click.progressbar(length=total, label="Réindexation des courriers") as bar:
        for ids in index.batches_of_ids(db.session.connection, batch_size):
            index.reindex_documents(db.session.connection(), ids)
            db.session.commit()
            done += len(ids)
            bar.update(len(ids))
    if offline and postgresql:
        click.echo("Construction de l'index GIN…")
        index.install(db.session.connection())
        db.session.commit()
    if not postgresql:
        # FTS5 merges the segments that the batches left into one: fewer to read per query.
        db.session.connection().exec_driver_sql("INSERT INTO recherche (recherche) VALUES ('optimize')")
        db.session.commit()
    click.echo(f"{done} courrier(s) réindexé(s).")


@search_cli.command("textes")
@click.option("--etat", "etats", multiple=True, type=click.Choice(TEXTE_ETATS), default=("en_attente",),
              show_default=True, help="Les pièces jointes dans cet état (répétable : --etat en_attente --etat "
                                      "indisponible après l'installation de l'OCR).")
@click.option("--tous", is_flag=True, help=(
    "Relire toutes les pièces jointes, quel que soit leur état (l'OCR de chaque scan est refait)."))
def texts_command(etats, tous):
    """Send attachments to the reading of their text: those still waiting (added before this version), those of
    the given states, or all."""
    count = text_jobs.queue_waiting_extractions(None if tous else etats)
    click.echo(f"{count} pièce(s) jointe(s) envoyée(s) à la lecture de leur texte (travaux texte.extraction).")
