"""`flask audit connections` and `flask audit events`: the audit reports, as a table or as CSV;
`flask audit verify` and `flask audit prune`: the hash chain checked, and the retention applied.

Thin wrappers over courrier.audit.service: the same filters as GET /api/audit/sessions and
/api/audit/events. Rows are streamed from the database, so a CSV export of a long period never sits
in memory (a table needs its column widths, so it reads its rows first: narrow the period).
"""
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from courrier.audit import chain, service
from courrier.audit.schemas import INVALID_DATE, parse_date_bound
from courrier.csvfile import csv_chunks, csv_safe
from courrier.extensions import db
from courrier.schemas import CONTROL_CHARACTERS
from courrier.signals import AUDIT_EVENT_TYPES

audit_cli = AppGroup("audit", help="Audit reports (table or CSV), the hash chain's check and the retention purge.")

TABLE_CELL_WIDTH = 60

SESSION_COLUMNS = ("created_at", "user_id", "email", "nom", "prenom", "ip", "user_agent", "last_used_at",
                   "expires_at", "revoked_at", "revoked_reason", "active", "session_id")
SESSION_TABLE_COLUMNS = ("created_at", "email", "ip", "user_agent", "last_used_at", "revoked_at",
                         "revoked_reason", "active")
EVENT_COLUMNS = ("created_at", "type", "actor_id", "actor_email", "subject_user_id", "subject_email", "email",
                 "ip", "user_agent", "details", "event_id")
EVENT_TABLE_COLUMNS = ("created_at", "type", "actor_email", "subject_email", "email", "ip", "details")


class DateBoundType(click.ParamType):
    """A date (YYYY-MM-DD, the whole UTC day) or an ISO 8601 datetime, as in the API's date filters."""

    name = "DATE"

    def __init__(self, end=False):
        self.end = end

    def convert(self, value, param, ctx):
        try:
            return parse_date_bound(value, end=self.end)
        except (ValueError, OverflowError):
            self.fail(INVALID_DATE, param, ctx)


def report_options(command):
    """The options both reports share."""
    for option in reversed((
        click.option("--email", help="Adresse e-mail (exacte, sans distinction de casse)."),
        click.option("--ip", help="Adresse IP exacte."),
        click.option("--since", type=DateBoundType(), help="Depuis (AAAA-MM-JJ inclus, ou date et heure ISO 8601)."),
        click.option("--until", type=DateBoundType(end=True), help="Jusqu'au (AAAA-MM-JJ inclus, ou date et heure)."),
        click.option("--format", "output_format", type=click.Choice(["table", "csv"]), default="table",
                     show_default=True, help="Tableau aligné ou CSV (en-tête, guillemets) sur la sortie standard."),
    )):
        command = option(command)
    return command


def filters_from(email, ip, since, until, **extra):
    filters = {"email": email.strip().lower() if email else None, "ip": ip, "date_from": since, "date_to": until}
    filters.update(extra)
    return filters


@audit_cli.command("connections")
@report_options
@click.option("--active/--inactive", "active", default=None, help="Seulement les sessions actives (ou terminées).")
def connections_command(email, ip, since, until, output_format, active):
    """Connection history: who logged in, when, from where (sessions, newest first)."""
    rows = (session_row(s) for s in service.iter_sessions(filters_from(email, ip, since, until, active=active)))
    count = write_report(rows, SESSION_COLUMNS, SESSION_TABLE_COLUMNS, output_format)
    click.echo(f"{count} connexion(s).", err=True)


@audit_cli.command("events")
@report_options
@click.option("--type", "event_type", type=click.Choice(AUDIT_EVENT_TYPES), help="Type d'événement.")
def events_command(email, ip, since, until, output_format, event_type):
    """The audit log: logins, failures, logouts, user changes, document decisions (newest first)."""
    rows = (event_row(e) for e in service.iter_events(filters_from(email, ip, since, until, type=event_type)))
    count = write_report(rows, EVENT_COLUMNS, EVENT_TABLE_COLUMNS, output_format)
    click.echo(f"{count} événement(s).", err=True)


@audit_cli.command("verify")
def verify_command():
    """Recompute the hash chain; exit 1 naming the first event altered, removed or inserted."""
    with db.engine.connect() as connection:
        total = chain.count_events(connection)
        anchor = chain.latest_anchor(connection)
        rows = chain.stream_chain(connection)
        with click.progressbar(length=total, label="Vérification de la chaîne", file=sys.stderr) as bar:
            report = chain.verify_chain(rows, anchor, progress=lambda: bar.update(1))
        rows.close()
    if anchor:
        click.echo(f"Début de la chaîne : ancre de purge, événement n° {anchor.seq} (empreinte {anchor.hash}).")
    if report.broken:
        click.echo(f"Chaîne rompue ({report.broken.kind}) : {report.broken.message}", err=True)
        click.echo(f"{report.checked} événement(s) intègre(s) avant la rupture.", err=True)
        sys.exit(1)
    seq, head_hash = report.head
    click.echo(f"Chaîne intègre : {report.checked} événement(s) vérifié(s). Dernier : n° {seq}, empreinte {head_hash}.")


@audit_cli.command("prune")
@click.option("--older-than", "older_than", type=click.IntRange(min=1), default=None,
              help="Rétention en jours (défaut : AUDIT_RETENTION_DAYS).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1, max=100000))
def prune_command(older_than, batch_size):
    """Remove the events older than the retention, oldest first, in batches; the chain stays verifiable."""
    days = older_than or current_app.config["AUDIT_RETENTION_DAYS"]
    removed = chain.prune_events(days, batch_size)
    click.echo(f"{removed} événement(s) de plus de {days} jour(s) supprimé(s).")


def timestamp(value):
    return value.isoformat(timespec="seconds") if value else ""


def session_row(session):
    user = session.user
    return {
        "created_at": timestamp(session.created_at), "user_id": user.id, "email": user.email, "nom": user.nom,
        "prenom": user.prenom, "ip": session.ip or "", "user_agent": session.user_agent or "",
        "last_used_at": timestamp(session.last_used_at), "expires_at": timestamp(session.expires_at),
        "revoked_at": timestamp(session.revoked_at), "revoked_reason": session.revoked_reason or "",
        "active": "true" if session.active else "false", "session_id": session.id,
    }


def event_row(event):
    actor, subject = event.actor, event.subject_user
    return {
        "created_at": timestamp(event.created_at), "type": event.type,
        "actor_id": actor.id if actor else "", "actor_email": actor.email if actor else "",
        "subject_user_id": subject.id if subject else "", "subject_email": subject.email if subject else "",
        "email": event.email or "", "ip": event.ip or "", "user_agent": event.user_agent or "",
        "details": json.dumps(event.details, ensure_ascii=False, sort_keys=True) if event.details else "",
        "event_id": event.id,
    }


class Stdout:
    """A file-like stdout for the csv module; `color=True` keeps click from altering the text."""

    @staticmethod
    def write(text):
        click.echo(text, nl=False, color=True)


def write_report(rows, csv_columns, table_columns, output_format):
    """Write the rows to stdout as CSV or as an aligned table; returns how many rows."""
    out = Stdout()
    if output_format == "csv":
        return write_csv(out, rows, csv_columns)
    return write_table(out, rows, table_columns)


def write_csv(out, rows, columns):
    """User agents and tried emails come from anyone: every cell is guarded against formula injection."""
    count = 0

    def cells():
        nonlocal count
        for row in rows:
            count += 1
            yield [csv_safe(row[column]) for column in columns]

    for chunk in csv_chunks(columns, cells(), delimiter=",", bom=False):
        out.write(chunk)
    return count


def write_table(out, rows, columns):
    cells = [[table_cell(row[column]) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    for line in [list(columns), ["-" * width for width in widths], *cells]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n")
    return len(cells)


def table_cell(value):
    """One line of printable text: control characters (newlines, terminal escapes) shown escaped."""
    text = CONTROL_CHARACTERS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), value)
    return text if len(text) <= TABLE_CELL_WIDTH else text[:TABLE_CELL_WIDTH - 1] + "…"
