"""A machine-wide bound on the bcrypt work done at once, so that logins never starve the office.

One bcrypt comparison at cost 12 is a quarter of a second of CPU. Unbounded, a storm of logins (9 a.m.,
or guessing from many addresses) puts every core in bcrypt and every other request waits behind it.
So at most `PASSWORD_HASHING_SLOTS` hashes run at once on the machine (default: half its cores), and a
request waits for a slot at most `PASSWORD_HASHING_WAIT_MS`, then is answered 503 `service_unavailable`
with `Retry-After`, quickly and in JSON.

A slot is a file of `PASSWORD_HASHING_LOCK_DIR` held with `flock`: shared by every worker and every
instance of the machine that use the same folder, held per open file (so per thread, a threaded
worker's threads each open their own), and released by the kernel when its holder dies, so a worker
killed in the middle of a hash leaks no slot.

The wait and the hash run on this process's hashing threads (`hash_in_slot`), so that they can be
given the CPU before request threads: bcrypt releases the GIL, but under load it shares the cores with
every runnable request thread, and the storm measured a cost-12 comparison taking 1 s instead of
0.28 s. `prioritize_hashing` (gunicorn's post_worker_init hook) starts those threads and lowers the
priority of the worker's request threads. The slots bound the hashing to half the machine, the
priority gives it that half, and the other half stays for every other request; the request threads
waiting for a login cost no CPU, and the worker's other threads go on serving (gthread workers,
gunicorn.conf.py).
"""
import fcntl
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import current_app

from courrier.errors import ApiError

BUSY_MESSAGE = "Trop de connexions simultanées : réessayez dans un instant."
RETRY_AFTER_SECONDS = 1
POLL_SECONDS = 0.002  # how often a waiting hashing thread tries the slots: one per slot and worker polls
HANDOFF_SECONDS = 2 * POLL_SECONDS  # how long a thread that freed a slot lets others take it first
_last_release = threading.local()


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


def _busy():
    return ApiError("service_unavailable", BUSY_MESSAGE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _hold_a_slot(folder, slots, deadline):
    """Poll for a free slot until `deadline`; its open, locked file, or 503 when none freed up.

    A thread that has just freed a slot waits HANDOFF_SECONDS before it tries again, so that another
    worker's hashing thread polling for one gets it. Otherwise the worker that frees the slot takes it
    back at once, and the logins queued in the other worker wait in vain (measured: 2 hashes against 12
    in a 4-second storm); a browser's kept-alive connection stays on its worker, so its retries too.
    """
    handoff = HANDOFF_SECONDS - (time.monotonic() - getattr(_last_release, "at", float("-inf")))
    if handoff > 0:
        time.sleep(min(handoff, max(0.0, deadline - time.monotonic())))
    fd = _try_slots(folder, slots)
    while fd is None:
        if time.monotonic() >= deadline:
            raise _busy()
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        fd = _try_slots(folder, slots)
    return fd


def _hash_in_a_slot(folder, slots, deadline, function, args):
    fd = _hold_a_slot(folder, slots, deadline)
    try:
        return function(*args)
    finally:
        os.close(fd)  # closing the file releases its lock
        _last_release.at = time.monotonic()


_pools_lock = threading.Lock()
_pools, _pools_pid = {}, None


def hashing_threads(size):
    """This process's pool of `size` hashing threads; a forked child makes its own (threads do not fork)."""
    global _pools, _pools_pid
    with _pools_lock:
        if _pools_pid != os.getpid():
            _pools, _pools_pid = {}, os.getpid()
        if size not in _pools:
            _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="courrier-bcrypt")
        return _pools[size]


def hash_in_slot(function, *args):
    """`function(*args)` (a bcrypt call) on a hashing thread once it holds one of the machine's slots.

    The hashing thread waits for the slot and frees it: at the worker's priority, it takes a slot the
    moment one frees and gives it back the moment the hash ends, where a request thread, run lower
    (`prioritize_hashing`), could wait for the CPU in between. A request still queued behind the
    worker's busy hashing threads at its deadline is withdrawn and answered 503 then.
    """
    config = current_app.config
    folder, slots = config["PASSWORD_HASHING_LOCK_DIR"], config["PASSWORD_HASHING_SLOTS"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    deadline = time.monotonic() + config["PASSWORD_HASHING_WAIT_MS"] / 1000
    task = hashing_threads(slots).submit(_hash_in_a_slot, folder, slots, deadline, function, args)
    try:
        return task.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        if task.cancel():
            raise _busy() from None
        return task.result()  # started: it gives up at the same deadline, or holds a slot and hashes


def prioritize_hashing(app, request_threads, count, request_nice):
    """Start the hashing threads, then the `count` threads of `request_threads` `request_nice` lower (Linux).

    Called in a gunicorn worker before it serves anything. Its thread pool (`request_threads`, gthread)
    starts its threads when first given work, and a thread inherits the priority of the one that starts
    it, so a helper thread lowers its own priority and has the pool start every thread; the hashing
    threads and the worker's main thread (accepting and reading connections) keep the worker's priority.
    Without a pool (a sync worker) the main thread serves the requests and is the one lowered. Lowering
    a priority needs no privilege; on Linux it is a per-thread attribute (setpriority(2)).
    """
    slots = app.config["PASSWORD_HASHING_SLOTS"]
    _start_all(hashing_threads(slots), slots)
    if request_nice <= 0 or not hasattr(os, "setpriority"):
        return
    if request_threads is None:
        _lower_priority(request_nice)
        return

    def start_request_threads():
        _lower_priority(request_nice)
        _start_all(request_threads, count)

    helper = threading.Thread(target=start_request_threads, name="courrier-request-priority")
    helper.start()
    helper.join()


def _lower_priority(by):
    thread = threading.get_native_id()
    os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + by)


def _start_all(pool, count):
    """Have `pool` start `count` threads now: each task holds its thread until all of them run."""
    started = threading.Barrier(count + 1)
    for _ in range(count):
        pool.submit(started.wait)
    started.wait()
