"""`flask services import FILE.csv`: load an administration's services at once, all or nothing."""
import csv
import sys

import click
from flask.cli import AppGroup

from courrier.services import importer

services_cli = AppGroup("services", help="Services de l'organisation (import CSV).")


@services_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_command(csv_file):
    """Créer les services d'un fichier CSV (colonnes code,nom,parent_code,email ; lignes dans n'importe quel
    ordre). Rien n'est créé si une ligne est invalide : chaque erreur est donnée avec son numéro de ligne."""
    reader = csv.DictReader(csv_file)
    try:
        rows = importer.read_rows(reader)
        plan = importer.plan_import(rows)
    except importer.ImportFailed as failure:
        for problem in failure.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"import annulé : {len(failure.problems)} erreur(s), aucun service créé.")
    with click.progressbar(plan, label="Création des services", file=sys.stderr) as steps:
        created = importer.create_planned(steps)
    click.echo(f"{created} service(s) créé(s).")
