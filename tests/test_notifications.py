"""E-mail notifications (issue 13): the outbox filled in the change's transaction, a real SMTP server
(aiosmtpd, in this process) reading what the sender delivered, retries, and exactly-once across a
sender killed mid-batch and two concurrent senders."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from courrier.audit.models import AuditEvent
from courrier.columns import utcnow
from courrier.deadlines import paris_today
from courrier.documents.models import Document
from courrier.extensions import db
from courrier.notifications import sender
from courrier.notifications.models import Notification
from tests.conftest import TEST_DATABASE_URL, join, service

APP_URL = "https://courrier.mairie.example"
PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
CLAIM_SECONDS = 2
MAX_ATTEMPTS = 3


# ------------------------------------------------------------------ a real SMTP server

class Mailbox:
    """An aiosmtpd handler keeping every message it accepted; `before_accept(envelope)` may answer instead."""

    def __init__(self):
        self.received = []
        self.before_accept = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.before_accept is not None:
            reply = self.before_accept(envelope)
            if reply:
                return reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(SimpleNamespace(
                to=list(envelope.rcpt_tos), sender=envelope.mail_from, message=message, raw=envelope.content,
                subject=str(message["Subject"]), message_id=str(message["Message-ID"]),
                text=message.get_body(("plain",)).get_content(), html=message.get_body(("html",)).get_content()))
        return "250 Message accepted for delivery"

    def to(self, email):
        return [mail for mail in self.received if mail.to == [email]]

    def message_ids(self):
        return [mail.message_id for mail in self.received]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    mailbox.controller = controller
    yield mailbox
    try:
        controller.stop()
    except AssertionError:  # already stopped by the test
        pass


@pytest.fixture
def app_config(smtp):
    return {"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "APP_URL": APP_URL, "MAIL_FROM": "courrier@mairie.example",
            "NOTIFY_CLAIM_SECONDS": CLAIM_SECONDS, "NOTIFY_MAX_ATTEMPTS": MAX_ATTEMPTS, "NOTIFY_RETRY_SECONDS": 60}


def send(app, **kwargs):
    with app.app_context():
        return sender.send_pending(**kwargs)


def outbox(app, **filters):
    with app.app_context():
        query = select(Notification).order_by(Notification.created_at, Notification.id)
        for name, value in filters.items():
            query = query.where(getattr(Notification, name) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


# ------------------------------------------------------------------ an organisation

@pytest.fixture
def org(client, auth, admin):
    """FIN (no mailbox, three members), RH (mailbox rh@mairie.example), a registrar and a copied agent."""
    o = SimpleNamespace(admin=admin)
    o.fin = service(client, admin, "FIN")
    o.rh = service(client, admin, "RH", email="rh@mairie.example")
    people = {"registrar": ("agent", []), "fin_agent": ("agent", [o.fin]), "fin_agent2": ("agent", [o.fin]),
              "fin_validateur": ("validateur", [o.fin]), "rh_agent": ("agent", [o.rh]),
              "copied": ("agent", []), "validateur": ("validateur", [])}
    for name, (role, services) in people.items():
        account = auth.account(role, nom=name)
        if services:
            join(client, admin, account, *services)
        setattr(o, name, account)
    return o


def create(client, account, **fields):
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie", "destinataire": "Préfecture",
            **fields}
    response = client.post("/api/documents", json=body, headers=account.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def link_to(document):
    return f"{APP_URL}/#/documents/{document['id']}"


# ------------------------------------------------------------------ what triggers a mail

def test_routing_to_a_responsable_mails_them_the_link_and_no_token(app, client, smtp, org):
    letter = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    assert [n.kind for n in outbox(app)] == ["assigned"]
    assert send(app)["sent"] == 1
    [mail] = smtp.received
    assert mail.to == [org.fin_agent.email]
    assert letter["reference"] in mail.subject and "vous est imputé" in mail.subject
    for body in (mail.text, mail.html):
        assert link_to(letter) in body
        assert set(re.findall(r"https?://\S+?(?=[\s\"<]|$)", body)) == {link_to(letter)}
    raw = mail.raw.decode()
    for account in (org.registrar, org.fin_agent, org.admin):
        assert account.token not in raw and account.refresh not in raw
    assert "token" not in raw.lower()
    assert outbox(app)[0].status == "sent" and outbox(app)[0].sent_at is not None


def test_routing_to_a_service_with_a_mailbox_mails_the_mailbox_only(app, client, smtp, org):
    create(client, org.registrar, service_id=org.rh["id"])
    send(app)
    assert [mail.to for mail in smtp.received] == [["rh@mairie.example"]]
    assert "imputé au service RH" in smtp.received[0].subject


def test_routing_to_a_service_without_mailbox_mails_its_members(app, client, smtp, org):
    create(client, org.registrar, service_id=org.fin["id"])
    send(app)
    assert sorted(mail.to[0] for mail in smtp.received) == sorted(
        [org.fin_agent.email, org.fin_agent2.email, org.fin_validateur.email])


def test_copies_mail_the_newly_copied_users_and_services_once(app, client, smtp, org):
    letter = create(client, org.registrar, copie_user_ids=[org.copied.id], copie_service_ids=[org.rh["id"]])
    send(app)
    assert sorted(mail.to[0] for mail in smtp.received) == sorted([org.copied.email, "rh@mairie.example"])
    assert all("en copie" in mail.subject for mail in smtp.received)
    # Re-routing the letter with the same copies copies nobody new.
    response = client.post(f"/api/documents/{letter['id']}/assign", json={
        "service_id": org.fin["id"], "responsable_id": org.fin_agent.id,
        "copie_user_ids": [org.copied.id], "copie_service_ids": [org.rh["id"]]}, headers=org.admin.headers)
    assert response.status_code == 200, response.json
    send(app)
    assert sorted(mail.to[0] for mail in smtp.received[2:]) == [org.fin_agent.email]


@pytest.mark.parametrize("decision, body, words", [
    ("validate", {}, "validé"),
    ("reject", {"motif": "Hors compétence"}, "rejeté"),
])
def test_a_decision_mails_the_registrar(app, client, smtp, org, decision, body, words):
    letter = create(client, org.registrar)
    response = client.post(f"/api/documents/{letter['id']}/{decision}", json=body, headers=org.validateur.headers)
    assert response.status_code == 200, response.json
    send(app)
    [mail] = smtp.received
    assert mail.to == [org.registrar.email] and words in mail.subject
    assert link_to(letter) in mail.text
    if body:
        assert "Motif : Hors compétence" in mail.text


def test_a_user_who_turned_notifications_off_gets_nothing(app, client, smtp, org):
    response = client.patch("/api/auth/me", json={"notifications_email": False}, headers=org.fin_agent.headers)
    assert response.status_code == 200, response.json
    assert response.json["data"]["notifications_email"] is False
    assert client.get("/api/auth/me", headers=org.fin_agent.headers).json["data"]["notifications_email"] is False
    assert client.get("/api/auth/me", headers=org.fin_agent2.headers).json["data"]["notifications_email"] is True
    create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    create(client, org.registrar, service_id=org.fin["id"])
    send(app)
    assert smtp.to(org.fin_agent.email) == []
    assert smtp.to(org.fin_agent2.email) and smtp.to(org.fin_validateur.email)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "notifications_changed")).all()
        assert [(e.actor_id, e.details) for e in events] == [(org.fin_agent.id, {"notifications_email": False})]


@pytest.mark.parametrize("value", ["false", 0, None])
def test_the_preference_is_a_json_boolean(client, agent, value):
    response = client.patch("/api/auth/me", json={"notifications_email": value}, headers=agent.headers)
    assert response.status_code == 422


def test_the_actor_is_not_notified_of_their_own_action(app, client, smtp, org):
    create(client, org.registrar, copie_user_ids=[org.registrar.id, org.copied.id])
    letter = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    response = client.post(f"/api/documents/{letter['id']}/assign", json={
        "service_id": org.fin["id"], "responsable_id": org.fin_agent.id, "copie_user_ids": [org.fin_agent.id]},
        headers=org.fin_agent.headers)
    assert response.status_code == 200, response.json
    send(app)
    assert [mail.to for mail in smtp.received] == [[org.copied.email], [org.fin_agent.email]]
    assert smtp.to(org.registrar.email) == []


def test_a_rolled_back_change_queues_nothing(app, client, smtp, org):
    response = client.post("/api/documents", json={
        "type": "entrant", "objet": "x", "expediteur": "a", "destinataire": "b", "service_id": org.fin["id"],
        "responsable_id": org.rh_agent.id}, headers=org.registrar.headers)
    assert response.status_code == 422
    assert outbox(app) == []


def test_the_html_body_escapes_what_users_typed(app, client, smtp, org):
    objet = '<img src=x onerror="alert(1)"> & Cie\nBcc: victime@example.org'
    create(client, org.registrar, service_id=org.rh["id"], objet=objet, expediteur="<b>Mairie</b>")
    send(app)
    [mail] = smtp.received
    assert "<img" not in mail.html and "<b>Mairie" not in mail.html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Cie" in mail.html
    assert "&lt;b&gt;Mairie&lt;/b&gt;" in mail.html
    assert "\n" not in mail.subject and mail.message["Bcc"] is None and mail.to == ["rh@mairie.example"]


# ------------------------------------------------------------------ deadlines

def set_deadline(app, document, days, **values):
    with app.app_context():
        db.session.execute(update(Document).where(Document.id == document["id"])
                           .values(echeance=paris_today() + timedelta(days=days), **values))
        db.session.commit()


def test_deadline_notices_are_queued_once_however_often_the_command_runs(app, client, runner, smtp, org):
    late = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    soon = create(client, org.registrar, service_id=org.rh["id"])
    treated = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    rejected = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    far = create(client, org.registrar, service_id=org.fin["id"], responsable_id=org.fin_agent.id)
    set_deadline(app, late, -3)
    set_deadline(app, soon, 0)
    set_deadline(app, treated, -3, statut="valide", traitement_etat="traite")
    set_deadline(app, rejected, -3, statut="rejete")
    set_deadline(app, far, 40)
    with app.app_context():
        db.session.execute(update(Notification).values(status="sent"))
        db.session.commit()
    first = runner.invoke(args=["notifications", "deadlines"])
    assert first.exit_code == 0, first.output
    assert "2 avis" in first.output
    second = runner.invoke(args=["notifications", "deadlines"])
    assert second.exit_code == 0 and "0 avis" in second.output
    queued = outbox(app, status="pending")
    assert sorted((n.kind, n.document_id, n.to_email) for n in queued) == sorted([
        ("late", late["id"], org.fin_agent.email), ("due_soon", soon["id"], "rh@mairie.example")])
    send(app)
    assert [mail.to for mail in smtp.to(org.fin_agent.email)] == [[org.fin_agent.email]]
    assert "en retard" in smtp.to(org.fin_agent.email)[0].subject
    # A new deadline is a new notice.
    set_deadline(app, late, -1)
    assert "1 avis" in runner.invoke(args=["notifications", "deadlines"]).output


# ------------------------------------------------------------------ failures, retries, status

def queue_plain(app, count):
    """`count` outbox rows, as the listeners would write them (the sender does not care which kind)."""
    with app.app_context():
        for number in range(count):
            db.session.add(Notification(to_email=f"dest{number:03d}@example.org", kind="copy",
                                        subject=f"Message {number:03d}", body_text=f"Corps {number}",
                                        body_html=f"<p>Corps {number}</p>"))
        db.session.commit()


def refuse_with_451(app, smtp):
    smtp.before_accept = lambda envelope: "451 4.3.0 Réessayez plus tard"


def stop_the_server(app, smtp):
    smtp.controller.stop()


@pytest.mark.parametrize("break_smtp", [refuse_with_451, stop_the_server])
def test_smtp_failures_are_retried_with_backoff_then_failed(app, runner, smtp, break_smtp):
    queue_plain(app, 1)
    break_smtp(app, smtp)
    now = utcnow() + timedelta(seconds=1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        counts = send(app, clock=lambda: now)
        [row] = outbox(app)
        assert row.attempts == attempt and row.last_error
        if attempt < MAX_ATTEMPTS:
            assert counts["retry"] == 1 and row.status == "pending"
            assert row.next_attempt_at == now + timedelta(seconds=60 * 2 ** (attempt - 1))
            assert send(app, clock=lambda: now + timedelta(seconds=59))["retry"] == 0  # not due yet
            now = row.next_attempt_at
        else:
            assert counts["failed"] == 1 and row.status == "failed"
    assert send(app, clock=lambda: now + timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
    assert smtp.received == []
    result = runner.invoke(args=["notifications", "status"])
    assert result.exit_code == 0, result.output
    assert "failed\t1" in result.output and "pending\t0" in result.output
    assert "dest000@example.org" in result.output and f"{MAX_ATTEMPTS} essai(s)" in result.output


# ------------------------------------------------------------------ exactly once, across processes

def sender_command(app, smtp, *args):
    environment = {**os.environ, "APP_ENV": "testing", "FLASK_APP": "wsgi",
                   "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "MAIL_FROM": "courrier@mairie.example",
                   "NOTIFY_CLAIM_SECONDS": str(CLAIM_SECONDS), "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]}
    return dict(args=[FLASK, "notifications", "send", *args], env=environment, cwd=PROJECT_DIR,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def expected_ids(app):
    return sorted(f"<{n.id}@mairie.example>" for n in outbox(app))


def test_a_sender_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, smtp):
    """The SMTP server kills the sender (SIGKILL) while it waits for the 4th message's 250, without keeping
    that message; after the claims expire another run delivers the rest: every message arrives once."""
    queue_plain(app, 8)
    seen = []

    def kill_on_the_fourth(envelope):
        seen.append(envelope)
        if len(seen) == 4:
            os.kill(process.pid, signal.SIGKILL)
            time.sleep(0.2)
            return "421 4.3.0 gone"

    smtp.before_accept = kill_on_the_fourth
    process = subprocess.Popen(**sender_command(app, smtp, "--batch-size", "8"))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr
    assert len(smtp.received) == 3
    statuses = [n.status for n in outbox(app)]
    assert statuses.count("sent") == 3 and statuses.count("sending") == 5
    smtp.before_accept = None
    time.sleep(CLAIM_SECONDS + 0.5)
    rerun = subprocess.run(**sender_command(app, smtp), timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(smtp.message_ids()) == expected_ids(app)
    assert {n.status for n in outbox(app)} == {"sent"}


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="FOR UPDATE SKIP LOCKED: PostgreSQL (TEST_DATABASE_URL)")
def test_two_concurrent_senders_deliver_each_message_once(app, smtp):
    queue_plain(app, 200)
    commands = [sender_command(app, smtp, "--batch-size", "10") for _ in range(2)]
    for command in commands:  # a claim outlives a batch even on a loaded machine: no claim expires here
        command["env"]["NOTIFY_CLAIM_SECONDS"] = "120"
    senders = [subprocess.Popen(**command) for command in commands]
    for process in senders:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert len(smtp.received) == 200
    assert sorted(smtp.message_ids()) == expected_ids(app)
    assert {n.status for n in outbox(app)} == {"sent"}
