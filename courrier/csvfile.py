"""CSV for people and their spreadsheets: cells guarded against formula injection, text in chunks so that
a response or a terminal streams a large export, and a UTF-8 BOM so that a French spreadsheet opens it
with a double click. Infrastructure: imports no feature."""
import csv

from flask import Response, stream_with_context

BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"): it is
# written with a leading apostrophe, which the spreadsheet shows as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def csv_safe(value):
    """The cell as a spreadsheet must show it: text, never a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_unsafe(value):
    """The value of a cell that csv_safe wrote (an import reads back what an export wrote)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES) else value


class _Pending:
    """What csv.writer writes to: the text of the lines not yet handed out."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def take(self):
        text, self.parts = "".join(self.parts), []
        return text


def csv_chunks(header, rows, *, delimiter=";", bom=True, on_row=None):
    """The CSV text of `header` then `rows` (lists of cells, already made safe), ROWS_PER_CHUNK rows a chunk.

    `on_row()` is called after each row (a progress bar).
    """
    pending = _Pending()
    writer = csv.writer(pending, delimiter=delimiter, lineterminator="\r\n")
    if bom:
        pending.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if on_row is not None:
            on_row()
        if count % ROWS_PER_CHUNK == 0:
            yield pending.take()
    yield pending.take()


# A file to download, not a page: never cached, never sniffed, never run (a sandbox with no source at all).
DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox"}


def csv_download(chunks, filename):
    """`chunks` (text) streamed as a UTF-8 CSV attachment named `filename`, the request's context kept."""
    response = Response(stream_with_context(chunks), mimetype="text/csv")  # text/*: "; charset=utf-8" added
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers.update(DOWNLOAD_HEADERS)
    return response
