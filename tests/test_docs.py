"""The documentation holds together: every relative link and image of README.md, docs/*.md and deploy/README.md
points to a file that exists (and an anchor of a Markdown file to one of its headings), no issue numbers
remain, and every environment variable the code reads is in the production example and the operators' guide.
"""
import re
import unicodedata
from pathlib import Path

import pytest

from tests.environment import environment_variables

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "README.md"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
ISSUE_NUMBER = re.compile(r"\bissues?\s*#?\d|(?<![\w&/(])#\d", re.I)


def prose(path):
    """The text outside fenced code blocks (code may hold a `#1` that is not a reference)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchors(path):
    """GitHub's anchors for the headings of a Markdown file."""
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), re.M):
        text = unicodedata.normalize("NFC", heading.strip().lower())
        text = re.sub(r"[^\w\- ]", "", text)
        found.add(text.replace(" ", "-"))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_and_image_resolves(document):
    broken = []
    for target in LINK.findall(prose(document)):
        if re.match(r"^[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_issue_numbers(document):
    assert ISSUE_NUMBER.findall(document.read_text(encoding="utf-8")) == []


def test_the_readme_links_every_document():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for document in DOCUMENTS[1:]:
        assert str(document.relative_to(ROOT)) in readme


@pytest.mark.parametrize("document", ["deploy/.env.production.example", "docs/exploitation.md"])
def test_every_environment_variable_is_documented(document):
    """An operator finds each setting in the file they copy and in the guide that explains it."""
    text = (ROOT / document).read_text(encoding="utf-8")
    assert [name for name in environment_variables() if not re.search(rf"\b{name}\b", text)] == []
