"""The chronological register (issue 14): GET /api/registre as CSV and PDF, who may export it, the CLI."""
import csv
import io
import os
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from courrier.audit.models import AuditEvent
from courrier.documents import register
from courrier.documents.models import Document
from courrier.documents.register_pdf import (BODY_SIZE, COLUMNS, DEJAVU_DIR, DEJAVU_FILES, MARGIN, PAD, RegisterPDF,
                                             write_pdf)
from courrier.extensions import db
from tests.conftest import create, join, service

THIS_YEAR = datetime.now(timezone.utc).year
REFERENCE = re.compile(r"(?:ENT|SOR|INT)-\d{4}-\d{6}")
HAS_DEJAVU = all(os.path.exists(os.path.join(DEJAVU_DIR, name)) for name in DEJAVU_FILES.values())


def export(client, account, expected=200, **query):
    response = client.get("/api/registre", query_string={"type": "entrant", **query}, headers=account.headers)
    assert response.status_code == expected, response.data[:500]
    return response


def csv_rows(response):
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def pdf_text(data):
    reader = PdfReader(io.BytesIO(data))
    return reader, [page.extract_text() for page in reader.pages]


def registered_on(app, reference, day):
    """Move a letter's registration (created_at) to noon UTC of `day`."""
    with app.app_context():
        db.session.execute(update(Document).where(Document.reference == reference)
                           .values(created_at=datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)))
        db.session.commit()


# ------------------------------------------------------------------ CSV

def test_csv_has_a_bom_semicolons_french_headers_and_the_letters_in_reference_order(app, client, admin):
    letters = [create(client, admin, objet=f"Demande n° {n}", expediteur=f"Mairie {n}") for n in range(3)]
    create(client, admin, type="sortant")
    # Registration times in the opposite order: the register follows the references all the same.
    for day, letter in zip((date(THIS_YEAR, 3, 3), date(THIS_YEAR, 3, 2), date(THIS_YEAR, 3, 1)), letters):
        registered_on(app, letter["reference"], day)
    response = export(client, admin, format="csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="registre-entrant-{THIS_YEAR}.csv"'
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert rows[0] == ["Référence", "Date de réception", "Nature", "N° de recommandé", "Expéditeur", "Destinataire",
                       "Objet", "Code du service traitant", "Service traitant", "Échéance", "Statut", "Traitement"]
    assert [row[0] for row in rows[1:]] == [letter["reference"] for letter in letters]
    assert rows[1][2:7] == ["Courrier simple", "", "Mairie 0", "Préfecture", "Demande n° 0"]
    assert rows[1][10] == "En attente"
    assert response.data.count(b"\r\n") == 4


def test_csv_without_bom_on_request(client, admin):
    create(client, admin)
    response = export(client, admin, format="csv", bom="false")
    assert response.data.startswith("Référence;".encode())


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(client, admin):
    create(client, admin, objet="=HYPERLINK(\"http://evil.example\")", expediteur="+33 1 23 45 67 89",
           destinataire="@SUM(A1)")
    row = csv_rows(export(client, admin, format="csv"))[1]
    assert row[6] == "'=HYPERLINK(\"http://evil.example\")"
    assert (row[4], row[5]) == ("'+33 1 23 45 67 89", "'@SUM(A1)")


def test_csv_shows_the_nature_its_number_the_parties_the_treating_service_the_deadline_and_the_state(
        client, admin, validateur):
    fin = service(client, admin, "FIN")
    join(client, admin, validateur, fin)
    letter = create(client, admin, nature="recommande_ar", numero_recommande="1A 123 456 789 01",
                    expediteur="Mairie de Sète", destinataire="Direction des finances", service_id=fin["id"])
    assert client.post(f"/api/documents/{letter['id']}/validate", headers=validateur.headers).status_code == 200
    row = csv_rows(export(client, admin, format="csv"))[1]
    echeance = date.fromisoformat(letter["traitement"]["echeance"]).strftime("%d/%m/%Y")
    assert row[2:6] == ["Recommandé avec AR", "1A12345678901", "Mairie de Sète", "Direction des finances"]
    assert row[7:12] == ["FIN", "Service FIN", echeance, "Validé", "À traiter"]


def test_the_period_is_on_the_registration_day_both_bounds_included(app, client, admin):
    days = (date(THIS_YEAR, 1, 31), date(THIS_YEAR, 2, 1), date(THIS_YEAR, 2, 28), date(THIS_YEAR, 3, 1))
    letters = [create(client, admin) for _ in days]
    for letter, day in zip(letters, days):
        registered_on(app, letter["reference"], day)
    response = export(client, admin, format="csv", date_from=f"{THIS_YEAR}-02-01", date_to=f"{THIS_YEAR}-02-28")
    assert [row[0] for row in csv_rows(response)[1:]] == [letters[1]["reference"], letters[2]["reference"]]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="registre-entrant-{THIS_YEAR}-02-01_{THIS_YEAR}-02-28.csv"')


def test_without_dates_the_register_is_the_current_year(app, client, admin):
    old, current = create(client, admin), create(client, admin)
    registered_on(app, old["reference"], date(THIS_YEAR - 1, 12, 31))
    assert [row[0] for row in csv_rows(export(client, admin, format="csv"))[1:]] == [current["reference"]]


def test_only_the_type_asked_for(client, admin):
    incoming = create(client, admin)
    outgoing = create(client, admin, type="sortant")
    assert [row[0] for row in csv_rows(export(client, admin, format="csv", type="sortant"))[1:]] == [
        outgoing["reference"]]
    assert [row[0] for row in csv_rows(export(client, admin, format="csv"))[1:]] == [incoming["reference"]]


# ------------------------------------------------------------------ PDF

def test_pdf_holds_every_reference_in_order_over_several_landscape_pages(client, admin):
    references = [create(client, admin, objet=f"Courrier {n}")["reference"] for n in range(120)]
    response = export(client, admin, format="pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="registre-entrant-{THIS_YEAR}.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    reader, pages = pdf_text(response.data)
    assert len(pages) > 1
    assert REFERENCE.findall("\n".join(pages)) == references
    for number, text in enumerate(pages, 1):
        assert f"Page {number} / {len(pages)}" in text
        assert f"Registre chronologique du courrier entrant — année {THIS_YEAR}" in text
        assert "Référence" in text and "Objet" in text and "Traitement" in text  # the header on every page
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, in points


def test_pdf_wraps_a_long_objet_and_keeps_every_word(client, admin):
    words = [f"mot{n:03d}" for n in range(36)]
    create(client, admin, objet=" ".join(words))
    _, pages = pdf_text(export(client, admin).data)
    lines = [line for line in pages[0].splitlines() if "mot" in line]
    assert len(lines) > 1
    assert re.findall(r"mot\d{3}", "\n".join(lines)) == words


def test_pdf_prints_the_registered_number_the_destinataire_and_the_deadline(client, admin):
    letter = create(client, admin, nature="recommande", numero_recommande="1A12345678901", destinataire="Trésorerie")
    _, pages = pdf_text(export(client, admin).data)
    echeance = date.fromisoformat(letter["traitement"]["echeance"]).strftime("%d/%m/%Y")
    assert all(header in pages[0] for header in ("N° recommandé", "Destinataire", "Échéance"))
    assert "1A12345678901" in pages[0] and "Trésorerie" in pages[0] and echeance in pages[0]


@pytest.mark.parametrize("font_dir", [DEJAVU_DIR, "/nonexistent"])
def test_pdf_columns_fill_the_landscape_page_and_short_values_fit_on_one_line(font_dir):
    """Eleven columns on A4 landscape: the widths add up to the page inside its margins, every header fits its
    column, and a reference, a date, a registered-mail number and each state print on one line."""
    pdf = RegisterPDF(register.Period("entrant", date(2026, 1, 1), date(2026, 12, 31)), "sous-titre", font_dir)
    pdf.add_page()
    try:
        widths = dict(COLUMNS)
        assert sum(widths.values()) == pytest.approx(pdf.w - 2 * MARGIN)
        pdf.set_font(pdf.family, "B", BODY_SIZE)
        assert all(pdf.get_string_width(pdf.clean(title)) + 2 * PAD <= width for title, width in COLUMNS)
        pdf.set_font(pdf.family, "", BODY_SIZE)
        one_line = {"Référence": ["ENT-2026-000042"], "Reçu le": ["31/12/2026"], "Échéance": ["31/12/2026"],
                    "N° recommandé": ["1A12345678901"], "Statut": list(register.STATUT_LABELS.values()),
                    "Traitement": [label for label in register.ETAT_LABELS.values() if label]}
        for column, values in one_line.items():
            assert all(pdf.wrap(pdf.clean(value), widths[column]) == [pdf.clean(value)] for value in values), column
    finally:
        pdf.close_fonts()


@pytest.mark.skipif(not HAS_DEJAVU, reason="DejaVu fonts absent: the PDF uses Helvetica, latin-1 only")
def test_pdf_prints_french_typography_in_the_unicode_font(client, admin):
    create(client, admin, objet="Œuvre d’art… et cœur", expediteur="Mme Lefèvre")
    _, pages = pdf_text(export(client, admin).data)
    assert "Œuvre d’art… et cœur" in pages[0] and "Mme Lefèvre" in pages[0]


def test_pdf_of_an_empty_period_says_so(client, admin):
    _, pages = pdf_text(export(client, admin, type="interne").data)
    assert "Aucun courrier enregistré sur cette période." in pages[0] and "Page 1 / 1" in pages[0]


def test_the_fast_text_path_encodes_as_fpdf2_does(app):
    """The rows bypass fpdf2's text methods (register_pdf docstring): same bytes as its own encoder."""
    pdf = RegisterPDF(register.Period("entrant", date(2026, 1, 1), date(2026, 12, 31)), "sous-titre")
    pdf.add_page()
    text = "Œuvre d’art (1/2) \\ l'école… 100 €"
    try:
        if pdf.glyphs is not None:
            assert f"({pdf.encode(text)}) Tj" == pdf.body_font.encode_text(text)
        else:
            assert pdf.encode(pdf.clean(text)) == "OEuvre d'art \\(1/2\\) \\\\ l'école... 100 EUR"
    finally:
        pdf.close_fonts()


def test_without_dejavu_the_pdf_falls_back_to_helvetica(tmp_path):
    rows = [register.RegisterRow("ENT-2026-000001", date(2026, 1, 2), "courrier_simple", None, "Mme Lefèvre",
                                 "Préfecture", "Œuvre d’art…", None, None, None, "en_attente", None)]
    out = io.BytesIO()
    assert write_pdf(rows, register.Period("entrant", date(2026, 1, 1), date(2026, 12, 31)), out,
                     font_dir=str(tmp_path)) == 1
    _, pages = pdf_text(out.getvalue())
    assert "OEuvre d'art..." in pages[0] and "Mme Lefèvre" in pages[0] and "Page 1 / 1" in pages[0]


# ------------------------------------------------------------------ who may export

def test_who_may_export_the_register(client, auth, admin, agent, validateur):
    bc = service(client, admin, "BC", is_mail_office=True)
    fin = service(client, admin, "FIN")
    mail_office_agent, fin_agent = auth.account("agent"), auth.account("agent")
    join(client, admin, mail_office_agent, bc)
    join(client, admin, fin_agent, fin)
    create(client, agent)
    for account, status in ((agent, 403), (fin_agent, 403), (validateur, 200), (mail_office_agent, 200),
                            (admin, 200)):
        for output_format in register.FORMATS:
            response = export(client, account, status, format=output_format)
            if status == 403:
                assert response.json["code"] == "forbidden"


def test_the_register_needs_a_token(client):
    assert client.get("/api/registre?type=entrant").status_code == 401


@pytest.mark.parametrize("query, field", [
    ({}, "type"),
    ({"type": "recu"}, "type"),
    ({"type": "entrant", "format": "docx"}, "format"),
    ({"type": "entrant", "date_from": "2026-13-01"}, "date_from"),
    ({"type": "entrant", "date_from": "2026-03-01", "date_to": "2026-02-28"}, "date_to"),
    ({"type": "entrant", "date_to": "2025-12-31"}, None),  # before the default start, 1 January of … 2025: fine
])
def test_bad_arguments_are_422(client, admin, query, field):
    response = client.get("/api/registre", query_string=query, headers=admin.headers)
    if field is None:
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_an_export_is_audited_with_its_type_period_format_and_row_count(app, client, admin):
    create(client, admin)
    create(client, admin)
    export(client, admin, format="csv", date_from=f"{THIS_YEAR}-01-01")
    export(client, admin, format="pdf")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.type == "register_exported")
                                    .order_by(AuditEvent.created_at)).all()
        assert [(e.actor_id, e.details) for e in events] == [
            (admin.id, {"type": "entrant", "date_from": f"{THIS_YEAR}-01-01", "date_to": f"{THIS_YEAR}-12-31",
                        "format": output_format, "rows": 2}) for output_format in ("csv", "pdf")]


# ------------------------------------------------------------------ the command line

def test_cli_writes_the_pdf_and_the_csv(app, client, admin, runner, tmp_path):
    references = [create(client, admin)["reference"] for _ in range(3)]
    pdf_path, csv_path = tmp_path / "registre.pdf", tmp_path / "registre.csv"
    result = runner.invoke(args=["registre", "export", "--type", "entrant", "--year", str(THIS_YEAR),
                                 "--format", "pdf", "-o", str(pdf_path)])
    assert result.exit_code == 0, result.output
    assert "3 courrier(s) exporté(s)" in result.output
    assert REFERENCE.findall("\n".join(pdf_text(pdf_path.read_bytes())[1])) == references
    result = runner.invoke(args=["registre", "export", "--type", "entrant", "--from", f"{THIS_YEAR}-01-01",
                                 "--format", "csv", "-o", str(csv_path)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == references
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.type == "register_exported")
                                 .order_by(AuditEvent.created_at.desc()).limit(1))["rows"] == 3


def test_cli_refuses_a_period_that_ends_before_it_starts(runner, tmp_path):
    result = runner.invoke(args=["registre", "export", "--type", "entrant", "--from", "2026-03-01", "--to",
                                 "2026-02-01", "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and "précède son début" in result.output
