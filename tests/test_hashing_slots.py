"""The machine-wide bound on bcrypt work (courrier.auth.hashing, issue 16 section 1).

Another worker or instance hashing is simulated by this test holding the slot files itself, as they
would: `flock` on the files of PASSWORD_HASHING_LOCK_DIR. The bound under a real storm, over gunicorn,
is in tests/system/test_system_login_storm.py; its figures in the bench (`login-storm`).
"""
import fcntl
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from courrier.errors import ApiError
from tests.conftest import STRONG_PASSWORD

SLOTS = 2


@pytest.fixture
def app_config(tmp_path):
    return {"PASSWORD_HASHING_SLOTS": SLOTS, "PASSWORD_HASHING_WAIT_MS": 200,
            "PASSWORD_HASHING_LOCK_DIR": str(tmp_path / "slots")}


@contextmanager
def slots_held(app, count=SLOTS):
    """Hold `count` of the app's slots, as hashes running in other processes would."""
    folder = app.config["PASSWORD_HASHING_LOCK_DIR"]
    os.makedirs(folder, exist_ok=True)
    fds = []
    try:
        for index in range(count):
            fd = os.open(os.path.join(folder, f"slot-{index}"), os.O_RDWR | os.O_CREAT, 0o600)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield fds
    finally:
        for fd in fds:
            os.close(fd)


def assert_busy(response, started):
    assert (response.status_code, response.json["code"]) == (503, "service_unavailable"), response.json
    assert response.headers["Retry-After"] == "1"
    assert "connexions" in response.json["message"]
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("known", [True, False])
def test_login_answers_503_with_retry_after_when_every_slot_is_busy(app, auth, known):
    """Known or unknown email alike (no oracle), after the bounded wait, never a worker held for long."""
    email = auth.account("agent").email if known else f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    auth.login("warm-up@example.com", STRONG_PASSWORD)  # the dummy hash exists: only the comparison waits
    with slots_held(app):
        started = time.monotonic()
        response = auth.login(email, STRONG_PASSWORD)
        assert_busy(response, started)
        assert time.monotonic() - started >= 0.2  # it waited PASSWORD_HASHING_WAIT_MS for a slot first


def test_one_free_slot_is_enough(app, auth):
    account = auth.account("agent")
    with slots_held(app, SLOTS - 1):
        assert auth.login(account.email, STRONG_PASSWORD).status_code == 200


def test_login_waits_for_a_slot_freed_in_time(app, auth):
    account = auth.account("agent")
    app.config["PASSWORD_HASHING_WAIT_MS"] = 5_000
    with slots_held(app) as fds:
        releaser = threading.Timer(0.3, lambda: fcntl.flock(fds[0], fcntl.LOCK_UN))
        releaser.start()
        started = time.monotonic()
        response = auth.login(account.email, STRONG_PASSWORD)
        releaser.join()
    assert response.status_code == 200, response.json
    assert 0.25 <= time.monotonic() - started < 5


def test_registration_hashes_within_the_bound_too(app, auth):
    with slots_held(app):
        started = time.monotonic()
        assert_busy(auth.register(), started)
    assert auth.register().status_code == 201


def test_a_slot_whose_holder_died_is_free_again(app, auth):
    """A worker killed in the middle of a hash (timeout, OOM) leaks no slot: the kernel drops its lock."""
    account = auth.account("agent")
    folder = app.config["PASSWORD_HASHING_LOCK_DIR"]
    os.makedirs(folder, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fds = [os.open(os.path.join({folder!r}, f'slot-{{i}}'), os.O_RDWR | os.O_CREAT) for i in range({SLOTS})]\n"
        "[fcntl.flock(fd, fcntl.LOCK_EX) for fd in fds]\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert auth.login(account.email, STRONG_PASSWORD).status_code == 503
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert auth.login(account.email, STRONG_PASSWORD).status_code == 200


def test_a_hash_queued_behind_busy_hashing_threads_is_withdrawn_at_its_deadline(app):
    """The worker's hashing threads (one per slot) are both busy: the third request is answered 503 at its
    deadline, not when a thread frees up."""
    from courrier.auth.hashing import hash_in_slot

    def in_app(function, *args):
        with app.app_context():
            return hash_in_slot(function, *args)

    with ThreadPoolExecutor(SLOTS) as clients:
        busy = [clients.submit(in_app, time.sleep, 1.0) for _ in range(SLOTS)]
        time.sleep(0.1)  # both hashing threads hold a slot now
        started = time.monotonic()
        with pytest.raises(ApiError) as refused:
            in_app(len, "queued")
        waited = time.monotonic() - started
        for future in busy:
            future.result()
    assert refused.value.code == "service_unavailable" and refused.value.headers["Retry-After"] == "1"
    assert 0.2 <= waited < 0.6, waited  # PASSWORD_HASHING_WAIT_MS, not the second the busy hashes take


def test_a_freed_slot_goes_to_the_other_worker_polling_for_it(tmp_path, monkeypatch):
    """One slot, two workers' hashing threads (threads here, as the slots are per open file): the one that
    frees the slot and has another hash queued lets the other worker, already polling, take it first."""
    from courrier.auth import hashing

    monkeypatch.setattr(hashing, "HANDOFF_SECONDS", 0.05)  # ample, so that a loaded machine cannot make it miss
    folder, order = str(tmp_path), []
    os.makedirs(folder, exist_ok=True)

    def hash_named(name):
        order.append(name)
        time.sleep(0.1)

    def worker_hashing_thread(*names):
        for name in names:
            hashing._hash_in_a_slot(folder, 1, time.monotonic() + 2, hash_named, (name,))

    first = threading.Thread(target=worker_hashing_thread, args=("first worker, 1st login", "first worker, 2nd login"))
    first.start()
    time.sleep(0.03)  # the first worker holds the slot
    other = threading.Thread(target=worker_hashing_thread, args=("other worker",))
    other.start()
    first.join()
    other.join()
    assert order == ["first worker, 1st login", "other worker", "first worker, 2nd login"]
