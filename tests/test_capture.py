"""Capture (issue 25): drafts to qualify, scans in bulk, e-mails read into drafts (no mailbox: raw bytes).

The mailbox itself (Dovecot on loopback) is tests/system/test_capture_imap.py.
"""
import base64
import io
from datetime import date
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from courrier.audit.models import AuditEvent
from courrier.capture import files, imap, intake, messages
from courrier.capture.models import CapturedMessage
from courrier.contacts.models import Contact
from courrier.deadlines import paris_today
from courrier.documents.models import Attachment, Document
from courrier.extensions import db
from courrier.jobs.periodic import PERIODIC
from tests.conftest import create
from tests.test_documents import PDF

TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32


def scan(client, account, *named_files, expected=201):
    data = {"file": [(io.BytesIO(content), name) for name, content in named_files]}
    response = client.post("/api/numerisations", data=data, content_type="multipart/form-data",
                           headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def queues(client, account):
    return {q["code"]: q["count"] for q in client.get("/api/bannettes", headers=account.headers).json["data"]}


def listed(client, account, **query):
    response = client.get("/api/documents", query_string={"per_page": 100, **query}, headers=account.headers)
    return [d["id"] for d in response.json["data"]]


# ------------------------------------------------------------------ scans in bulk, drafts, visibility


def test_scans_make_one_draft_per_file_for_the_mail_office_only(app, client, org):
    drafts = scan(client, org.bc_agent, ("courrier_mairie.pdf", PDF), ("scan-0002.tif", TIFF))
    assert [(d["statut"], d["reference"], d["type"], d["origine"], d["created_by"]["id"]) for d in drafts] == [
        ("a_qualifier", None, "entrant", "numerisation", org.bc_agent.id)] * 2
    assert [d["objet"] for d in drafts] == ["courrier mairie", "scan-0002"]
    assert drafts[0]["actions"] == ["qualifier", "ecarter"]
    with app.app_context():
        kinds = db.session.execute(select(Attachment.filename, Attachment.content_type)
                                   .order_by(Attachment.filename)).all()
        assert kinds == [("courrier_mairie.pdf", "application/pdf"), ("scan-0002.tif", "image/tiff")]
    # Others may not drop scans; a file that is not a scan refuses the whole drop, nothing stored.
    assert scan(client, org.registrar, ("a.pdf", PDF), expected=403)["code"] == "forbidden"
    refused = scan(client, org.bc_agent, ("a.pdf", PDF), ("notes.txt", b"hello"), expected=422)
    assert "notes.txt" in refused["errors"]["file"][0]
    assert scan(client, org.bc_agent, expected=422)["code"] == "validation_error"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 2
    # The contract's attachment route still takes PDF, PNG and JPEG only.
    letter = create(client, org.bc_agent)
    tiff = client.post(f"/api/documents/{letter['id']}/attachments", data={"file": (io.BytesIO(TIFF), "s.tif")},
                       content_type="multipart/form-data", headers=org.bc_agent.headers)
    assert tiff.status_code == 422


def test_drafts_are_seen_by_the_mail_office_alone_in_their_own_queue(client, org):
    [draft] = scan(client, org.bc_agent, ("lettre.pdf", PDF))
    pending = create(client, org.registrar)
    for outsider in (org.registrar, org.fin_validateur, org.lone_validateur, org.fin_agent):
        assert client.get(f"/api/documents/{draft['id']}", headers=outsider.headers).status_code == 404
        assert draft["id"] not in listed(client, outsider)
        assert client.post(f"/api/documents/{draft['id']}/qualifier", json={},
                           headers=outsider.headers).status_code == 404
        assert client.post(f"/api/documents/{draft['id']}/ecarter", json={"motif": "x"},
                           headers=outsider.headers).status_code == 404
    for office in (org.bc_agent, org.admin):
        assert draft["id"] in listed(client, office)
        assert queues(client, office)["a_qualifier"] == 1
        assert listed(client, office, bannette="a_qualifier") == [draft["id"]]
        assert listed(client, office, bannette="a_orienter") == [pending["id"]]  # the old queue, renamed
    assert listed(client, org.bc_agent, bannette="mes_enregistrements") == []  # a draft is not registered yet
    assert "a_qualifier" not in queues(client, org.fin_validateur)


def test_qualifying_registers_the_draft_with_the_next_reference(app, client, org):
    year = paris_today().year
    first = create(client, org.registrar)
    [draft] = scan(client, org.bc_agent, ("lettre.pdf", PDF))
    # A registration still missing fields is refused and spends no number.
    missing = client.post(f"/api/documents/{draft['id']}/qualifier", json={"objet": "Demande de subvention"},
                          headers=org.bc_agent.headers)
    assert missing.status_code == 422 and set(missing.json["errors"]) == {"expediteur", "destinataire"}
    bad = client.post(f"/api/documents/{draft['id']}/qualifier", json={"reference": "ENT-1"},
                      headers=org.bc_agent.headers)
    assert bad.status_code == 422 and "reference" in bad.json["errors"]
    response = client.post(f"/api/documents/{draft['id']}/qualifier", headers=org.admin.headers, json={
        "objet": "Demande de subvention", "expediteur": "Mairie de Lyon", "destinataire": "Préfecture",
        "priorite": "urgente", "service_id": org.fin["id"]})
    assert response.status_code == 200, response.json
    letter = response.json["data"]
    assert (letter["reference"], letter["statut"], letter["created_by"]["id"], letter["service"]["code"]) == (
        f"ENT-{year}-000002", "en_attente", org.admin.id, "FIN")
    assert letter["traitement"]["echeance"] is not None and letter["origine"] == "numerisation"
    assert create(client, org.registrar)["reference"] == f"ENT-{year}-000003"  # gapless
    assert first["reference"] == f"ENT-{year}-000001"
    history = client.get(f"/api/documents/{draft['id']}/history", headers=org.admin.headers).json["data"]
    assert [e["action"] for e in history] == ["captured", "attachment_added", "qualified", "assigned"]
    again = client.post(f"/api/documents/{draft['id']}/qualifier", json={}, headers=org.admin.headers)
    assert again.status_code == 409
    assert client.post(f"/api/documents/{draft['id']}/ecarter", json={"motif": "Doublon"},
                       headers=org.admin.headers).status_code == 409
    # Registered now, it is an ordinary letter: the validateurs of its service see it.
    assert client.get(f"/api/documents/{draft['id']}", headers=org.fin_validateur.headers).status_code == 200
    with app.app_context():
        audited = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "document_qualified")).one()
        assert (audited.actor_id, audited.details["reference"]) == (org.admin.id, f"ENT-{year}-000002")
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.type == "document_captured")) == 1


def test_setting_a_draft_aside_keeps_it_out_of_every_queue(app, client, org):
    [draft, other] = scan(client, org.bc_agent, ("pub.pdf", PDF), ("autre.pdf", PDF))
    assert client.post(f"/api/documents/{draft['id']}/ecarter", json={}, headers=org.bc_agent.headers
                       ).status_code == 422  # a motif is required
    response = client.post(f"/api/documents/{draft['id']}/ecarter", json={"motif": "Publicité"},
                           headers=org.bc_agent.headers)
    assert response.status_code == 200, response.json
    assert (response.json["data"]["statut"], response.json["data"]["motif_ecart"],
            response.json["data"]["actions"]) == ("ecarte", "Publicité", [])
    assert queues(client, org.bc_agent)["a_qualifier"] == 1
    assert all(draft["id"] not in listed(client, org.admin, bannette=code) for code in queues(client, org.admin))
    assert listed(client, org.admin, statut="ecarte") == [draft["id"]]  # kept, found by its statut
    for path, body in (("qualifier", {}), ("ecarter", {"motif": "x"}), ("assign", {"service_id": org.fin["id"]})):
        assert client.post(f"/api/documents/{draft['id']}/{path}", json=body,
                           headers=org.admin.headers).status_code == 409
    assert client.patch(f"/api/documents/{other['id']}", json={"objet": "x"},
                        headers=org.bc_agent.headers).status_code == 409  # a draft is completed by /qualifier
    with app.app_context():
        audited = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "document_set_aside")).one()
        assert (audited.actor_id, audited.details["motif"]) == (org.bc_agent.id, "Publicité")


def test_with_no_mail_office_the_administrateurs_qualify(client, admin, validateur, agent):
    [draft] = scan(client, admin, ("lettre.pdf", PDF))
    assert scan(client, validateur, ("lettre.pdf", PDF), expected=403)["code"] == "forbidden"
    assert client.get(f"/api/documents/{draft['id']}", headers=validateur.headers).status_code == 404
    done = client.post(f"/api/documents/{draft['id']}/qualifier", headers=admin.headers,
                       json={"expediteur": "Mairie", "destinataire": "Préfecture"})
    assert done.status_code == 200 and done.json["data"]["statut"] == "en_attente"
    # The contract's rule then holds: validateurs see it and may validate it (not its registrar).
    assert client.post(f"/api/documents/{draft['id']}/validate", headers=validateur.headers).status_code == 200


# ------------------------------------------------------------------ e-mails read into drafts


def mail(subject="=?utf-8?q?Demande_de_subvention_=C3=A9t=C3=A9?=", sender="Jean Dupré <J.Dupre@Example.FR>",
         message_id="<abc@example.fr>", date_header="Mon, 30 Nov 2026 23:30:00 +0000", attachments=(), body="Bonjour"):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Courrier <courrier@mairie.fr>"
    if message_id:
        message["Message-ID"] = message_id
    if date_header:
        message["Date"] = date_header
    message.set_content(body)
    raw = message.as_bytes()
    if subject is not None:
        raw = f"Subject: {subject}\r\n".encode() + raw
    if attachments:
        for name, content, declared in attachments:
            message.add_attachment(content, maintype=declared.split("/")[0], subtype=declared.split("/")[1],
                                   filename=name)
        raw = (f"Subject: {subject}\r\n".encode() if subject is not None else b"") + message.as_bytes()
    return raw


def test_a_message_is_read_into_what_a_draft_needs():
    raw = mail(attachments=[("facture.pdf", PDF, "application/octet-stream"),
                            ("photo.dat", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "application/pdf")])
    read = messages.parse(raw, 10_000_000)
    assert read.objet == "Demande de subvention été"  # RFC 2047
    assert read.received == date(2026, 12, 1)  # 23:30 UTC is the next day in Paris
    assert (read.sender_name, read.sender_email, read.recipient) == ("Jean Dupré", "j.dupre@example.fr", "Courrier")
    # Types from the content, never from the sender's headers.
    assert [(p.filename, p.content_type) for p in read.attachments] == [
        ("facture.pdf", "application/pdf"), ("photo.dat", "image/png")]
    assert read.key == messages.capture_key("<abc@example.fr>", raw)
    without_id = mail(message_id=None)
    assert messages.parse(without_id, 10_000_000).key.startswith("sha256:")
    assert messages.parse(mail(subject=None, date_header=None), 10_000_000).objet == messages.NO_SUBJECT


@pytest.mark.parametrize("name, content, declared", [
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"),
    ("facture.pdf", b"MZ\x90\x00" + b"\x00" * 60, "application/pdf"),  # a program disguised by its name
    ("script.vbs", b'MsgBox "hi"', "text/plain"),  # a script, recognised by its extension
    ("run.sh", b"#!/bin/sh\nrm -rf /\n", "text/plain"),
    ("lettre.pdf.js", b"alert(1)", "text/plain"),
])
def test_a_message_with_a_program_attached_is_refused(name, content, declared):
    with pytest.raises(messages.Refused) as refused:
        messages.parse(mail(attachments=[(name, content, declared)]), 10_000_000)
    assert "refusée" in refused.value.reason


def test_a_message_that_is_a_single_program_is_refused():
    raw = (b"From: a@b.fr\r\nSubject: Facture\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=facture.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(b"MZ" + b"\x00" * 62) + b"\r\n")
    with pytest.raises(messages.Refused, match="programme"):
        messages.parse(raw, 10_000)


def test_too_large_or_unreadable_messages_are_refused():
    with pytest.raises(messages.Refused, match="taille maximale"):
        messages.parse(mail(body="x" * 2000), 1000)
    broken = (b"From: a@b.fr\r\nSubject: cass\xc3\xa9\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\nno boundary here\r\n')
    with pytest.raises(messages.Refused, match="illisible"):
        messages.parse(broken, 10_000)


def test_capturing_makes_one_draft_per_message_with_its_files_and_the_sender_matched(app):
    raw = mail(attachments=[("facture.pdf", PDF, "application/pdf")])
    unknown = mail(message_id="<other@example.fr>", sender="Inconnu <x@ailleurs.fr>")
    with app.app_context():
        contact = Contact(type="personne", nom="Dupré", prenom="Jean", email="j.dupre@example.fr")
        contact.refresh_derived()
        db.session.add(contact)
        db.session.commit()
        outcome, document_id = intake.capture(raw)
        assert outcome == intake.CAPTURED
        assert intake.capture(raw) == (intake.ALREADY, document_id)  # the same message again: nothing more
        draft = db.session.get(Document, document_id)
        assert (draft.statut, draft.reference, draft.nature, draft.created_by_id) == ("a_qualifier", None,
                                                                                      "courriel", None)
        assert (draft.expediteur_id, draft.expediteur, draft.date_reception) == (contact.id, "Jean Dupré",
                                                                                 date(2026, 12, 1))
        stored = db.session.execute(select(Attachment.filename, Attachment.content_type, Attachment.size)
                                    .where(Attachment.document_id == document_id).order_by(Attachment.filename)).all()
        assert stored == [("facture.pdf", "application/pdf", len(PDF)), ("message.eml", "message/rfc822", len(raw))]
        _, other_id = intake.capture(unknown)
        other = db.session.get(Document, other_id)
        assert other.expediteur_id is None and other.expediteur == "Inconnu <x@ailleurs.fr>"
        assert other.capture == {"origine": "courriel", "expediteur_propose": {"nom": "Inconnu",
                                                                               "email": "x@ailleurs.fr"}}
        assert db.session.scalar(select(func.count()).select_from(CapturedMessage)) == 2
        assert db.session.scalar(select(func.count()).select_from(Document)) == 2


def test_a_captured_draft_shows_its_proposed_sender_and_no_registrar(app, client, admin):
    with app.app_context():
        _, document_id = intake.capture(mail(sender="Inconnu <x@ailleurs.fr>"))
    shown = client.get(f"/api/documents/{document_id}", headers=admin.headers).json["data"]
    assert (shown["origine"], shown["expediteur_propose"], shown["created_by"]) == (
        "courriel", {"nom": "Inconnu", "email": "x@ailleurs.fr"}, None)
    done = client.post(f"/api/documents/{document_id}/qualifier", json={"destinataire": "Mairie"},
                       headers=admin.headers)
    assert done.status_code == 200 and done.json["data"]["created_by"]["id"] == admin.id


# ------------------------------------------------------------------ the mailbox's settings


def test_the_mailbox_url_is_checked_and_its_password_never_shown():
    mailbox = imap.mailbox_from_url("imaps://courrier%40mairie.fr:s3cr%C3%A8t@imap.mairie.fr/Courrier%20entrant")
    assert (mailbox.user, mailbox.password, mailbox.port, mailbox.folder) == (
        "courrier@mairie.fr", "s3crèt", 993, "Courrier entrant")
    assert "s3cr" not in str(mailbox) and "s3cr" not in repr(mailbox)
    assert imap.mailbox_from_url("imap://u:p@127.0.0.1:1143").on_loopback
    assert not imap.mailbox_from_url("imap://u:p@imap.mairie.fr").on_loopback
    for bad in ("http://u:p@host/INBOX", "imaps://host/INBOX", "imaps://u:secret@host:99999/INBOX"):
        with pytest.raises(imap.CaptureError) as error:
            imap.mailbox_from_url(bad)
        assert "secret" not in str(error.value)


def test_the_capture_runs_periodically_only_when_a_mailbox_is_configured(app):
    [rule] = [rule for rule in PERIODIC if rule.kind == "capture.imap"]
    assert not rule.active(app.config)
    assert rule.active({**app.config, "CAPTURE_IMAP_URL": "imaps://u:p@host/INBOX"})


def test_file_types_are_read_from_the_content():
    assert files.detect(PDF) == "application/pdf"
    assert files.detect("Texte accentué".encode("latin-1")) == "text/plain"
    assert files.detect(b"\x00\x01\x02binary") == "application/octet-stream"
    assert files.refusal(b"%PDF-1.4", "lettre.pdf") is None
    assert files.refusal(b"%PDF-1.4", "lettre.PDF.EXE") is not None


def test_an_unreachable_mailbox_fails_the_job_without_showing_the_password(app):
    from courrier.background import JobError
    from courrier.jobs.kinds import KINDS

    from tests.dovecot import free_port

    app.config["CAPTURE_IMAP_URL"] = f"imap://courrier:Tres-Secret-42@127.0.0.1:{free_port()}/INBOX"
    with app.app_context(), pytest.raises(JobError) as failed:
        KINDS["capture.imap"].function(None)
    assert "Connexion à imap://courrier@127.0.0.1" in failed.value.message
    assert "Tres-Secret" not in failed.value.message


def test_drafts_are_neither_in_the_register_nor_in_the_statistics_until_registered(app, client, admin):
    from courrier.documents import register
    from courrier.statistics.models import LetterFacts

    [draft, spam] = scan(client, admin, ("a.pdf", PDF), ("b.pdf", PDF))
    client.post(f"/api/documents/{spam['id']}/ecarter", json={"motif": "Publicité"}, headers=admin.headers)

    def counted():
        with app.app_context():
            return (register.count_register(register.period_of("entrant")),
                    db.session.scalar(select(func.count()).select_from(LetterFacts)))

    assert counted() == (0, 0)
    client.post(f"/api/documents/{draft['id']}/qualifier", json={"expediteur": "Mairie", "destinataire": "Préfecture"},
                headers=admin.headers)
    assert counted() == (1, 1)


def test_the_capture_migration_lets_a_live_database_hold_drafts(tmp_path, scratch_database_url):
    """Migration 008 in place (SQLite: no copy of the documents table), the letters already there untouched."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from courrier import create_app, register_migrations
    from tests.conftest import TEST_DATABASE_URL, base_config

    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    register_migrations(app)
    now = {"now": "2026-11-02 10:00:00"}
    letter = ("INSERT INTO documents (id, reference, type, objet, expediteur, destinataire, priorite, statut, "
              "created_by_id, created_at, updated_at) VALUES (:id, :reference, 'entrant', 'Objet', 'Mairie', "
              "'Préfecture', 'normale', :statut, :user, :now, :now)")
    try:
        with app.app_context():
            if TEST_DATABASE_URL:
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade(revision="7a1c0de0a007")
            db.session.execute(text(
                "INSERT INTO users (id, email, password_hash, nom, prenom, role, is_active, created_at, updated_at) "
                "VALUES ('u-old', 'ancien@example.fr', 'x', 'Ancien', 'Agent', 'agent', true, :now, :now)"), now)
            db.session.execute(text(letter), {**now, "id": "d-old", "reference": "ENT-2026-000001",
                                              "statut": "en_attente", "user": "u-old"})
            db.session.commit()
            upgrade(revision="7a1c0de0a008")
            db.session.execute(text(letter), {**now, "id": "d-draft", "reference": None, "statut": "a_qualifier",
                                              "user": None})
            db.session.execute(text("INSERT INTO captured_messages (id, cle, document_id, captured_at) VALUES "
                                    "('c-1', 'sha256:x', 'd-draft', :now)"), now)
            db.session.commit()
            rows = db.session.execute(text("SELECT id, reference, created_by_id FROM documents ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [("d-draft", None, None), ("d-old", "ENT-2026-000001", "u-old")]
            if not TEST_DATABASE_URL:
                assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            # Back down (no draft left): the columns are NOT NULL again.
            db.session.execute(text("DELETE FROM captured_messages"))
            db.session.execute(text("DELETE FROM documents WHERE id = 'd-draft'"))
            db.session.commit()
            downgrade(revision="7a1c0de0a007")
            with pytest.raises(Exception):
                db.session.execute(text(letter), {**now, "id": "d-2", "reference": None, "statut": "en_attente",
                                                  "user": "u-old"})
            db.session.rollback()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_password_is_never_sent_unencrypted_beyond_this_machine(monkeypatch):
    """imap:// upgrades with STARTTLS; without it, the login is refused, except to a loopback address."""
    logins = []

    class Server:
        def __init__(self, host, port, timeout=None):
            self.capabilities = ("IMAP4REV1",)

        def login(self, user, password):
            logins.append(user)

        def shutdown(self):
            pass

    monkeypatch.setattr(imap.imaplib, "IMAP4", Server)
    with pytest.raises(imap.CaptureError, match="STARTTLS"):
        imap.connect(imap.mailbox_from_url("imap://courrier:secret@imap.mairie.fr/INBOX"))
    assert logins == []
    imap.connect(imap.mailbox_from_url("imap://courrier:secret@127.0.0.1:1143/INBOX"))
    assert logins == ["courrier"]
