"""`flask contacts import FILE.csv` and `flask contacts export`: the directory as a CSV file."""
import sys

import click
from flask.cli import AppGroup

from courrier.contacts import importer, service
from courrier.contacts.models import CONTACT_TYPES

contacts_cli = AppGroup("contacts", help="Correspondants : import et export CSV.")


@contacts_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien créer.")
@click.option("--force", is_flag=True, help="Créer aussi les doublons (même nom ou organisation et code postal).")
def import_command(csv_file, dry_run, force):
    """Créer les correspondants d'un fichier CSV UTF-8, séparé par « , » ou « ; ».

    Colonnes (en-tête obligatoire, dans n'importe quel ordre ; seule « type » est obligatoire) :
    type,civilite,nom,prenom,organisation,service,fonction,numero,voie,complement,code_postal,commune,
    pays,email,telephone,notes. Rien n'est créé si une ligne est invalide ou est un doublon (dans le
    fichier ou dans la base, sauf --force) : chaque erreur est donnée avec son numéro de ligne.
    """
    try:
        rows = importer.read_rows(csv_file)
        with click.progressbar(rows, label="Vérification des lignes", file=sys.stderr) as steps:
            planned = importer.plan_import(steps, force=force)
    except UnicodeDecodeError:
        raise click.ClickException("le fichier n'est pas encodé en UTF-8 : aucun correspondant créé.") from None
    except importer.ImportFailed as failure:
        for problem in failure.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"import annulé : {len(failure.problems)} erreur(s), aucun correspondant créé.") from None
    if dry_run:
        click.echo(f"{len(planned)} correspondant(s) seraient créés ; rien n'a été écrit (--dry-run).")
        return
    with click.progressbar(planned, label="Création des correspondants", file=sys.stderr) as steps:
        created = importer.create_planned(steps)
    click.echo(f"{created} correspondant(s) créé(s).")


@contacts_cli.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Fichier à écrire (par défaut la sortie standard).")
@click.option("--type", "contact_type", type=click.Choice(CONTACT_TYPES), help="Seulement ce type.")
def export_command(output, contact_type):
    """Écrire l'annuaire en CSV (mêmes colonnes que l'import ; « ; », UTF-8 avec BOM)."""
    count = 0

    def counted(contacts):
        nonlocal count
        for contact in contacts:
            count += 1
            yield contact

    chunks = importer.csv_chunks(counted(service.iter_contacts({"type": contact_type})))
    if output:
        with open(output, "w", encoding="utf-8", newline="") as out:
            for chunk in chunks:
                out.write(chunk)
    else:
        for chunk in chunks:
            click.echo(chunk, nl=False, color=True)
    click.echo(f"{count} correspondant(s) exporté(s).", err=True)
