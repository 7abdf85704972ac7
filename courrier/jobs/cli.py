"""`flask worker` (the consumer: threads or processes, on as many machines as wanted) and `flask worker status`."""
import logging

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from courrier.extensions import db
from courrier.jobs import service
from courrier.jobs.queue import queue_of

FAILURES_SHOWN = 20


@click.group("worker", cls=AppGroup, invoke_without_command=True, help=(
    "Exécuter les travaux en arrière-plan et les tâches périodiques (JOBS_URL). Plusieurs workers, sur "
    "plusieurs machines, peuvent tourner en même temps."))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Nombre de workers (défaut : JOBS_WORKERS).")
@click.option("--worker-type", type=click.Choice(["thread", "process"]), default=None,
              help="Threads ou processus (défaut : JOBS_WORKER_TYPE).")
@with_appcontext
def worker_cli(workers, worker_type):
    if click.get_current_context().invoked_subcommand is not None:
        return
    run_worker(current_app._get_current_object(), workers, worker_type)


def run_worker(app, workers=None, worker_type=None):
    """Run huey's consumer on the app's queue until SIGINT or SIGTERM (both let running jobs finish)."""
    config = app.config
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # huey's two lines per task say nothing the jobs table does not: its warnings and errors only (the
    # consumer's start, stop and periodic enqueues stay).
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    # Forked workers open their own connections: none is shared with the parent.
    with app.app_context():
        db.engine.dispose()
    consumer = queue_of(app).huey.create_consumer(
        workers=workers or config["JOBS_WORKERS"], worker_type=worker_type or config["JOBS_WORKER_TYPE"],
        periodic=True, check_worker_health=True, graceful_signal="TERM", initial_delay=0.05, max_delay=1.0)
    consumer.run()


@worker_cli.command("status")
def status_command():
    """Ce que montre GET /api/jobs : nombre de travaux par état, derniers échecs, tâches périodiques."""
    click.echo("Travaux par état :")
    for etat, count in service.counts_by_etat().items():
        click.echo(f"  {etat}\t{count}")
    click.echo("\nTâches périodiques :")
    for task in service.periodic_summary():
        last = (f"{task['periode']} — {task['etat']} — {task['message'] or ''}" if task["periode"]
                else "jamais lancée")
        click.echo(f"  {task['type']} ({task['regle']}) : {last}")
    failures = service.recent_failures(FAILURES_SHOWN)
    if failures:
        click.echo("\nDerniers échecs :")
    for job in failures:
        click.echo("  " + "\t".join([job.created_at.isoformat(timespec="seconds"), job.id, job.kind,
                                     f"{job.attempts} essai(s)", job.message or ""]))
