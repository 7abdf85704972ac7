"""`flask create-admin` and `flask sessions prune`."""
import os
import sys

import click

from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from courrier import signals
from courrier.signals import announce
from courrier.auth.models import User
from courrier.auth.passwords import hash_password, password_problems, policy_mark
from courrier.auth.service import count_dead_sessions, prune_dead_sessions
from courrier.extensions import db


@click.command("create-admin")
@click.option("--email", prompt=True, help="Adresse e-mail de l'administrateur.")
@click.option("--nom", prompt=True)
@click.option("--prenom", prompt=True)
@click.option("--contact", default=None)
@click.option("--password", default=None, help="Sinon ADMIN_PASSWORD, sinon demandé sans écho.")
@with_appcontext
def create_admin_command(email, nom, prenom, contact, password):
    """Create an administrateur, or promote (and reactivate) an existing user."""
    email = email.strip().lower()
    password = password or os.environ.get("ADMIN_PASSWORD")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        changes = {"role": {"old": user.role, "new": "administrateur"},
                   "is_active": {"old": user.is_active, "new": True}}
        user.role, user.is_active = "administrateur", True
        if password:
            problems = password_problems(password, [email, user.nom, user.prenom], "administrateur")
            if problems:
                raise click.ClickException(" ".join(problems))
            user.password_hash, user.password_policy = hash_password(password), policy_mark("administrateur")
            # Chosen by the administrateur themself at the console: nothing to change at the next login.
            user.password_change_required = False
        announce(signals.user_updated, subject_user_id=user.id, email=email, details={"changes": changes, "via": "cli"})
        db.session.commit()
        click.echo(f"{email} est maintenant administrateur.")
        return
    if not password:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    problems = password_problems(password, [email, nom, prenom], "administrateur")
    if problems:
        raise click.ClickException(" ".join(problems))
    user = User(email=email, password_hash=hash_password(password), password_policy=policy_mark("administrateur"),
                nom=nom.strip(), prenom=prenom.strip(), contact=contact, role="administrateur", is_active=True)
    db.session.add(user)
    db.session.flush()
    announce(signals.user_created, subject_user_id=user.id, email=email,
             details={"role": "administrateur", "via": "cli"})
    db.session.commit()
    click.echo(f"Administrateur {email} créé.")


sessions_cli = AppGroup("sessions", help="Maintenance of the sessions table.")


@sessions_cli.command("prune")
@click.option("--older-than", "older_than", default=30, show_default=True, type=click.IntRange(min=0),
              help="Retention in days after expiry or revocation.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(min=1, max=100000))
def prune_sessions_command(older_than, batch_size):
    """Delete sessions expired or revoked for longer than the retention, in short batches."""
    with click.progressbar(length=count_dead_sessions(older_than), label="Suppression des sessions",
                           file=sys.stderr) as bar:
        deleted = prune_dead_sessions(older_than, batch_size, on_batch=bar.update)
    click.echo(f"{deleted} session(s) supprimée(s).")
