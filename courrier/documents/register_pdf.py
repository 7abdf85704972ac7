"""The register as a PDF (fpdf2): A4 landscape, the title and period on every page, the table header
repeated on every page, long cells wrapped, "Page X / Y" at the foot.

Speed: 100,000 letters must print in well under a minute. fpdf2's `cell`/`multi_cell`/`text`
cost 50–100 µs per call (layout, then a per-character glyph mapping in Python): ten of them per row is a
minute on their own. So the title, the header, the footer and the grid go through fpdf2's public API,
and each row is written as one text object — one `Tm … Tj` per line of each cell — with the glyphs
mapped and measured once per distinct character (`_GlyphMap`, `_CharWidths`). Those few
lines touch fpdf2 internals (`_out`, `_set_font_for_page`, a TTF font's `subset`); the tests read
the text back with pypdf, so a change there fails the suite rather than a user's register.

Memory: fpdf2 keeps every page's content stream until `output()`, about 0.7 KB a row uncompressed: 140 MB
for 100,000 letters. So each page is compressed as soon as the next one starts (a tenth of the size), and
`_RegisterOutput` hands the compressed streams to fpdf2's writer as they are. "Page X / Y" cannot then use
fpdf2's `{nb}` alias (substituted in the uncompressed streams at the end): the footer writes the marker
TOTAL_MARKER where Y goes, and `_RegisterOutput` replaces it page by page, decompressing one at a time.

Font: DejaVu Sans (Debian `fonts-dejavu-core`) when present, for every character French needs ("œ’…");
otherwise fpdf2's core Helvetica, with the characters outside latin-1 replaced (LATIN1_REPLACEMENTS).
"""
import os
import zlib
from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import TTFFont
from fpdf.output import OutputProducer
from fpdf.syntax import Name

from courrier.deadlines import PARIS
from courrier.documents.register import ETAT_LABELS, NATURE_LABELS, STATUT_LABELS, french_date
from courrier.schemas import CONTROL_CHARACTERS

DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
LATIN1_REPLACEMENTS = str.maketrans({
    "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "…": "...", "–": "-",
    "—": "-", "‑": "-", "€": "EUR", "\u202f": " ", "\u2009": " ", "\u2007": " ",
})

# Millimetres. 297 × 210, 10 mm margins: 277 mm of table, eleven columns: 7 points, so that a reference,
# a date and a registered-mail number fit their column on one line and the objet keeps a fifth of the width.
MARGIN = 10
BODY_SIZE = 7  # points
LINE = 3.1  # the height of a wrapped line
PAD = 1.0  # inside each cell, left and right, and above and below the lines
ASCENT = 2.15  # from the top of a line to its baseline, at BODY_SIZE
HEADER_HEIGHT = 6
FOOTER_HEIGHT = 6
COLUMNS = (("Référence", 24.5), ("Reçu le", 16.5), ("Nature", 19), ("N° recommandé", 24.5), ("Expéditeur", 30),
           ("Destinataire", 30), ("Objet", 59.5), ("Service traitant", 24), ("Échéance", 16.5), ("Statut", 15),
           ("Traitement", 17.5))
FOOTER_SIZE = 8  # points
EMPTY = "Aucun courrier enregistré sur cette période."
# A PDF string no text of ours can hold: every glyph is two bytes, the first 0 or 1 in a subset this small.
TOTAL_MARKER = b"(@@TOTAL@@)"
PAGE_COMPRESSION = 1  # zlib level of the pages while the document grows (recompressed at 6 at the end)


class _CharWidths(dict):
    """character → its width (mm) in the body font, measured by fpdf2 once per distinct character."""

    def __init__(self, pdf):
        super().__init__()
        self.pdf = pdf

    def __missing__(self, char):
        self[char] = width = self.pdf.get_string_width(char)
        return width


class _GlyphMap(dict):
    """unicode code point → the character of its glyph in the font's subset (None: no glyph, dropped), as
    fpdf2's own `TTFFont.encode_text` maps them, but once per distinct character, for `str.translate`."""

    def __init__(self, font):
        super().__init__()
        self.font = font

    def __missing__(self, code):
        mapped = self.font.subset.pick(code)
        self[code] = value = chr(mapped) if mapped is not None else None
        return value


class _RegisterOutput(OutputProducer):
    """fpdf2's writer, given the pages already compressed: the total written in, one page at a time."""

    def _add_pages(self, _slice=slice(0, None)):
        pdf = self.fpdf
        total = f"({pdf.encode(str(pdf.pages_count))})".encode("latin-1")
        for number in pdf.pages:
            pdf.pages[number].contents = pdf.finished_contents(number, total)
        pdf.compress = False  # they are: fpdf2 must not compress them again
        try:
            pages = super()._add_pages(_slice)
        finally:
            pdf.compress = True
        for page in pages:
            page.contents.filter = Name("FlateDecode")
        return pages


def pdf_cells(row):
    """The printed cells of a RegisterRow, in COLUMNS order."""
    service = " — ".join(part for part in (row.service_code, row.service_nom) if part)
    return (row.reference, french_date(row.date_reception), NATURE_LABELS.get(row.nature, row.nature),
            row.numero_recommande, row.expediteur, row.destinataire, row.objet, service, french_date(row.echeance),
            STATUT_LABELS.get(row.statut, row.statut), ETAT_LABELS.get(row.traitement, ""))


class RegisterPDF(FPDF):
    """The register's pages; `add_row` places one letter, starting a new page when it would not fit."""

    def __init__(self, period, subtitle, font_dir=DEJAVU_DIR):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.period, self.subtitle = period, subtitle
        self.set_margins(MARGIN, MARGIN, MARGIN)
        # Rows are placed here: a row never splits across two pages.
        self.set_auto_page_break(False)
        self.unicode = all(os.path.exists(os.path.join(font_dir, name)) for name in DEJAVU_FILES.values())
        if self.unicode:
            for style, name in DEJAVU_FILES.items():
                self.add_font("DejaVu", style, os.path.join(font_dir, name))
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.set_title(self.clean(period.title))
        self.set_creator("courrier")
        self.set_draw_color(140)
        self.bottom = self.h - MARGIN - FOOTER_HEIGHT
        self.table_top = self.rows_bottom = None
        self.body_font = self.glyphs = self.char_widths = self.header_ops = None
        self.compressed = set()
        # "Page X / Y" is written by `footer` and `_RegisterOutput`, not by fpdf2's alias.
        self.alias_nb_pages(None)

    def close_fonts(self):
        """fontTools reads a lazily loaded font from its file, left open until this."""
        for font in self.fonts.values():
            if isinstance(font, TTFFont):
                font.ttfont.close()

    # ---------------------------------------------------------------- every page

    def header(self):
        """The title, the period and the table's header: laid out by fpdf2 on the first page, then the same
        bytes written again on every page (laying them out 7,000 times would take longer than the rows)."""
        if self.page > 1:
            self.compress_page(self.page - 1)
        contents = self.pages[self.page].contents
        if self.header_ops is None:
            start = len(contents)
            self.draw_header()
            self.header_ops, self.header_bottom = bytes(contents[start:]), self.y
        else:
            for font in self.header_fonts:  # declared on this page too
                self._out(self._set_font_for_page(font, BODY_SIZE))
            contents.extend(self.header_ops)
            self.y = self.header_bottom
        self.table_top = self.rows_bottom = self.y
        self.set_font(self.family, "", BODY_SIZE)
        # The rows' text objects use this font: declared on the page here, once.
        self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        if self.body_font is not self.current_font:
            self.body_font = self.current_font
            self.glyphs = _GlyphMap(self.body_font) if isinstance(self.body_font, TTFFont) else None
            self.char_widths = _CharWidths(self)
            self.space = self.text_width(" ")

    def draw_header(self):
        fonts = []
        self.set_font(self.family, "B", 12)
        fonts.append(self.current_font)
        self.cell(0, 6, self.clean(self.period.title), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        fonts.append(self.current_font)
        self.cell(0, 5, self.clean(self.subtitle), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        self.set_font(self.family, "B", BODY_SIZE)
        self.set_fill_color(228)
        for title, width in COLUMNS:
            self.cell(width, HEADER_HEIGHT, self.clean(title), border=1, fill=True)
        self.ln(HEADER_HEIGHT)
        self.header_fonts = list({id(font): font for font in fonts}.values())

    def footer(self):
        x = MARGIN
        for _, width in ((None, 0),) + COLUMNS:
            x += width
            self.line(x, self.table_top, x, self.rows_bottom)
        k, baseline = self.k, self.h - MARGIN - 1
        number = f"Page {self.page_no()} / "
        x = self.w / 2 - self.text_width(number) * FOOTER_SIZE / BODY_SIZE
        self._out(f"BT /F{self.body_font.i} {FOOTER_SIZE:.2f} Tf 1 0 0 1 {x * k:.2f} {(self.h - baseline) * k:.2f} Tm "
                  f"({self.encode(number)}) Tj {TOTAL_MARKER.decode()} Tj ET")

    def compress_page(self, number):
        """Compress a finished page's content stream now, rather than keeping it whole until the end."""
        page = self.pages[number]
        page.contents = bytearray(zlib.compress(page.contents, PAGE_COMPRESSION))
        self.compressed.add(number)

    def finished_contents(self, number, total):
        """A page's final content stream: the page total written in, compressed."""
        page = self.pages[number]
        raw = zlib.decompress(page.contents) if number in self.compressed else bytes(page.contents)
        return bytearray(zlib.compress(raw.replace(TOTAL_MARKER, total)))

    # ---------------------------------------------------------------- rows

    def clean(self, text):
        """One line of printable text, in what the font can print."""
        text = CONTROL_CHARACTERS.sub(" ", text or "")
        if not self.unicode:
            text = text.translate(LATIN1_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")
        return text

    def text_width(self, text):
        """As fpdf2's `get_string_width` without text shaping: the sum of the characters' widths."""
        return sum(map(self.char_widths.__getitem__, text))

    def pieces(self, word, room):
        """A word wider than the column on its own, cut in pieces that fit."""
        piece, width = "", 0.0
        for char in word:
            char_width = self.char_widths[char]
            if piece and width + char_width > room:
                yield piece, width
                piece, width = "", 0.0
            piece, width = piece + char, width + char_width
        if piece:
            yield piece, width

    def wrap(self, text, width):
        """The lines of `text` in a column `width` wide, broken between words."""
        room = width - 2 * PAD
        if self.text_width(text) <= room:
            return [text]
        lines, line, line_width, space = [], "", 0.0, self.space
        for word in text.split():
            word_width = self.text_width(word)
            for piece, piece_width in (((word, word_width),) if word_width <= room else self.pieces(word, room)):
                if line and line_width + space + piece_width <= room:
                    line, line_width = f"{line} {piece}", line_width + space + piece_width
                else:
                    if line:
                        lines.append(line)
                    line, line_width = piece, piece_width
        if line:
            lines.append(line)
        return lines or [""]

    def encode(self, line):
        """The PDF string of a line, as `TTFFont.encode_text` (or a core font) writes it, inlined for speed."""
        if self.glyphs is not None:
            line = line.translate(self.glyphs).encode("utf-16-be").decode("latin-1")
        return line.replace("\\", "\\\\").replace(")", "\\)").replace("(", "\\(").replace("\r", "\\r")

    def add_row(self, cells):
        """Place one row of cells (COLUMNS order) below the previous one, or at the top of a new page."""
        lines = [self.wrap(self.clean(text), width) for text, (_, width) in zip(cells, COLUMNS)]
        height = max(map(len, lines)) * LINE + 2 * PAD
        if self.y + height > self.bottom:
            self.add_page()
        k, page_height = self.k, self.h
        ops = [f"BT /F{self.body_font.i} {BODY_SIZE:.2f} Tf"]
        x = MARGIN + PAD
        for column_lines, (_, width) in zip(lines, COLUMNS):
            baseline = self.y + PAD + ASCENT
            for line in column_lines:
                if line:
                    ops.append(f"1 0 0 1 {x * k:.2f} {(page_height - baseline) * k:.2f} Tm ({self.encode(line)}) Tj")
                baseline += LINE
            x += width
        bottom = self.y + height
        y = (page_height - bottom) * k
        ops.append(f"ET {MARGIN * k:.2f} {y:.2f} m {(self.w - MARGIN) * k:.2f} {y:.2f} l S")
        self._out("\n".join(ops))
        self.y = self.rows_bottom = bottom


def write_pdf(rows, period, out, total=None, on_row=None, font_dir=DEJAVU_DIR, now=None):
    """Write the register of `rows` (RegisterRow, in order) to the binary file `out`; returns how many rows.

    `total` (the count, when known) goes in the subtitle; `on_row()` is called after each row.
    """
    edited = (now or datetime.now(PARIS)).astimezone(PARIS)
    subtitle = (f"{'' if total is None else f'{total} courrier(s) — '}Période sur la date d'enregistrement — "
                f"édité le {edited:%d/%m/%Y à %H:%M} (heure de Paris)")
    pdf = RegisterPDF(period, subtitle, font_dir)
    try:
        pdf.add_page()
        count = 0
        for row in rows:
            pdf.add_row(pdf_cells(row))
            count += 1
            if on_row is not None:
                on_row()
        if count == 0:
            pdf.set_xy(MARGIN, pdf.table_top + 2)
            pdf.cell(0, 5, pdf.clean(EMPTY))
        pdf.output(out, output_producer_class=_RegisterOutput)
    finally:
        pdf.close_fonts()
    return count
