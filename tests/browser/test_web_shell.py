"""The web client is served by the app itself, under a strict CSP, and cannot inject markup.

These checks need the live server but not a browser."""
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

STATIC = Path(__file__).resolve().parents[2] / "courrier" / "web" / "static"
VENDOR = STATIC / "vendor"
REQUIRED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def csp_directives(header):
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = " ".join(words[1:])
    return directives


def fetch(live_server, path):
    import urllib.request

    with urllib.request.urlopen(live_server.base_url + path, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_root_serves_the_app_shell_with_a_strict_csp(live_server):
    status, headers, body = fetch(live_server, "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'<script type="module" src="/static/js/app.js">' in body
    directives = csp_directives(headers["Content-Security-Policy"])
    for name, value in REQUIRED_CSP.items():
        assert directives.get(name) == value, (name, headers["Content-Security-Policy"])
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path, content_type", [
    ("/static/js/app.js", "text/javascript"),
    ("/static/js/api.js", "text/javascript"),
    ("/static/css/app.css", "text/css"),
])
def test_static_assets_carry_the_csp_and_their_real_type(live_server, path, content_type):
    status, headers, _ = fetch(live_server, path)
    assert status == 200
    assert headers["Content-Type"].split(";")[0] in (content_type, "application/javascript")
    assert csp_directives(headers["Content-Security-Policy"])["script-src"] == "'self'"


def test_unknown_paths_stay_json_404(live_server):
    """Only / and /static/… are pages: the client routes with the fragment (#/documents)."""
    for path in ("/documents", "/static/js/nope.js"):
        status, payload, headers = live_server.api.call("GET", path)
        assert status == 404, path
        if path == "/documents":
            assert payload["code"] == "not_found"


def client_sources():
    return sorted(STATIC.rglob("*.js")) + [STATIC / "index.html"] + sorted(STATIC.rglob("*.css"))


def test_client_never_parses_html_or_evaluates_strings():
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                           r"setTimeout\(\s*['\"`]|DOMParser|createContextualFragment")
    offenders = [f"{path.name}: {match.group(0)}" for path in client_sources() if path.suffix == ".js"
                 for match in forbidden.finditer(path.read_text())]
    assert not offenders


# Pages a user may follow (links the statement and the ProConnect button must give), never loaded by the client.
EXTERNAL_LINKS = {
    "https://formulaire.defenseurdesdroits.fr/",  # RGAA statement: the right to refer to the Défenseur des droits
    "https://www.defenseurdesdroits.fr/saisir/delegues",
    "https://proconnect.gouv.fr/",  # « Qu'est-ce que ProConnect ? », part of the button's published look
}


def test_shell_has_no_inline_code_and_loads_nothing_from_elsewhere():
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=|<style", html), "inline style"
    # Our own code names no other site; a vendored library (static/vendor/) keeps its licence's links in
    # comments, and the CSP (default-src 'self') stops it loading anything from elsewhere.
    for path in client_sources():
        if VENDOR in path.parents:
            continue
        text = path.read_text()
        for match in re.finditer(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/[^\"'`\s]*", text, re.I):
            assert match.group(0) in EXTERNAL_LINKS, f"external URL in {path.name}: {match.group(0)}"
