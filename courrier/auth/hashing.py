"""A machine-wide bound on the bcrypt work done at once, so that logins never starve the office (issue 16).

One bcrypt comparison at cost 12 is a quarter of a second of CPU. Unbounded, a storm of logins (9 a.m.,
or guessing from many addresses) puts every core in bcrypt and every other request waits behind it.
So at most `PASSWORD_HASHING_SLOTS` hashes run at once on the machine (default: half its cores), and a
request waits for a slot at most `PASSWORD_HASHING_WAIT_MS`, then is answered 503 `service_unavailable`
with `Retry-After`, quickly and in JSON.

A slot is a file of `PASSWORD_HASHING_LOCK_DIR` held with `flock`: shared by every worker and every
instance of the machine that use the same folder, held per open file (so per thread, a threaded
worker's threads each open their own), and released by the kernel when its holder dies, so a worker
killed in the middle of a hash leaks no slot. The wait is a poll: it costs no worker while another
thread of it is served (gunicorn's gthread workers, gunicorn.conf.py).
"""
import fcntl
import os
import random
import time
from contextlib import contextmanager

from flask import current_app

from courrier.errors import ApiError

BUSY_MESSAGE = "Trop de connexions simultanées : réessayez dans un instant."
RETRY_AFTER_SECONDS = 1
FIRST_POLL_SECONDS, LAST_POLL_SECONDS = 0.002, 0.02


def _try_slots(folder, slots):
    """An open, locked slot file, or None when every slot is held."""
    first = random.randrange(slots)
    for index in range(slots):
        fd = os.open(os.path.join(folder, f"slot-{(first + index) % slots}"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
        except BaseException:
            os.close(fd)
            raise
    return None


@contextmanager
def hashing_slot():
    """Hold one of the machine's bcrypt slots for the block; 503 when none frees up in time."""
    config = current_app.config
    folder, slots = config["PASSWORD_HASHING_LOCK_DIR"], config["PASSWORD_HASHING_SLOTS"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    deadline = time.monotonic() + config["PASSWORD_HASHING_WAIT_MS"] / 1000
    pause = FIRST_POLL_SECONDS
    fd = _try_slots(folder, slots)
    while fd is None:
        if time.monotonic() >= deadline:
            raise ApiError("service_unavailable", BUSY_MESSAGE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, LAST_POLL_SECONDS)
        fd = _try_slots(folder, slots)
    try:
        yield
    finally:
        os.close(fd)  # closing the file releases its lock
