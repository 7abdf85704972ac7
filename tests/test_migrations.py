"""Migrations upgrade a live database in place, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL."""
from sqlalchemy import text

from tests.conftest import TEST_DATABASE_URL, AuthActions, base_config
from courrier import create_app, register_migrations
from courrier.extensions import db

BEFORE_SERVICES = "4be5b34c317d"


def test_the_services_and_treatment_migrations_keep_existing_letters_and_give_them_deadlines(
        tmp_path, scratch_database_url):
    from flask_migrate import upgrade

    url = scratch_database_url
    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": url})
    register_migrations(app)
    with app.app_context():
        if TEST_DATABASE_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision=BEFORE_SERVICES)
        db.session.execute(text(
            "INSERT INTO users (id, email, password_hash, nom, prenom, role, is_active, created_at, updated_at) "
            "VALUES ('u-old', 'ancien@example.fr', 'x', 'Ancien', 'Agent', 'agent', true, :now, :now)"),
            {"now": "2026-11-01 10:00:00"})
        db.session.execute(text(
            "INSERT INTO documents (id, reference, type, objet, expediteur, destinataire, priorite, statut, "
            "created_by_id, created_at, updated_at) VALUES ('d-old', 'ENT-2026-000001', 'entrant', "
            "'Raccordement au réseau', 'Mairie', 'Préfecture', 'normale', 'en_attente', 'u-old', :now, :now)"),
            {"now": "2026-11-01 10:00:00"})
        db.session.commit()
        upgrade()
    try:
        client = app.test_client()
        admin = AuthActions(app, client).account("administrateur")
        old = client.get("/api/documents/d-old", headers=admin.headers).json["data"]
        assert (old["reference"], old["service"], old["copies"]) == ("ENT-2026-000001", None,
                                                                     {"services": [], "users": []})
        # Received (registered) on Sunday 1 November, a holiday: 30 working days later, 11 November skipped.
        assert old["traitement"]["echeance"] == "2026-12-14"
        found = client.get("/api/documents", query_string={"q": "raccordement"}, headers=admin.headers).json
        assert [d["id"] for d in found["data"]] == ["d-old"]  # the computed search column survived
        service = client.post("/api/services", json={"code": "FIN", "nom": "Finances"}, headers=admin.headers).json
        routed = client.post("/api/documents/d-old/assign", json={"service_id": service["data"]["id"]},
                             headers=admin.headers)
        assert routed.status_code == 200 and routed.json["data"]["service"]["code"] == "FIN"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


BEFORE_AUDIT_CHAIN = "5e1d3c0a2b7f"


def test_the_audit_chain_migration_chains_the_existing_events_and_makes_them_append_only(
        tmp_path, scratch_database_url):
    import pytest
    from flask_migrate import upgrade
    from sqlalchemy.exc import DBAPIError

    url = scratch_database_url
    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": url})
    register_migrations(app)
    with app.app_context():
        if TEST_DATABASE_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision=BEFORE_AUDIT_CHAIN)
        db.session.execute(text(
            "INSERT INTO users (id, email, password_hash, nom, prenom, role, is_active, created_at, updated_at) "
            "VALUES ('u-old', 'ancien@example.fr', 'x', 'Ancien', 'Agent', 'agent', true, :now, :now)"),
            {"now": "2026-11-01 10:00:00"})
        # Written out of order, two at the same instant, one with details: the upgrade orders them.
        for event_id, moment, details in (("e-3", "2026-11-03 08:00:00", None),
                                          ("e-1", "2026-11-01 10:00:00", '{"method": "password"}'),
                                          ("e-2b", "2026-11-02 09:30:00.250000", None),
                                          ("e-2a", "2026-11-02 09:30:00.250000", '{"changes": {"nom": ["A", "B"]}}')):
            db.session.execute(text(
                "INSERT INTO audit_events (id, type, actor_id, subject_user_id, email, ip, user_agent, created_at, "
                "details) VALUES (:id, 'login_succeeded', 'u-old', 'u-old', 'ancien@example.fr', '10.0.0.1', "
                "'Navigateur/1.0', :at, :details)"), {"id": event_id, "at": moment, "details": details})
        db.session.commit()
        upgrade()
        chained = db.session.execute(text("SELECT id, seq FROM audit_events ORDER BY seq")).all()
        assert [tuple(row) for row in chained] == [("e-1", 1), ("e-2a", 2), ("e-2b", 3), ("e-3", 4)]
        db.session.remove()
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 0 and "4 événement(s) vérifié(s)" in result.output, result.output
        with app.app_context(), pytest.raises(DBAPIError, match="ajout seul"):
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE audit_events SET ip = '10.0.0.2' WHERE id = 'e-1'"))
        AuthActions(app, app.test_client()).account("administrateur")  # a new event, chained after the old ones
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 0 and "5 événement(s) vérifié(s)" in result.output, result.output
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
