"""The schemathesis CLI over every operation of the live server's document (issue 16 section 3).

`schemathesis run` against gunicorn, as an administrateur (tests/system/schemathesis_hooks.py), in
every mode and with every check, `positive_data_acceptance` replaced by the hooks' own version that
lets through only the rules no JSON Schema keyword can state. Twice: with a fixed seed, and with a
random one printed in the output and in the failure message so that a failing run can be replayed
with `--seed`.
"""
import os
import secrets
import shutil
import subprocess
import time

import pytest

from tests.system import schemathesis_rules
from tests.system.conftest import ADMIN_PASSWORD, BIN, ROOT, report, server_env

pytestmark = pytest.mark.system

SCHEMATHESIS = shutil.which("schemathesis", path=str(BIN)) or shutil.which("schemathesis")
FIXED_SEED = 16
# Per operation and mode: tests/test_fuzz_openapi.py fuzzes every operation in process as well.
MAX_EXAMPLES = 15
# One worker: hypothesis parses lambdas' source with `ast.parse`, which CPython 3.11 before 3.11.8 cannot
# run in two threads at once (gh-106905: "AST constructor recursion depth mismatch").
WORKERS = 1
# SCHEMATHESIS_SEED replays a failed random-seed run: SCHEMATHESIS_SEED=<seed> pytest ... -k random-seed
RANDOM_SEED = int(os.environ.get("SCHEMATHESIS_SEED") or secrets.randbelow(2**31))


def test_the_forgiven_rules_are_whole_messages_even_when_they_quote_line_breaks():
    quoted = "Utilisateur(s) inconnu(s) ou désactivé(s) : d*😍m, \x08,   \t\x0b\n\t\t, l ."
    assert schemathesis_rules.beyond_the_document(quoted)
    assert not schemathesis_rules.beyond_the_document("Au plus 100 éléments.")
    assert not schemathesis_rules.beyond_the_document("Correspondant inconnu. Et autre chose.")


@pytest.fixture(scope="module")
def live(database, servers, tmp_path_factory):
    env = server_env(database.url_string, tmp_path_factory.mktemp("schemathesis"))
    admin_email = database.prepare(env)
    return servers.start("schemathesis", env, workers=2), admin_email


def schemathesis_command(url, seed):
    return [SCHEMATHESIS, "run", f"{url}/api/openapi.json", "--mode", "all", "--checks", "all",
            "--exclude-checks", "positive_data_acceptance", "--max-examples", str(MAX_EXAMPLES),
            "--seed", str(seed), "--workers", str(WORKERS), "--no-color"]


@pytest.mark.skipif(SCHEMATHESIS is None, reason="the schemathesis executable is absent")
@pytest.mark.parametrize("seed", [FIXED_SEED, RANDOM_SEED], ids=["fixed-seed", "random-seed"])
def test_schemathesis_finds_nothing(request, live, tmp_path, seed):
    server, admin_email = live
    url = f"http://127.0.0.1:{server.port}"
    command = schemathesis_command(url, seed)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.system.schemathesis_hooks", "PYTHONPATH": str(ROOT),
           "COURRIER_FUZZ_URL": url, "COURRIER_FUZZ_EMAIL": admin_email, "COURRIER_FUZZ_PASSWORD": ADMIN_PASSWORD}
    started = time.monotonic()
    # In tmp_path, its cache of past failures (.schemathesis/), replayed first by the next run, stays in this run.
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    report(request, f"\nschemathesis --seed {seed}: {time.monotonic() - started:.0f} s, {summary}")
    replay = " ".join(command[1:]).replace(url, "<url>")
    assert result.returncode == 0, (
        f"schemathesis found failures with --seed {seed} (exit {result.returncode}); replay: SCHEMATHESIS_SEED={seed} "
        f"pytest {__file__} -k random-seed, or against a server: schemathesis {replay}\n"
        f"{result.stdout}\n{result.stderr}\n--- server log, access log left out ---\n{server.log_errors()}")
