"""Capture from a real mailbox: Dovecot on loopback (tests/dovecot.py), the app in process.

Three messages (one with a PDF and an RFC 2047 subject, one without Message-ID, one with a program
attached) give two drafts and one message in Erreurs; nothing is captured twice, whether the pass runs
again, a worker died between a draft's commit and its message's move, or two workers poll at once.
"""
import threading

import pytest
from sqlalchemy import func, select

from courrier.capture import imap
from courrier.capture.models import CapturedMessage
from courrier.documents.models import Attachment, Document
from courrier.extensions import db
from tests.dovecot import message
from tests.test_documents import PDF

pytestmark = pytest.mark.system

EXE = b"MZ\x90\x00\x03" + b"\x00" * 59


@pytest.fixture
def app_config(imap_server):
    return {"CAPTURE_IMAP_URL": imap_server.url()}


@pytest.fixture
def mailbox(imap_server):
    imap_server.empty()
    return imap_server


def counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Document)),
                db.session.scalar(select(func.count()).select_from(CapturedMessage)))


def sizes(mailbox):
    return {name: len(found) for name, found in mailbox.folders().items()}


def test_one_pass_makes_drafts_moves_them_and_never_captures_twice(app, mailbox, monkeypatch):
    mailbox.append(message(subject="Demande de subvention été", attachments=[("dossier.pdf", PDF, "application/pdf")]))
    mailbox.append(message(subject="Sans identifiant", message_id=False))
    mailbox.append(message(subject="Votre facture", attachments=[("facture.exe", EXE, "application/octet-stream")]))

    result = app.test_cli_runner().invoke(args=["capture", "imap"])
    assert result.exit_code == 2, result.output  # a message went to Erreurs
    assert "2 brouillon(s) créé(s)" in result.output and "facture.exe" in result.output
    assert mailbox.password not in result.output
    assert sizes(mailbox) == {"INBOX": 0, "Traites": 2, "Erreurs": 1}
    with app.app_context():
        drafts = {d.objet: d for d in db.session.scalars(select(Document))}
        assert set(drafts) == {"Demande de subvention été", "Sans identifiant"}
        assert {d.statut for d in drafts.values()} == {"a_qualifier"}
        files = db.session.execute(select(Attachment.filename, Attachment.content_type)
                                   .where(Attachment.document_id == drafts["Demande de subvention été"].id)
                                   .order_by(Attachment.filename)).all()
        assert files == [("dossier.pdf", "application/pdf"), ("message.eml", "message/rfc822")]

    # Again: nothing new. A worker that dies after a draft's commit, before the move, leaves the message in
    # the inbox: the next pass finds its key captured and only moves it.
    with app.app_context():
        _, text = imap.capture_from_mailbox()
    assert "0 brouillon(s) créé(s)" in text
    mailbox.append(message(subject="Interrompu"))
    real_move = imap.move

    def die_before_moving(connection, uid, folder):
        raise OSError("worker killed")

    monkeypatch.setattr(imap, "move", die_before_moving)
    with app.app_context(), pytest.raises(imap.CaptureError):
        imap.capture_from_mailbox()
    assert counts(app) == (3, 3) and sizes(mailbox)["INBOX"] == 1
    monkeypatch.setattr(imap, "move", real_move)
    with app.app_context():
        summary, _ = imap.capture_from_mailbox()
    assert (summary.captured, summary.already, summary.refused) == (0, 1, [])
    assert counts(app) == (3, 3) and sizes(mailbox) == {"INBOX": 0, "Traites": 3, "Erreurs": 1}


def test_two_workers_polling_at_once_capture_each_message_once(app, mailbox):
    for number in range(3):
        mailbox.append(message(subject=f"Courrier {number}", message_id=number != 0))
    summaries, failures = [], []

    def one_pass():
        try:
            with app.app_context():
                summaries.append(imap.capture_from_mailbox()[0])
        except Exception as error:  # reported below
            failures.append(error)

    workers = [threading.Thread(target=one_pass) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not failures, failures
    assert counts(app) == (3, 3)
    assert sum(s.captured for s in summaries) == 3
    folders = mailbox.folders()
    assert (len(folders["INBOX"]), len(folders["Erreurs"])) == (0, 0)
    # Both passes may move one message in the same instant (imap.move): Traites may then hold it twice.
    assert len({raw for raw in folders["Traites"]}) == 3
