"""The text of a file: PDF text layers, DOCX, ODT, plain text, HTML and e-mails read here; scans are left to OCR.

`read_text(path, content_type, filename)` gives an `Outcome`: `extrait` (text read), `aucun` (a format
without text, or an empty one), `echec` (a broken file, with a French reason: never the library's message,
which may name a path), or `scan` (no text layer: OCR's work, courrier.search.ocr). Everything is bounded,
so that a hostile file cannot exhaust the worker: MAX_CHARS kept, MAX_PDF_PAGES read (for MAX_PDF_SECONDS at
most, checked between pages), XML parts of at most MAX_XML_BYTES (their declared size, which `zipfile`
enforces while reading), DTDs refused (defusedxml).

DOCX and ODT are read from their zip and XML with the standard library (and defusedxml, already installed
with fpdf2): python-docx would bring lxml and skip tables and text boxes, odfpy is unmaintained, and the
text is all this needs.
"""
import email
import email.policy
import logging
import re
import time
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

log = logging.getLogger(__name__)

MAX_CHARS = 1_000_000
MAX_PDF_PAGES = 1000
# A PDF whose pages are slow to read (hostile content streams) is read page by page for this long at most.
MAX_PDF_SECONDS = 120
MAX_XML_BYTES = 64 * 1024 * 1024
# A PDF page with fewer letters or digits than this has no real text layer (a scan, maybe a stamp's date).
MIN_PAGE_CHARS = 20

EXTRAIT, AUCUN, ECHEC, SCAN = "extrait", "aucun", "echec", "scan"
UNREADABLE = {
    "pdf": "Le PDF est illisible ou endommagé.",
    "docx": "Le document Word (DOCX) est illisible ou endommagé.",
    "odt": "Le document OpenDocument (ODT) est illisible ou endommagé.",
    "eml": "Le message électronique est illisible.",
    "text": "Le fichier texte est illisible.",
    "html": "La page HTML est illisible.",
}
ENCRYPTED = "Le PDF est protégé par un mot de passe : son texte ne peut pas être lu."
NO_TEXT_FORMAT = "Ce type de fichier ne contient pas de texte lisible par courrier."
EMPTY = "Le fichier ne contient aucun texte."
TRUNCATED = "Texte tronqué : seuls les {limit:,} premiers caractères sont gardés."
PAGES_CUT = "Seules les {limit} premières pages ont été lues."


@dataclass(frozen=True)
class Outcome:
    """What reading a file gave: its state, its text, a French reason (None when all went well)."""

    etat: str
    texte: str | None = None
    motif: str | None = None


class Unreadable(Exception):
    """A broken file: its French reason."""


# ------------------------------------------------------------------ what the file is

ZIP_MAGIC = b"PK\x03\x04"
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
EML_TYPES = ("message/rfc822",)
TEXT_EXTENSIONS = (".txt", ".text", ".csv", ".md")
HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_EXTENSIONS = (".html", ".htm", ".xhtml")


def kind_of(path, content_type, filename):
    """pdf, image, docx, odt, eml, text, or None: read from the content first, then the declared type and name."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    name = (filename or "").lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(IMAGE_SIGNATURES):
        return "image"
    if head.startswith(ZIP_MAGIC):
        return _office_kind(path)
    if content_type in EML_TYPES or name.endswith(".eml"):
        return "eml"
    if content_type in HTML_TYPES or name.endswith(HTML_EXTENSIONS):
        return "html"
    if (content_type or "").startswith("text/") or name.endswith(TEXT_EXTENSIONS):
        return "text"
    return None


def _office_kind(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "content.xml" in names and "mimetype" in names and archive.read("mimetype").strip() == ODT_MIMETYPE:
                return "odt"
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def read_text(path, content_type=None, filename=None):
    """The Outcome of reading the file at `path` (a scan's is SCAN, with what little text it had)."""
    kind = kind_of(path, content_type, filename)
    if kind is None:
        return Outcome(AUCUN, motif=NO_TEXT_FORMAT)
    if kind == "image":
        return Outcome(SCAN)
    try:
        return READERS[kind](path)
    except Unreadable as error:
        return Outcome(ECHEC, motif=str(error))
    except (PyPdfError, zipfile.BadZipFile, DefusedXmlException, SyntaxError, ValueError, KeyError, OSError,
            RecursionError, EOFError, LookupError, UnicodeError, TypeError, AttributeError, IndexError) as error:
        # A hostile or broken file makes the libraries fail in many ways: logged for the operator, a reason for users.
        log.warning("text extraction: unreadable %s file (%s)", kind, type(error).__name__)
        return Outcome(ECHEC, motif=UNREADABLE[kind])


def finished(texte, notes=()):
    """`extrait` with the text cleaned and bounded, or `aucun` when there is none."""
    texte, cut = clean(texte)
    notes = list(notes) + ([TRUNCATED.format(limit=MAX_CHARS).replace(",", " ")] if cut else [])
    if not texte:
        return Outcome(AUCUN, motif=EMPTY)
    return Outcome(EXTRAIT, texte, " ".join(notes) or None)


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SPACES = re.compile(r"[ \t\u00a0]+")
BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def clean(texte):
    """(text, cut): no control characters (PostgreSQL refuses NUL), spaces and blank lines squeezed, MAX_CHARS kept."""
    texte = CONTROL.sub("", (texte or "").replace("\r\n", "\n").replace("\r", "\n"))
    texte = BLANK_LINES.sub("\n\n", SPACES.sub(" ", texte)).strip()
    if len(texte) > MAX_CHARS:
        return texte[:MAX_CHARS], True
    return texte, False


class Collector:
    """Pieces of text until MAX_CHARS (a little over: `clean` cuts exactly), then `full`."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, piece):
        if piece and not self.full:
            self.parts.append(piece)
            self.size += len(piece)

    @property
    def full(self):
        return self.size > MAX_CHARS

    def text(self):
        return "".join(self.parts)


# ------------------------------------------------------------------ PDF

def pdf_reader(path):
    """A pypdf reader of `path`, opened with the empty password if it is encrypted (Unreadable otherwise)."""
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise Unreadable(ENCRYPTED)
        except (FileNotDecryptedError, NotImplementedError, DependencyError):
            raise Unreadable(ENCRYPTED) from None
    return reader


def read_pdf(path):
    """The text layer of the first MAX_PDF_PAGES pages (within MAX_PDF_SECONDS); SCAN when most pages have none."""
    reader = pdf_reader(path)
    count = len(reader.pages)
    collected, textless, read = Collector(), 0, 0
    deadline = time.monotonic() + MAX_PDF_SECONDS
    for number in range(min(count, MAX_PDF_PAGES)):
        page_text = reader.pages[number].extract_text() or ""
        read += 1
        if sum(ch.isalnum() for ch in page_text) < MIN_PAGE_CHARS:
            textless += 1
        collected.add(page_text + "\n\n")
        if collected.full or time.monotonic() > deadline:
            break
    if read == 0:
        return Outcome(AUCUN, motif=EMPTY)
    if textless * 2 > read:
        return Outcome(SCAN, clean(collected.text())[0] or None)
    return finished(collected.text(), [PAGES_CUT.format(limit=read)] if read < count and not collected.full else [])


def pdf_text(path):
    """The whole text layer of a PDF (OCR's output), bounded like any PDF's."""
    reader = pdf_reader(path)
    collected = Collector()
    for number in range(min(len(reader.pages), MAX_PDF_PAGES)):
        collected.add((reader.pages[number].extract_text() or "") + "\n\n")
        if collected.full:
            break
    return collected.text()


# ------------------------------------------------------------------ DOCX and ODT

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass(frozen=True)
class XmlFormat:
    """Where a format keeps its text: the XML part, its paragraphs, and what its other elements stand for."""

    kind: str
    part: str
    paragraphs: tuple
    marks: dict  # tag -> the text it stands for
    text_only_in: str | None  # the element whose text is content (DOCX: w:t); None: every text node (ODT)
    spaces: str | None = None  # ODT's <text:s text:c="n"/>


DOCX = XmlFormat("docx", "word/document.xml", (f"{W}p",),
                 {f"{W}tab": "\t", f"{W}br": "\n", f"{W}cr": "\n"}, f"{W}t")
ODT = XmlFormat("odt", "content.xml", (f"{TEXT_NS}p", f"{TEXT_NS}h"),
                {f"{TEXT_NS}tab": "\t", f"{TEXT_NS}line-break": "\n"}, None, f"{TEXT_NS}s")


def read_office(path, layout):
    """The paragraphs of a DOCX or ODT, streamed: each outermost paragraph is read, then dropped from memory."""
    collected = Collector()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(layout.part)
        if info.file_size > MAX_XML_BYTES:
            raise Unreadable(f"Le document est trop volumineux pour en lire le texte ({layout.kind.upper()}).")
        with archive.open(info) as part:
            depth = 0
            for event, element in iterparse(part, events=("start", "end"), forbid_dtd=True):
                if element.tag not in layout.paragraphs:
                    continue
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth == 0:
                    collected.add(paragraph_text(element, layout) + "\n")
                    element.clear()
                    if collected.full:
                        break
    return finished(collected.text())


def paragraph_text(paragraph, layout):
    parts = []

    def walk(node, content):
        tag = node.tag
        if tag in layout.marks:
            parts.append(layout.marks[tag])
        elif tag == layout.spaces:
            parts.append(" " * min(int(node.get(f"{TEXT_NS}c", "1") or 1), 100))
        elif node is not paragraph and tag in layout.paragraphs:
            parts.append("\n")
        inside = content or tag == layout.text_only_in
        if inside and node.text:
            parts.append(node.text)
        for child in node:
            walk(child, content)
            if content and child.tail:
                parts.append(child.tail)

    walk(paragraph, layout.text_only_in is None)
    return "".join(parts)


# ------------------------------------------------------------------ plain text and e-mails

def decode(data):
    """Bytes as text: UTF-8 (with or without its BOM), UTF-16 with a BOM, else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d…): Latin-1 reads them all
        return data.decode("latin-1")


def read_plain(path, markup=False):
    """A text file (an HTML page: its text, not its markup) in its charset."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_CHARS * 4 + 1)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Outcome(AUCUN, motif=NO_TEXT_FORMAT)  # binary content under a text name
    return finished(html_to_text(decode(data)) if markup else decode(data))


HEADERS = (("From", "De"), ("To", "À"), ("Cc", "Copie"), ("Date", "Date"), ("Subject", "Objet"))


def read_eml(path):
    """An e-mail's main headers, its text body (or its HTML body as text) and its attachments' names."""
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    lines = []
    for header, label in HEADERS:
        value = message.get(header)
        if value:
            lines.append(f"{label} : {value}")
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = part_text(body)
        lines.append("")
        lines.append(html_to_text(content) if body.get_content_subtype() == "html" else content)
    names = [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
    if names:
        lines.append("")
        lines.append("Pièces jointes : " + ", ".join(names))
    return finished("\n".join(lines))


def part_text(part):
    """A MIME part's text in its declared charset (an unknown charset: read as Windows-1252)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        return decode(part.get_payload(decode=True) or b"")


class _HtmlText(HTMLParser):
    """The text of an HTML body: scripts, styles and the head left out, blocks on lines of their own."""

    SKIP = {"script", "style", "head", "title", "template", "noscript"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre",
              "section", "article", "header", "footer", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = Collector(), 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.add("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.add("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.add(data)


def html_to_text(html):
    """Text of an HTML document, never markup: parsed by the standard library, not by regular expressions."""
    parser = _HtmlText()
    parser.feed(html[:MAX_CHARS * 4])
    parser.close()
    return parser.parts.text()


READERS = {
    "pdf": read_pdf,
    "docx": lambda path: read_office(path, DOCX),
    "odt": lambda path: read_office(path, ODT),
    "eml": read_eml,
    "text": read_plain,
    "html": lambda path: read_plain(path, markup=True),
}
