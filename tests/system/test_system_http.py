"""What only a real HTTP server shows: forged-token headers that point at URLs (the server must fetch
nothing), tokens in the query string, 16 KB Authorization headers and 10 MB bodies, all answered
in JSON by the app rather than by gunicorn or a dropped connection.
"""
import json
import socket
import threading
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.system.conftest import Client, free_port, server_env, unique_email

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def live(database, servers, tmp_path_factory):
    env = server_env(database.url_string, tmp_path_factory.mktemp("http"))
    database.prepare(env)
    server = servers.start("http", env)
    account = Client(server, unique_email())
    assert account.register().status == 201
    return server, account, env["JWT_SECRET_KEY"]


class Listener:
    """A TCP server on loopback that records every connection (and what it was sent)."""

    def __init__(self):
        self.port = free_port()
        self.received = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while self._running:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(4096))
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"keys\": []}")
            except OSError:
                self.received.append(b"")
            finally:
                conn.close()

    def close(self):
        self._running = False
        self._thread.join(timeout=2)
        self._sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def test_token_headers_pointing_at_urls_make_the_server_fetch_nothing(live, listener):
    server, account, secret = live
    url = f"http://127.0.0.1:{listener.port}"
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    claims = claims_of(account.token)
    forged = [
        pyjwt.encode(claims, attacker, algorithm="RS256", headers={"jku": f"{url}/jwks.json", "kid": "attacker"}),
        pyjwt.encode(claims, attacker, algorithm="RS256", headers={"x5u": f"{url}/cert.pem"}),
        pyjwt.encode(claims, attacker, algorithm="RS256", headers={"jwk": jwk}),
        pyjwt.encode(claims, "attacker-secret-" + "x" * 32, algorithm="HS256",
                     headers={"jku": f"{url}/jwks.json", "x5u": f"{url}/x5u", "kid": f"{url}/kid"}),
    ]
    for token in forged:
        reply = server.call("GET", "/api/auth/me", token=token)
        assert (reply.status, reply.code) == (401, "token_invalid"), reply.body
    # The genuine token with the same headers is accepted: they are ignored, not followed.
    genuine = pyjwt.encode(claims, secret, algorithm="HS256", headers={"jku": f"{url}/jwks.json", "x5u": url})
    assert server.call("GET", "/api/auth/me", token=genuine).status == 200
    time.sleep(0.5)
    assert listener.received == []


@pytest.mark.parametrize("query", ["jwt", "access_token", "token", "Authorization"])
def test_token_in_the_query_string_is_not_read(live, query):
    server, account, _ = live
    reply = server.call("GET", f"/api/auth/me?{query}={account.token}")
    assert (reply.status, reply.code) == (401, "token_missing")


@pytest.mark.parametrize("size", [8 * 1024, 12 * 1024, 16 * 1024])
def test_authorization_header_up_to_16_kb_is_answered_by_the_app_in_json(live, size):
    server, _, _ = live
    value = "Bearer " + "a" * (size - len("Bearer "))
    reply = server.call("GET", "/api/auth/me", headers={"Authorization": value})
    assert reply.is_json(), (reply.status, reply.body)
    assert (reply.status, reply.code) == (401, "token_invalid")


def raw_exchange(port, head, chunks):
    """Send a request head then body chunks on a raw socket; stop sending when the server answers
    early (413 before the end of the body), then read the whole answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    break
                data += part
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        sock.close()
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1]) if head_bytes else 0
    return status, head_bytes.decode("latin-1"), body


def test_ten_megabyte_body_is_413_json(live):
    server, account, _ = live
    body = b'{"objet": "' + b"x" * 10_000_000 + b'"}'
    head = (f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {account.token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    status, headers, data = raw_exchange(server.port, head.encode(), [body[i:i + 65536]
                                                                      for i in range(0, len(body), 65536)])
    assert status == 413, (status, headers, data[:200])
    assert "application/json" in headers.lower()
    assert json.loads(data)["code"] == "payload_too_large"


def test_ten_megabyte_chunked_body_is_413_json(live):
    """No Content-Length: the limit must hold on the bytes actually read."""
    server, account, _ = live
    head = (f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {account.token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    piece = b"x" * 65536
    chunks = [b'b\r\n{"objet": "\r\n'] + [b"%x\r\n%s\r\n" % (len(piece), piece)] * 160 + [b'2\r\n"}\r\n0\r\n\r\n']
    status, headers, data = raw_exchange(server.port, head.encode(), chunks)
    assert status in (400, 413), (status, headers, data[:200])
    assert "application/json" in headers.lower(), headers
    assert json.loads(data)["code"] in ("payload_too_large", "bad_request")


def test_server_survives_the_abuse(live):
    server, account, _ = live
    assert server.call("GET", "/api/auth/me", token=account.token).status == 200
    assert server.process.poll() is None
    assert "Traceback" not in server.log_text()
