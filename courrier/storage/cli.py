"""`flask storage migrate --to URL` and `flask storage check`: thin wrappers over courrier.storage.moving."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from courrier.storage import moving
from courrier.storage.objects import StorageUnavailable
from courrier.storage.stores import current, store_from_url

storage_cli = AppGroup("storage", help="Stockage des fichiers : migration vers un autre stockage, vérification.")

STORE_URL_HELP = "file://<dossier> ou s3://<bucket>/<préfixe> (avec S3_ENDPOINT_URL et les variables AWS_*)."


def store_option(url, param_hint):
    try:
        return store_from_url(url, current_app.config.get("S3_ENDPOINT_URL"))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=param_hint)


@storage_cli.command("migrate")
@click.option("--to", "target_url", required=True, help="Le stockage de destination : " + STORE_URL_HELP)
@click.option("--from", "source_url", help="Le stockage source (par défaut celui de STORAGE_URL).")
def migrate_command(target_url, source_url):
    """Copy every stored file to another store, each hash checked; run it again to resume.

    A file already in the destination is skipped; a missing or corrupt one is listed and nothing is
    changed for it. The source keeps its files: switch STORAGE_URL, run `flask storage check`, then
    remove them. Exit code 1 when a file could not be copied.
    """
    source = store_option(source_url, "--from") if source_url else current()
    target = store_option(target_url, "--to")
    if target.url == source.url:
        raise click.BadParameter("la destination est le stockage source.", param_hint="--to")
    problems = _walk(f"Copie vers {target.url}", lambda row: moving.copy_row(row, source, target))
    copied = moving.count_rows() - len(problems)
    click.echo(f"{copied} fichier(s) en place dans {target.url}, {len(problems)} en échec.", err=True)
    if problems:
        sys.exit(1)


@storage_cli.command("check")
@click.option("--store", "store_url", help="Le stockage à vérifier (par défaut celui de STORAGE_URL).")
def check_command(store_url):
    """Read every stored file back and compare it with its row (SHA-256, size); list the missing or corrupt ones.

    Exit code 1 when there is one.
    """
    store = store_option(store_url, "--store") if store_url else current()
    seen = {}
    problems = _walk(f"Vérification de {store.url}", lambda row: moving.check_row(row, store, seen))
    click.echo(f"{moving.count_rows() - len(problems)} fichier(s) intact(s), {len(problems)} manquant(s) ou "
               f"corrompu(s).", err=True)
    if problems:
        sys.exit(1)


def _walk(label, action):
    """Run `action` on every row under a progress bar; print and return the outcomes with a problem.
    A store that stops answering ends the walk (exit code 2): every following row would fail alike."""
    problems = []
    with click.progressbar(length=moving.count_rows(), label=label, file=sys.stderr) as bar:
        for row in moving.iter_rows():
            try:
                outcome = action(row)
            except StorageUnavailable as error:
                click.echo(f"\nLe stockage ne répond pas ({error}) : arrêt ; relancez la commande pour reprendre.",
                           err=True)
                sys.exit(2)
            if outcome.problem:
                problems.append(outcome)
                click.echo(f"\n{outcome.problem} : {row.describe()}")
            bar.update(1)
    return problems
