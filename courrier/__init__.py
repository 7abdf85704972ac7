"""courrier — the mail register API of the service courrier.

`create_app()` builds the application: configuration from the environment (config.py), then the
extensions, the blueprints, the error handlers and the CLI commands. The HTTP contract is API.md.
"""
import os

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, engine_options
from courrier.database import configure_engine, render_migration_item
from courrier.errors import register_error_handlers
from courrier.extensions import api, cors, db, jwt, limiter
from courrier.http import register_http_hooks
from courrier.openapi import ServerRulesPlugin


def create_app(config=None):
    """Build the app; `config` (a mapping) overrides the environment, e.g. in tests."""
    project_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, static_folder=None, instance_path=os.path.join(project_dir, "instance"))
    app.config.from_mapping(Config.from_env().as_flask_config())
    app.config.from_mapping(config or {})
    # The pool options follow the database in force, overridden or not, unless given explicitly.
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["TRUSTED_PROXIES"] > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    if click.get_current_context(silent=True) is not None:
        register_migrations(app)
    return app


def register_extensions(app):
    from courrier.audit.listeners import connect_audit_listeners
    from courrier.auth.guard import BEARER_SCHEME
    from courrier.auth.tokens import init_token_store
    from courrier.jobs import init_jobs
    from courrier.notifications.listeners import connect_notification_listeners
    from courrier.statistics.ledger import connect_statistics_listeners
    from courrier.storage import init_storage

    import courrier.models  # noqa: F401  every model known to the metadata, for Flask-Migrate

    db.init_app(app)
    configure_engine(app)
    jwt.init_app(app)
    init_limiter(app)
    api.init_app(app, spec_kwargs={"extra_plugins": [ServerRulesPlugin(app.config)]})
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    if app.config["CORS_ORIGINS"]:  # else no response carries CORS headers: no hook to run on each one
        cors.init_app(
            app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}}, supports_credentials=False,
            allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After"])
    register_http_hooks(app)
    init_token_store(app)
    init_storage(app)
    connect_audit_listeners()
    connect_notification_listeners()
    connect_statistics_listeners()
    init_jobs(app)


def register_migrations(app):
    """Flask-Migrate, for `flask db …`: `create_app` calls it when the `flask` command loads the app.

    Gunicorn workers never migrate, and importing alembic would cost each of them 11 MB.
    """
    from flask_migrate import Migrate

    Migrate(app, db, render_as_batch=True, render_item=render_migration_item)


def init_limiter(app):
    """Flask-Limiter, checking limits only where a view is decorated with one.

    There are no default or application-wide limits, and a decorated view checks its own limits when it
    runs; the extension's before_request pass, which resolves the limits of every request anyway, is
    removed: it cost about 130 µs of a 700 µs GET /api/auth/me. With RATELIMIT_ENABLED=false
    the extension registers no such pass.
    """
    limiter.init_app(app)
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:
        checks.remove(limiter._check_request_limit)


def register_blueprints(app):
    from courrier import accessibility, health
    from courrier.audit import routes as audit_routes
    from courrier.auth import routes as auth_routes
    from courrier.capture import routes as capture_routes
    from courrier.contacts import routes as contacts_routes
    from courrier.documents import register_routes, routes as documents_routes
    from courrier.jobs import routes as jobs_routes
    from courrier.oidc import routes as oidc_routes
    from courrier.services import routes as services_routes
    from courrier.statistics import routes as statistics_routes
    from courrier.typologies import routes as typologies_routes
    from courrier.users import routes as users_routes

    from courrier.web.routes import blp as web_blp

    for module in (health, auth_routes, documents_routes, services_routes, typologies_routes, users_routes,
                   audit_routes, contacts_routes, oidc_routes, accessibility, statistics_routes, jobs_routes):
        api.register_blueprint(module.blp)
    api.register_blueprint(documents_routes.queues_blp)
    api.register_blueprint(capture_routes.blp)
    api.register_blueprint(capture_routes.scans_blp)
    api.register_blueprint(audit_routes.history_blp)
    api.register_blueprint(register_routes.blp)
    api.register_blueprint(users_routes.profile_blp)
    app.register_blueprint(web_blp)


def register_commands(app):
    from courrier.audit.cli import audit_cli
    from courrier.auth.cli import create_admin_command, sessions_cli
    from courrier.capture.cli import capture_cli
    from courrier.documents.cli import registre_cli
    from courrier.contacts.cli import contacts_cli
    from courrier.jobs.cli import worker_cli
    from courrier.notifications.cli import notifications_cli
    from courrier.search.cli import search_cli
    from courrier.services.cli import services_cli
    from courrier.statistics.cli import statistiques_cli
    from courrier.storage.cli import storage_cli

    app.cli.add_command(create_admin_command)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(services_cli)
    app.cli.add_command(registre_cli)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(statistiques_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(worker_cli)
    app.cli.add_command(capture_cli)
