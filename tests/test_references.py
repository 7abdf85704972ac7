"""Reference numbers: `ENT-2026-000042`, sequential per type and UTC year, unique and gapless, also
when creations race or fail."""
import re
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from courrier.columns import utcnow
from courrier.documents import service
from courrier.documents.models import Document, ReferenceCounter
from courrier.extensions import db
from config import engine_options
from tests.conftest import TEST_DATABASE_URL
from tests.test_documents import assert_error, count_rows, create_doc, doc_body


@pytest.fixture
def app_config():
    """Fifty creators at once queue on one counter row while holding ten pooled connections: the others
    wait for a connection longer than production's 2 s pool timeout on a loaded CI machine. What these
    tests check is the numbering, so the wait for a connection is given room here."""
    if not TEST_DATABASE_URL:
        return {}
    return {"SQLALCHEMY_ENGINE_OPTIONS": {**engine_options(TEST_DATABASE_URL), "pool_timeout": 60}}


def number(reference):
    return int(reference.rsplit("-", 1)[1])


@pytest.mark.parametrize("type_, prefix", [("entrant", "ENT"), ("sortant", "SOR"), ("interne", "INT")])
def test_reference_format(client, agent, type_, prefix):
    assert create_doc(client, agent, type=type_)["reference"] == f"{prefix}-{utcnow().year}-000001"


def test_references_are_sequential_per_type(client, agent):
    made = [create_doc(client, agent, type=type_)["reference"]
            for type_ in ("entrant", "sortant", "entrant", "interne", "entrant", "sortant")]
    year = utcnow().year
    assert made == [f"ENT-{year}-000001", f"SOR-{year}-000001", f"ENT-{year}-000002", f"INT-{year}-000001",
                    f"ENT-{year}-000003", f"SOR-{year}-000002"]


def test_numbering_follows_the_utc_year_of_creation(client, agent, monkeypatch):
    def at(*moment):
        monkeypatch.setattr(service, "utcnow", lambda: datetime(*moment, tzinfo=timezone.utc))
        return create_doc(client, agent, type="entrant")

    assert at(2026, 12, 31, 23, 59, 59)["reference"] == "ENT-2026-000001"
    # 00:30 in Paris on 1 January is still 2026 in UTC.
    assert at(2026, 12, 31, 23, 30)["reference"] == "ENT-2026-000002"
    first_of_2027 = at(2027, 1, 1, 0, 0)
    assert first_of_2027["reference"] == "ENT-2027-000001"
    assert first_of_2027["created_at"] == "2027-01-01T00:00:00+00:00"
    assert at(2027, 1, 1, 8, 0)["reference"] == "ENT-2027-000002"


def test_a_failed_creation_leaves_no_gap(app, client, agent, monkeypatch):
    def broken_record(*args, **kwargs):
        raise RuntimeError("panne simulée")

    assert create_doc(client, agent)["reference"].endswith("-000001")
    monkeypatch.setattr(service, "record", broken_record)
    response = client.post("/api/documents", json=doc_body(), headers=agent.headers)
    assert_error(response, 500, "internal_error")
    monkeypatch.undo()
    assert create_doc(client, agent)["reference"].endswith("-000002")
    assert count_rows(app, Document) == 2


def test_a_refused_creation_consumes_no_number(client, agent):
    client.post("/api/documents", json=doc_body(objet=""), headers=agent.headers)
    assert create_doc(client, agent)["reference"].endswith("-000001")


def test_the_counter_row_holds_the_last_number(app, client, agent):
    for _ in range(3):
        create_doc(client, agent, type="sortant")
    with app.app_context():
        counter = db.session.get(ReferenceCounter, ("sortant", utcnow().year))
        assert counter.last_value == 3


def test_the_client_never_chooses_the_reference(app, client, agent):
    response = client.post("/api/documents", json=doc_body(reference="ENT-2026-000001"), headers=agent.headers)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(ReferenceCounter)).all() == []


def create_concurrently(app, account, types):
    """POST one document per entry of `types`, each from its own thread and test client, all at once."""
    barrier = threading.Barrier(len(types), timeout=30)
    responses = [None] * len(types)

    def worker(index, type_):
        client = app.test_client()
        try:
            barrier.wait()
            responses[index] = client.post("/api/documents", json=doc_body(type=type_), headers=account.headers)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            responses[index] = exc

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(types)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    failures = [r if isinstance(r, Exception) else r.json for r in responses
                if isinstance(r, Exception) or r.status_code != 201]
    assert not failures, failures
    return [r.json["data"]["reference"] for r in responses]


def test_concurrent_creations_get_distinct_consecutive_numbers(app, agent):
    """50 creators at once, starting with no counter row: 1 to 50, no duplicate, no gap."""
    references = create_concurrently(app, agent, ["entrant"] * 50)
    assert len(set(references)) == 50
    assert sorted(number(r) for r in references) == list(range(1, 51))
    assert all(re.fullmatch(rf"ENT-{utcnow().year}-\d{{6}}", r) for r in references)


def test_concurrent_creations_of_several_types_keep_one_sequence_each(app, agent):
    references = create_concurrently(app, agent, ["entrant", "sortant", "interne"] * 10)
    for prefix in ("ENT", "SOR", "INT"):
        numbers = sorted(number(r) for r in references if r.startswith(prefix))
        assert numbers == list(range(1, 11)), prefix
