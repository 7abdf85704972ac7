"""`flask audit connections` and `flask audit events`: the same filters as the API, as CSV or a table."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from courrier.auth.models import AuthSession
from courrier.extensions import db

STRONG_PASSWORD = "Tournesol-Quai-Brume-42"
SESSION_HEADER = ["created_at", "user_id", "email", "nom", "prenom", "ip", "user_agent", "last_used_at",
                  "expires_at", "revoked_at", "revoked_reason", "active", "session_id"]
EVENT_HEADER = ["created_at", "type", "actor_id", "actor_email", "subject_user_id", "subject_email", "email", "ip",
                "user_agent", "details", "event_id"]


def run(runner, *args):
    result = runner.invoke(args=["audit", *args])
    assert result.exit_code == 0, result.output
    return result


def csv_rows(runner, *args):
    """The CSV a command writes on stdout, parsed back: (header, rows as dicts)."""
    result = run(runner, *args, "--format", "csv")
    # Click's `result.stdout` turns "\r\n" into "\n": read the bytes, as a file reader would.
    table = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8"), newline="")))
    header, rows = table[0], table[1:]
    return header, [dict(zip(header, row)) for row in rows]


def login_from(auth, account, ip="127.0.0.1", user_agent="courrier-tests/1.0"):
    response = auth.login(account.email, STRONG_PASSWORD,
                          environ_base={"REMOTE_ADDR": ip, "HTTP_USER_AGENT": user_agent})
    assert response.status_code == 200, response.json


# ------------------------------------------------------------------ connections


def test_connections_csv_has_a_header_and_one_row_per_session(runner, auth, admin, agent):
    login_from(auth, agent, ip="10.2.0.1")
    header, rows = csv_rows(runner, "connections")
    assert header == SESSION_HEADER
    assert len(rows) == 3
    mine = [r for r in rows if r["user_id"] == agent.id]
    assert [r["ip"] for r in mine] == ["10.2.0.1", "127.0.0.1"]  # newest first
    row = mine[0]
    assert (row["email"], row["nom"], row["prenom"], row["active"]) == (agent.email, "Durand", "Paul", "true")
    assert datetime.fromisoformat(row["created_at"]).utcoffset().total_seconds() == 0
    assert row["revoked_at"] == "" and row["revoked_reason"] == ""


@pytest.mark.parametrize("user_agent", [
    'Mozilla/5.0 (X11, Linux) "Navigateur, maison"',
    'ligne 1\nligne 2, "citée"\r\nfin',
    "Équipe « courrier » ; café ☕",
])
def test_connections_csv_round_trips_commas_quotes_and_newlines(runner, auth, agent, user_agent):
    login_from(auth, agent, user_agent=user_agent)
    _, rows = csv_rows(runner, "connections", "--email", agent.email)
    assert rows[0]["user_agent"] == user_agent


@pytest.mark.parametrize("user_agent", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_connections_csv_neutralises_spreadsheet_formulas(runner, auth, agent, user_agent):
    login_from(auth, agent, user_agent=user_agent)
    _, rows = csv_rows(runner, "connections", "--email", agent.email)
    assert rows[0]["user_agent"] == "'" + user_agent


def test_connections_filter_by_email_ip_and_activity(runner, auth, agent, validateur):
    login_from(auth, agent, ip="10.2.0.2")
    _, by_email = csv_rows(runner, "connections", "--email", agent.email.upper())
    assert {r["user_id"] for r in by_email} == {agent.id} and len(by_email) == 2
    _, by_ip = csv_rows(runner, "connections", "--ip", "10.2.0.2")
    assert [r["user_id"] for r in by_ip] == [agent.id]
    auth.client.post("/api/auth/logout", headers=validateur.headers)
    _, ended = csv_rows(runner, "connections", "--inactive")
    assert [(r["user_id"], r["revoked_reason"], r["active"]) for r in ended] == [(validateur.id, "logout", "false")]


def test_connections_filter_by_period(app, runner, auth, agent):
    with app.app_context():
        db.session.execute(update(AuthSession).where(AuthSession.user_id == agent.id)
                           .values(created_at=datetime(2026, 2, 14, 23, 59, tzinfo=timezone.utc)))
        db.session.commit()
    _, rows = csv_rows(runner, "connections", "--since", "2026-02-14", "--until", "2026-02-14")
    assert [r["user_id"] for r in rows] == [agent.id]
    _, rows = csv_rows(runner, "connections", "--until", "2026-02-14T23:58:59+00:00")
    assert rows == []
    _, rows = csv_rows(runner, "connections", "--since", "2026-02-15")
    assert agent.id not in {r["user_id"] for r in rows}


def test_connections_csv_with_no_match_is_just_the_header(runner):
    result = run(runner, "connections", "--email", "personne@example.com", "--format", "csv")
    assert list(csv.reader(io.StringIO(result.stdout, newline=""))) == [SESSION_HEADER]
    assert "0 connexion(s)." in result.stderr


def test_connections_table_is_aligned_and_escapes_control_characters(runner, auth, agent):
    login_from(auth, agent, user_agent="ligne 1\nligne 2 \x1b[31mrouge")
    result = run(runner, "connections", "--email", agent.email)
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # header, rule, two sessions
    assert lines[0].split() == ["created_at", "email", "ip", "user_agent", "last_used_at", "revoked_at",
                                "revoked_reason", "active"]
    rule_starts = [i for i, char in enumerate(lines[1]) if char == "-" and (i == 0 or lines[1][i - 1] == " ")]
    header_starts = [lines[0].index(name) for name in lines[0].split()]
    assert rule_starts == header_starts
    assert agent.email in lines[2] and lines[2].index(agent.email) == header_starts[1]
    assert "\\n" in lines[2] and "\\x1b" in lines[2] and "\x1b" not in result.stdout


def test_connections_refuses_a_bad_date(runner):
    result = runner.invoke(args=["audit", "connections", "--since", "hier"])
    assert result.exit_code == 2
    assert "Date invalide" in result.output


# ------------------------------------------------------------------ events


def test_events_csv_reports_failed_logins_for_an_email(runner, auth, agent):
    password = "Mot-De-Passe-Tente-77"
    for email in ("Cible@Example.com", "autre@example.com"):
        auth.login(email, password, environ_base={"REMOTE_ADDR": "10.3.0.1", "HTTP_USER_AGENT": 'ua, "x"'})
    header, rows = csv_rows(runner, "events", "--type", "login_failed", "--email", "cible@example.com")
    assert header == EVENT_HEADER
    assert [(r["type"], r["email"], r["ip"], r["user_agent"]) for r in rows] == [
        ("login_failed", "cible@example.com", "10.3.0.1", 'ua, "x"')]
    assert json.loads(rows[0]["details"]) == {"reason": "unknown_email"}
    result = run(runner, "events", "--format", "csv")
    assert password not in result.stdout


def test_events_csv_names_actor_and_subject(runner, client, admin, agent):
    assert client.patch(f"/api/users/{agent.id}", json={"nom": "Nouveau, \"nom\""},
                        headers=admin.headers).status_code == 200
    _, rows = csv_rows(runner, "events", "--type", "user_updated")
    [row] = rows
    assert (row["actor_id"], row["actor_email"]) == (admin.id, admin.email)
    assert (row["subject_user_id"], row["subject_email"]) == (agent.id, agent.email)
    assert json.loads(row["details"])["changes"]["nom"] == {"old": "Durand", "new": 'Nouveau, "nom"'}


def test_events_filter_by_period(app, runner, auth, agent):
    _, today = csv_rows(runner, "events", "--type", "login_succeeded", "--since",
                        datetime.now(timezone.utc).date().isoformat())
    assert {r["subject_user_id"] for r in today} == {agent.id}
    _, past = csv_rows(runner, "events", "--until", "2000-01-01")
    assert past == []


def test_events_table(runner, auth, agent):
    auth.login(agent.email, "Mauvais-Mot-De-Passe-1")
    result = run(runner, "events", "--type", "login_failed")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["created_at", "type", "actor_email", "subject_email", "email", "ip", "details"]
    assert len(lines) == 3 and "login_failed" in lines[2] and agent.email in lines[2]
    assert "1 événement(s)." in result.stderr


def test_events_refuses_an_unknown_type(runner):
    result = runner.invoke(args=["audit", "events", "--type", "document_deleted"])
    assert result.exit_code == 2


def test_sessions_ids_in_csv_are_the_database_ids(app, runner, agent):
    _, rows = csv_rows(runner, "connections", "--email", agent.email)
    with app.app_context():
        assert [r["session_id"] for r in rows] == db.session.scalars(
            select(AuthSession.id).where(AuthSession.user_id == agent.id)).all()
