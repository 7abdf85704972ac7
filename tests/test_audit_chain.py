"""The tamper-evident audit log (issue 15): the hash chain, `flask audit verify` catching an edit, a
removal and an insertion, the append-only triggers, and the retention purge keeping the chain verifiable."""
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from courrier.audit import append_only
from courrier.audit.chain import GENESIS, chain_hash
from courrier.audit.models import AuditAnchor, AuditEvent
from courrier.auth.models import AuthSession, User
from courrier.extensions import db
from tests.conftest import TEST_DATABASE_URL

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def add_events(app, count, created_at=None, prefix="evenement"):
    """`count` events written as the listener writes them; returns their ids in chain order."""
    with app.app_context():
        added = [AuditEvent(type="login_failed", email=f"{prefix}-{n}@example.com",
                            created_at=created_at + timedelta(seconds=n) if created_at else None,
                            details={"reason": "unknown_email", "n": n})
                 for n in range(count)]
        db.session.add_all(added)
        db.session.commit()
        return [event.id for event in added]


def chain(app):
    with app.app_context():
        return db.session.execute(select(AuditEvent.seq, AuditEvent.id).order_by(AuditEvent.seq)).all()


@contextmanager
def behind_the_apps_back(app):
    """A connection with the append-only triggers dropped, as someone holding the database could do."""
    with app.app_context(), db.engine.begin() as connection:
        append_only.drop_triggers(connection)
        yield connection
        append_only.install_triggers(connection)


def test_every_event_links_to_the_one_before(app, runner, auth, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1")
    add_events(app, 3)
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
        previous = GENESIS
        for row in rows:
            assert row.hash == chain_hash(previous, row)
            previous = row.hash
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} événement(s) vérifié(s)" in result.output and rows[-1].hash in result.output


def test_several_events_of_one_transaction_are_chained_in_the_order_they_were_added(app, runner):
    ids = add_events(app, 5)
    assert [event_id for _, event_id in chain(app)] == ids
    assert verify(runner).exit_code == 0


def test_concurrent_writers_never_fork_the_chain(app, runner):
    """Without the chain's lock, two writers read the same head: a duplicate seq (or, without the
    unique index, a fork)."""
    errors, start = [], threading.Barrier(6)

    def writer(n):
        try:
            start.wait()
            add_events(app, 5, prefix=f"writer-{n}")
        except Exception as error:  # noqa: BLE001  the test reports any failure
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [seq for seq, _ in chain(app)] == list(range(1, 31))
    assert verify(runner).exit_code == 0


def test_verify_names_an_altered_event(app, runner):
    ids = add_events(app, 5)
    with behind_the_apps_back(app) as connection:
        connection.execute(text("UPDATE audit_events SET email = 'autre@example.com' WHERE id = :id"), {"id": ids[2]})
    result = verify(runner)
    assert result.exit_code == 1
    assert "(altered)" in result.output and f"n° 3 (id {ids[2]}" in result.output and "modifié" in result.output


def test_verify_names_an_altered_detail(app, runner):
    ids = add_events(app, 3)
    with behind_the_apps_back(app) as connection:
        connection.execute(text("UPDATE audit_events SET details = :details WHERE id = :id"),
                           {"details": '{"reason": "wrong_password", "n": 1}', "id": ids[1]})
    result = verify(runner)
    assert result.exit_code == 1 and f"id {ids[1]}" in result.output


def test_verify_names_a_removed_event(app, runner):
    ids = add_events(app, 5)
    with behind_the_apps_back(app) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    result = verify(runner)
    assert result.exit_code == 1
    assert "(removed)" in result.output and "n° 2 supprimé" in result.output and f"id {ids[2]}" in result.output


def test_verify_names_the_first_events_removed(app, runner):
    ids = add_events(app, 4)
    with behind_the_apps_back(app) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq <= 2"))
    result = verify(runner)
    assert result.exit_code == 1 and "n° 1 à 2 supprimé" in result.output and f"id {ids[2]}" in result.output


def forged_event(seq, previous_hash="f" * 64):
    event = AuditEvent(id="01900000-0000-7000-8000-000000000000", type="login_succeeded", actor_id=None,
                       subject_user_id=None, email="faux@example.com", ip="203.0.113.1", user_agent=None,
                       created_at=LONG_AGO, details=None, seq=seq)
    event.hash = chain_hash(previous_hash, event)
    return event


def insert_raw(connection, event):
    connection.execute(AuditEvent.__table__.insert().values(
        {column.key: getattr(event, column.key) for column in AuditEvent.__table__.columns}))


def test_verify_names_an_event_inserted_in_the_middle(app, runner):
    add_events(app, 4)
    with behind_the_apps_back(app) as connection:
        # Room for it: the later events renumbered, as a forger would.
        for seq in (4, 3):
            connection.execute(text("UPDATE audit_events SET seq = seq + 1 WHERE seq = :seq"), {"seq": seq})
        insert_raw(connection, forged_event(3))
    result = verify(runner)
    assert result.exit_code == 1
    assert "(inserted)" in result.output and "n° 3 (id 01900000-0000-7000-8000-000000000000" in result.output


def test_verify_names_an_event_added_at_the_end(app, runner):
    add_events(app, 3)
    with behind_the_apps_back(app) as connection:
        insert_raw(connection, forged_event(4))
    result = verify(runner)
    assert result.exit_code == 1 and "n° 4 (id 01900000-0000-7000-8000-000000000000" in result.output


def test_verify_names_an_event_numbered_before_the_chain(app, runner):
    add_events(app, 2)
    with behind_the_apps_back(app) as connection:
        insert_raw(connection, forged_event(0, GENESIS))
    result = verify(runner)
    assert result.exit_code == 1 and "(inserted)" in result.output and "n° 0" in result.output


def test_verify_passes_on_an_empty_log(runner):
    result = verify(runner)
    assert result.exit_code == 0 and "0 événement(s)" in result.output


# ------------------------------------------------------------------ the triggers

STATEMENTS = {
    "update": "UPDATE audit_events SET email = 'autre@example.com'",
    "update-created-at": "UPDATE audit_events SET created_at = created_at",
    "delete-one": "DELETE FROM audit_events WHERE seq = 2",
    "delete-oldest": "DELETE FROM audit_events WHERE seq = 1",
    "delete-all": "DELETE FROM audit_events",
}
if TEST_DATABASE_URL:
    STATEMENTS["truncate"] = "TRUNCATE audit_events"


@pytest.mark.parametrize("statement", STATEMENTS.values(), ids=STATEMENTS.keys())
def test_the_database_refuses_to_change_or_remove_an_event(app, runner, statement):
    add_events(app, 3)
    before = chain(app)
    with app.app_context(), pytest.raises(DBAPIError, match="ajout seul"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert chain(app) == before


def test_the_orm_cannot_update_an_event_either(app):
    [event_id] = add_events(app, 1)
    with app.app_context():
        db.session.get(AuditEvent, event_id).email = "autre@example.com"
        with pytest.raises(DBAPIError, match="ajout seul"):
            db.session.commit()


@pytest.mark.parametrize("statement", ["UPDATE audit_anchors SET hash = 'x'", "DELETE FROM audit_anchors"])
def test_the_database_refuses_to_change_or_remove_an_anchor(app, runner, statement):
    add_events(app, 3, created_at=LONG_AGO)
    assert runner.invoke(args=["audit", "prune"]).exit_code == 0
    with app.app_context(), pytest.raises(DBAPIError, match="ajout seul"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))


def test_an_anchor_lets_only_the_events_it_covers_go(app):
    add_events(app, 4)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(AuditAnchor.__table__.insert().values(seq=2, hash="0" * 64, removed=2, created_at=LONG_AGO))
        connection.execute(text("DELETE FROM audit_events WHERE seq <= 2"))
    with app.app_context(), pytest.raises(DBAPIError, match="ajout seul"):
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    assert [seq for seq, _ in chain(app)] == [3, 4]


def test_a_user_with_events_can_still_be_deleted_and_the_chain_holds(app, client, runner, auth, admin, agent):
    """The events keep the user's id (no ON DELETE SET NULL, which would be a refused UPDATE)."""
    with app.app_context():
        db.session.execute(delete(AuthSession).where(AuthSession.user_id == agent.id))
        db.session.execute(delete(User).where(User.id == agent.id))
        db.session.commit()
        kept = db.session.scalar(select(AuditEvent).where(AuditEvent.subject_user_id == agent.id))
        assert kept.type == "login_succeeded" and kept.subject_user is None
    logged = client.get("/api/audit/events", headers=admin.headers, query_string={"user_id": agent.id}).json["data"]
    assert [(e["type"], e["subject_user"]) for e in logged] == [("login_succeeded", None)]
    assert verify(runner).exit_code == 0


# ------------------------------------------------------------------ retention

def test_prune_removes_the_events_older_than_the_retention_and_the_chain_still_verifies(app, runner, auth):
    old = add_events(app, 7, created_at=datetime.now(timezone.utc) - timedelta(days=400), prefix="ancien")
    recent = add_events(app, 2, prefix="recent")
    result = runner.invoke(args=["audit", "prune", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "7 événement(s) de plus de 365 jour(s) supprimé(s)" in result.output
    assert [event_id for _, event_id in chain(app)] == recent
    with app.app_context():
        anchors = db.session.execute(select(AuditAnchor.seq, AuditAnchor.removed).order_by(AuditAnchor.seq)).all()
        assert anchors == [(3, 3), (6, 3), (7, 1)]
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "ancre de purge, événement n° 7" in result.output and "2 événement(s) vérifié(s)" in result.output
    auth.account("agent")  # appends after a purge link to the remaining chain
    assert verify(runner).exit_code == 0
    assert old[0] not in {event_id for _, event_id in chain(app)}


def test_prune_of_every_event_leaves_an_anchor_the_next_event_links_to(app, runner):
    add_events(app, 3, created_at=LONG_AGO)
    assert runner.invoke(args=["audit", "prune", "--older-than", "30"]).exit_code == 0
    assert chain(app) == []
    add_events(app, 1)
    assert [seq for seq, _ in chain(app)] == [4]
    assert verify(runner).exit_code == 0


def test_prune_stops_at_the_first_event_still_within_the_retention(app, runner):
    """Only a prefix of the chain goes, even if a later event is older (clocks of two machines)."""
    add_events(app, 2, created_at=LONG_AGO)
    add_events(app, 1)
    add_events(app, 1, created_at=LONG_AGO, prefix="tardif")
    assert "2 événement(s)" in runner.invoke(args=["audit", "prune"]).output
    assert [seq for seq, _ in chain(app)] == [3, 4]
    assert verify(runner).exit_code == 0


def test_prune_then_tamper_then_verify_fails(app, runner):
    add_events(app, 3, created_at=LONG_AGO)
    ids = add_events(app, 3)
    assert runner.invoke(args=["audit", "prune"]).exit_code == 0
    with behind_the_apps_back(app) as connection:
        connection.execute(text("UPDATE audit_events SET ip = '198.51.100.7' WHERE id = :id"), {"id": ids[0]})
    result = verify(runner)
    assert result.exit_code == 1 and f"n° 4 (id {ids[0]}" in result.output


def test_prune_then_removing_the_first_remaining_event_is_caught(app, runner):
    add_events(app, 2, created_at=LONG_AGO)
    ids = add_events(app, 3)
    assert runner.invoke(args=["audit", "prune"]).exit_code == 0
    with behind_the_apps_back(app) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[0]})
    result = verify(runner)
    assert result.exit_code == 1 and "(removed)" in result.output and "n° 3 supprimé" in result.output


def test_prune_keeps_everything_within_the_retention(app, runner):
    add_events(app, 3)
    result = runner.invoke(args=["audit", "prune"])
    assert result.exit_code == 0 and "0 événement(s)" in result.output
    assert len(chain(app)) == 3


@pytest.mark.parametrize("app_config", [{"AUDIT_RETENTION_DAYS": 10}])
def test_prune_reads_the_retention_from_the_configuration(app, runner):
    add_events(app, 1, created_at=datetime.now(timezone.utc) - timedelta(days=11))
    add_events(app, 1, created_at=datetime.now(timezone.utc) - timedelta(days=9))
    assert "1 événement(s) de plus de 10 jour(s)" in runner.invoke(args=["audit", "prune"]).output
    assert [seq for seq, _ in chain(app)] == [2]
