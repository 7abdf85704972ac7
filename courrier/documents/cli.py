"""`flask registre export`: the chronological register of one type and period, to a PDF or CSV file.

A thin wrapper over courrier.documents.register, as GET /api/registre: the letters are counted first
(the progress bar's length), then streamed into the file.
"""
import sys

import click
from flask.cli import AppGroup

from courrier.documents import register
from courrier.documents.models import DOCUMENT_TYPES
from courrier.errors import ApiError

registre_cli = AppGroup("registre", help="Registre chronologique du courrier (export PDF ou CSV).")


@registre_cli.command("export")
@click.option("--type", "kind", type=click.Choice(DOCUMENT_TYPES), required=True, help="Type de courrier.")
@click.option("--year", type=click.IntRange(1900, 9999), help="Année (par défaut l'année en cours, heure de Paris).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Enregistrés depuis (AAAA-MM-JJ inclus).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Enregistrés jusqu'au (AAAA-MM-JJ inclus).")
@click.option("--format", "output_format", type=click.Choice(register.FORMATS), default="pdf", show_default=True)
@click.option("--separator", default=";", show_default=True, help="CSV : séparateur de colonnes.")
@click.option("--no-bom", is_flag=True, help="CSV : sans marque d'ordre des octets UTF-8 au début.")
@click.option("-o", "--output", type=click.File("wb"), required=True, help="Fichier à écrire (- : sortie standard).")
def export_command(kind, year, date_from, date_to, output_format, separator, no_bom, output):
    """Write the register: every letter of that type registered in the period (the UTC day of its
    registration), in reference order. The period is the year, narrowed by --from and --to."""
    try:
        period = register.period_of(kind, as_date(date_from), as_date(date_to), year)
    except ApiError:
        raise click.BadParameter("la fin de la période précède son début.", param_hint="--to")
    total = register.count_register(period)
    rows = register.iter_register(period)
    written = 0

    def on_row():
        nonlocal written
        written += 1
        bar.update(1)

    with click.progressbar(length=total, label=f"Registre {kind} ({period.label})", file=sys.stderr) as bar:
        if output_format == "pdf":
            from courrier.documents.register_pdf import write_pdf  # fpdf2 only when a PDF is rendered

            write_pdf(rows, period, output, total=total, on_row=on_row)
        else:
            for chunk in register.csv_chunks(rows, separator, bom=not no_bom, on_row=on_row):
                output.write(chunk.encode("utf-8"))
    register.record_export(None, period, output_format, written)
    click.echo(f"{written} courrier(s) exporté(s) : {period.filename(output_format)}.", err=True)


def as_date(value):
    return value.date() if value is not None else None
