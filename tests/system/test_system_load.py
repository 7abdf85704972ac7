"""Bounded load on a real gunicorn (2 workers): 50 concurrent clients, nothing lost, nothing served twice.

40 agents register, read /me, create documents, list them, refresh, log out, check that their
dead tokens are refused, log in again and correct a document; 10 validateur clients log in and
validate or reject pending documents while the agents write. Pass: no 5xx and no transport error;
every 201 document is in the database with a distinct reference and per-type numbers without gap;
sessions rows = successful logins + registrations; decisions in the database = decisions answered
200; every logged-out or rotated token is refused afterwards.

Runs on SQLite (WAL + busy timeout, courrier/database.py), or on PostgreSQL with TEST_DATABASE_URL.
"""
import collections
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from tests.system.conftest import (
    ADMIN_PASSWORD, STRONG_PASSWORD, Client, registration, report, server_env, unique_email,
)

pytestmark = [pytest.mark.system, pytest.mark.solo]

AGENTS = 40
VALIDATEUR_CLIENTS = 10
DEADLINE = 60  # seconds for the whole load


class Ledger:
    """What the clients saw, thread-safe: every status, every created document, every dead token."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.latencies = []
        self.server_errors = []
        self.unexpected = []
        self.transport_errors = []
        self.documents = {}  # id -> reference
        self.sessions_opened = 0
        self.dead_tokens = []  # (access, refresh or None, why)
        self.decisions = collections.Counter()
        self.conflicts = 0

    def record(self, label, reply, expected):
        with self.lock:
            self.statuses[reply.status] += 1
            self.latencies.append(reply.seconds)
            if reply.status >= 500:
                self.server_errors.append((label, reply.status, reply.body))
            elif reply.status not in expected:
                self.unexpected.append((label, reply.status, reply.body))
        return reply

    def add(self, **counts):
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def send(ledger, server, label, method, path, expected, **kwargs):
    try:
        return ledger.record(label, server.call(method, path, **kwargs), expected)
    except OSError as error:
        with ledger.lock:
            ledger.transport_errors.append((label, repr(error)))
        return None


def document_body(index, doc_type):
    return {"type": doc_type, "objet": f"Charge {index}", "expediteur": "Mairie de Lyon",
            "destinataire": "Service courrier", "priorite": "urgente" if index % 3 == 0 else "normale"}


def agent_script(server, ledger, index):
    me = Client(server, unique_email("load"))
    reply = send(ledger, server, "register", "POST", "/api/auth/register", (201,), body=registration(me.email))
    if reply is None or reply.status != 201:
        return
    me.take(reply)
    ledger.add(sessions_opened=1)
    send(ledger, server, "me", "GET", "/api/auth/me", (200,), token=me.token)
    for n, doc_type in enumerate(("entrant", "sortant", "interne")):
        reply = send(ledger, server, "create", "POST", "/api/documents", (201,), token=me.token,
                     body=document_body(index * 10 + n, doc_type))
        if reply is not None and reply.status == 201:
            with ledger.lock:
                ledger.documents[reply.data["id"]] = reply.data["reference"]
    send(ledger, server, "list", "GET", "/api/documents?per_page=50", (200,), token=me.token)
    old_access, old_refresh = me.token, me.refresh
    reply = send(ledger, server, "refresh", "POST", "/api/auth/refresh", (200,), token=me.refresh)
    if reply is None or reply.status != 200:
        return
    me.token, me.refresh = reply.data["access_token"], reply.data["refresh_token"]
    with ledger.lock:
        ledger.dead_tokens.append((old_access, None, "rotated"))
    send(ledger, server, "me", "GET", "/api/auth/me", (200,), token=me.token)
    send(ledger, server, "me_rotated", "GET", "/api/auth/me", (401,), token=old_access)
    send(ledger, server, "logout", "POST", "/api/auth/logout", (200,), token=me.token)
    with ledger.lock:
        ledger.dead_tokens.append((me.token, me.refresh, "logout"))
    send(ledger, server, "me_logged_out", "GET", "/api/auth/me", (401,), token=me.token)
    send(ledger, server, "refresh_logged_out", "POST", "/api/auth/refresh", (401,), token=me.refresh)
    send(ledger, server, "refresh_reused", "POST", "/api/auth/refresh", (401,), token=old_refresh)
    reply = send(ledger, server, "login", "POST", "/api/auth/login", (200,),
                 body={"email": me.email, "password": STRONG_PASSWORD})
    if reply is None or reply.status != 200:
        return
    me.take(reply)
    ledger.add(sessions_opened=1)
    reply = send(ledger, server, "create", "POST", "/api/documents", (201,), token=me.token,
                 body=document_body(index * 10 + 9, "entrant"))
    if reply is not None and reply.status == 201:
        with ledger.lock:
            ledger.documents[reply.data["id"]] = reply.data["reference"]
        # A validateur may decide it first: then the correction is rightly 409.
        send(ledger, server, "patch", "PATCH", f"/api/documents/{reply.data['id']}", (200, 409), token=me.token,
             body={"objet": f"Charge {index} (corrigée)"})
    send(ledger, server, "me", "GET", "/api/auth/me", (200,), token=me.token)


def validateur_script(server, ledger, email, index, agents_done):
    me = Client(server, email)
    reply = send(ledger, server, "login", "POST", "/api/auth/login", (200,),
                 body={"email": email, "password": STRONG_PASSWORD})
    if reply is None or reply.status != 200:
        return
    me.take(reply)
    ledger.add(sessions_opened=1)
    rounds = 0
    while rounds < 40 and not (agents_done.is_set() and rounds > 3):
        rounds += 1
        reply = send(ledger, server, "list_pending", "GET", "/api/documents?statut=en_attente&per_page=50", (200,),
                     token=me.token)
        if reply is None or reply.status != 200:
            return
        # Mostly its own share of the pending documents, plus the first one, which every client races for.
        mine = [doc for doc in reply.data if int(doc["id"][:8], 16) % VALIDATEUR_CLIENTS == index][:2]
        for number, document in enumerate(reply.data[:1] + mine):
            decision = "reject" if (index + number) % 4 == 0 else "validate"
            body = {"motif": "Pièce manquante."} if decision == "reject" else None
            decided = send(ledger, server, decision, "POST", f"/api/documents/{document['id']}/{decision}", (200, 409),
                           token=me.token, body=body)
            if decided is not None and decided.status == 200:
                with ledger.lock:
                    ledger.decisions[decision] += 1
            elif decided is not None and decided.status == 409:
                ledger.add(conflicts=1)
        time.sleep(0.05)
    send(ledger, server, "logout", "POST", "/api/auth/logout", (200,), token=me.token)
    with ledger.lock:
        ledger.dead_tokens.append((me.token, me.refresh, "logout"))


def run_load(server, admin_email, agents=AGENTS, validateur_clients=VALIDATEUR_CLIENTS):
    """Run the mixed load against `server`; returns the Ledger and the seconds it took."""
    ledger = Ledger()
    admin = Client(server, admin_email, ADMIN_PASSWORD)
    assert admin.login().status == 200
    ledger.add(sessions_opened=1)
    validateurs = []
    for _ in range(2):
        email = unique_email("validateur")
        reply = server.call("POST", "/api/users", {**registration(email), "role": "validateur"}, token=admin.token)
        assert reply.status == 201, reply.body
        validateurs.append(email)
    agents_done = threading.Event()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=agents + validateur_clients) as pool:
        agent_futures = [pool.submit(agent_script, server, ledger, i) for i in range(agents)]
        validateur_futures = [pool.submit(validateur_script, server, ledger, validateurs[i % 2], i, agents_done)
                              for i in range(validateur_clients)]
        done, pending = wait(agent_futures, timeout=DEADLINE)
        agents_done.set()
        done_v, pending_v = wait(validateur_futures, timeout=max(1, DEADLINE - (time.perf_counter() - started)))
        assert not pending and not pending_v, f"load not finished within {DEADLINE}s"
        for future in (*done, *done_v):
            future.result()  # a bug in a script is a failure, not a silent omission
    return ledger, time.perf_counter() - started, admin


@pytest.fixture(scope="module")
def load_server(database, servers, tmp_path_factory):
    env = server_env(database.url_string, tmp_path_factory.mktemp("load"))
    admin_email = database.prepare(env)
    return servers.start("load", env), admin_email


def test_fifty_concurrent_clients_lose_nothing(request, database, load_server):
    server, admin_email = load_server
    ledger, seconds, admin = run_load(server, admin_email)

    # After the load, from a quiet server: every dead token is refused.
    still_alive = []
    for access, refresh, why in ledger.dead_tokens:
        reply = server.call("GET", "/api/auth/me", token=access)
        if (reply.status, reply.code) != (401, "token_revoked"):
            still_alive.append((why, "access", reply.status, reply.body))
        if refresh:
            reply = server.call("POST", "/api/auth/refresh", token=refresh)
            if reply.status != 401:
                still_alive.append((why, "refresh", reply.status, reply.body))

    total = sum(ledger.statuses.values())
    latencies = sorted(ledger.latencies)
    report(request, (
        f"\nload [{database.kind}, 2 workers]: {AGENTS + VALIDATEUR_CLIENTS} clients, {total} requests in "
        f"{seconds:.1f} s ({total / seconds:.0f} req/s); statuses {dict(sorted(ledger.statuses.items()))}; "
        f"5xx {len(ledger.server_errors)}, transport errors {len(ledger.transport_errors)}, "
        f"unexpected {len(ledger.unexpected)}; latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
        f"{len(ledger.documents)} documents, decisions {dict(ledger.decisions)}, {ledger.conflicts} decision "
        f"conflicts (409), {len(ledger.dead_tokens)} dead tokens checked"))

    assert not ledger.server_errors, ledger.server_errors[:5]
    assert not ledger.transport_errors, ledger.transport_errors[:5]
    assert not ledger.unexpected, ledger.unexpected[:5]
    assert not still_alive, still_alive[:5]

    # Nothing lost: every 201 is in the database, with its reference, and references are unique.
    rows = database.rows("SELECT id, reference, type, statut FROM documents")
    stored = {row.id: row.reference for row in rows}
    assert len(ledger.documents) == AGENTS * 4
    assert stored == ledger.documents
    assert len(set(stored.values())) == len(stored)
    # Per type: numbers 1..n, no gap, no duplicate.
    numbers = collections.defaultdict(list)
    for row in rows:
        prefix, _, number = row.reference.split("-")
        numbers[prefix].append(int(number))
    for prefix, values in numbers.items():
        assert sorted(values) == list(range(1, len(values) + 1)), prefix

    # Every successful login or registration opened exactly one session row, and nothing else did.
    assert database.scalar("SELECT count(*) FROM sessions") == ledger.sessions_opened
    # Decisions: the database agrees with the 200s, and each has one history row and one audit row.
    statuts = collections.Counter(row.statut for row in rows)
    assert statuts["valide"] == ledger.decisions["validate"]
    assert statuts["rejete"] == ledger.decisions["reject"]
    decided = ledger.decisions["validate"] + ledger.decisions["reject"]
    assert database.scalar(
        "SELECT count(*) FROM document_events WHERE action IN ('validated', 'rejected')") == decided
    assert database.scalar(
        "SELECT count(*) FROM audit_events WHERE type IN ('document_validated', 'document_rejected')") == decided
    assert database.scalar("SELECT count(*) FROM document_events WHERE action = 'created'") == len(stored)
