"""What a captured file is, read from its bytes: its type, whether it is a program, a safe name.

A sender's `Content-Type` and file name are claims: the type stored is the one the first bytes (and, for
the Office and OpenDocument formats, the archive's members) say. A program is refused by its content
(Windows, Linux and macOS executables, scripts starting with `#!`) and by its name (the extensions Windows
runs on a double click, which a script in plain text cannot be recognised by).
"""
import io
import os
import zipfile

from courrier.documents import uploads

# Scans in bulk: the attachments' types (PDF, PNG, JPEG) and the scanners' TIFF.
TIFF = "image/tiff"
SCAN_SIGNATURES = uploads.SIGNATURES + ((b"II*\x00", TIFF, ".tif"), (b"MM\x00*", TIFF, ".tif"))
SIGNATURES = SCAN_SIGNATURES + (
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", ".doc"),  # Word, Excel 97–2003
)
ZIP = b"PK\x03\x04"
# An Office Open XML file is a zip holding one of these; an OpenDocument's first member `mimetype` names its type.
OOXML = (
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
)
ODF_PREFIX = "application/vnd.oasis.opendocument."
TEXT = "text/plain"
EMAIL = "message/rfc822"
BINARY = "application/octet-stream"
EXTENSIONS = {TEXT: ".txt", EMAIL: ".eml", BINARY: ".bin", "application/zip": ".zip",
              **{ctype: ext for _, ctype, ext in SIGNATURES}, **{ctype: ext for _, ctype, ext in OOXML}}

# Programs by their first bytes: PE (MZ), ELF, Mach-O (both byte orders, 32/64 bits, fat), Java classes, scripts.
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
# What Windows runs (or installs, or hands to a script host) when it is opened.
EXECUTABLE_EXTENSIONS = frozenset((
    ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".msi", ".msp", ".msc", ".dll", ".cpl", ".js", ".jse",
    ".vbs", ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".jar", ".lnk", ".reg", ".scf", ".sh", ".app",
    ".gadget", ".inf", ".application", ".appref-ms", ".iso", ".img", ".vhd", ".vhdx",
))
EXECUTABLE_TYPES = frozenset((
    "application/x-msdownload", "application/x-msdos-program", "application/x-executable", "application/x-sh",
    "application/x-dosexec", "application/javascript", "text/javascript", "application/hta",
    "application/x-ms-installer", "application/x-msi", "application/vnd.microsoft.portable-executable",
))


def detect(data):
    """The MIME type of `data` from its content (never from a name or a header)."""
    for magic, content_type, _ in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data.startswith(ZIP):
        return _zip_type(data)
    if _is_text(data):
        return TEXT
    return BINARY


def _zip_type(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared.startswith(ODF_PREFIX):
                    return declared
            for member, content_type, _ in OOXML:
                if member in names:
                    return content_type
    except (zipfile.BadZipFile, OSError, ValueError):
        pass
    return "application/zip"


def _is_text(data):
    sample = data[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        # Cut in the middle of a character at the sample's end, or another 8-bit encoding (Latin-1 mail).
        return error.start >= len(sample) - 3 or all(byte >= 0x20 or byte in b"\t\r\n\f" for byte in sample)


def refusal(data, filename, declared_type=None):
    """Why this file may not be taken (French), or None: a program, by its content or by its name."""
    if data.startswith(EXECUTABLE_MAGIC):
        return f"« {filename or 'sans nom'} » est un programme exécutable (reconnu à son contenu)."
    extension = os.path.splitext((filename or "").strip().rstrip(". ").lower())[1]
    if extension in EXECUTABLE_EXTENSIONS:
        return f"« {filename} » est un programme ou un script ({extension}) : refusé."
    if (declared_type or "").lower() in EXECUTABLE_TYPES:
        return f"« {filename or 'sans nom'} » est déclaré comme un programme ({declared_type}) : refusé."
    return None


def safe_filename(raw, content_type):
    """The sender's name as safe metadata (`uploads.clean_filename`), or `piece-jointe.<ext>` of its type."""
    placeholder = uploads.DEFAULT_STEM + ".pdf"  # what clean_filename makes of a name with nothing left
    cleaned = uploads.clean_filename(raw, "application/pdf")
    if cleaned == placeholder and not (raw or "").strip().endswith(placeholder):
        return uploads.DEFAULT_STEM + EXTENSIONS.get(content_type, ".bin")
    return cleaned
