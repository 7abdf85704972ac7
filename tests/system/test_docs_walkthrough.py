"""docs/api.md's curl walkthrough, run as written against a server configured like `make run`'s.

The blocks fenced ```bash walkthrough are joined and run with bash (`set -euo pipefail`) against one
gunicorn server on a fresh database with the defaults an integrator meets: registration closed, double
authentication required for administrateurs, five logins a minute. `curl` is wrapped so that every request
reports its status; each must be a success except the two the document shows failing on purpose.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.conftest import ADMIN_PASSWORD, ROOT, server_env

pytestmark = pytest.mark.system

API_DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```bash walkthrough\n(.*?)^```$", re.S | re.M)
STATUS_LINE = re.compile(r"^HTTP (\d{3}) (\S+) (\S+)$", re.M)
# curl reports each request's status on stderr (its output stays what the document shows).
CURL_WRAPPER = "curl() { command curl -w '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n"
# What the walkthrough shows failing on purpose: the restricted session, then the revoked token.
EXPECTED_REFUSALS = [("403", "GET", "/api/documents"), ("401", "GET", "/api/auth/me")]


def walkthrough_script():
    blocks = BLOCK.findall(API_DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5, "docs/api.md has lost its walkthrough blocks"
    return "set -euo pipefail\n" + CURL_WRAPPER + "\n".join(blocks)


def test_the_documented_walkthrough_runs(database, servers, tmp_path):
    if not (shutil.which("jq") and shutil.which("curl")):
        pytest.skip("the walkthrough needs curl and jq")
    env = server_env(database.url_string, tmp_path, MFA_REQUIRED_ROLES="administrateur,validateur",
                     REGISTRATION_OPEN="false", AUTH_RATE_LIMIT="5 per minute", PASSWORD_CHANGE_ON_FIRST_LOGIN="true")
    admin_email = database.prepare(env)
    server = servers.start("walkthrough", env)
    work = tmp_path / "work"
    work.mkdir()
    # The walkthrough runs from the project's root, where `.venv/bin/python` computes the TOTP codes.
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)

    result = subprocess.run(
        ["bash", "-c", walkthrough_script()], cwd=work, capture_output=True, text=True, timeout=300,
        env={**os.environ, "API": f"http://127.0.0.1:{server.port}/api", "ADMIN_EMAIL": admin_email,
             "ADMIN_PASSWORD": ADMIN_PASSWORD})

    statuses = [(code, method, url.split("?")[0].split("/", 3)[3]) for code, method, url in
                STATUS_LINE.findall(result.stderr)]
    assert result.returncode == 0, f"the walkthrough stopped:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    refusals = [(code, method, "/" + path) for code, method, path in statuses if not code.startswith("2")]
    assert refusals == EXPECTED_REFUSALS, f"{refusals}\n{result.stderr[-3000:]}"
    assert len(statuses) >= walkthrough_script().count("curl -s"), "a request did not run"
    assert '"traitement":"traite","reponses":["SOR-' in result.stdout
    assert "token_revoked" in result.stdout
    assert (work / "registre-entrant.pdf").read_bytes().startswith(b"%PDF")
    assert "Demande de raccordement au réseau d'eau" in (work / "registre-entrant.csv").read_text(encoding="utf-8-sig")
