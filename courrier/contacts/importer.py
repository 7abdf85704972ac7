"""The CSV file of correspondents: its columns, the import (all or nothing) and the export.

Import: every row is checked with the API's own schema and rules (a personne has a nom, a French
postcode is 5 digits, the duplicate guard within the file and against the database) before any is
created; the problems are reported by line number. Export: `;` separated with a UTF-8 BOM (what a
French spreadsheet opens with a double click), cells guarded against formula injection as the audit
CSV is; the import reads such a file back unchanged.
"""
import csv
import itertools

from marshmallow import ValidationError
from sqlalchemy import select

from courrier import csvfile
from courrier.contacts import service
from courrier.contacts.models import ADDRESS_FIELDS, Contact
from courrier.contacts.schemas import ContactCreateSchema
from courrier.extensions import db

COLUMNS = ("type", "civilite", "nom", "prenom", "organisation", "service", "fonction", *ADDRESS_FIELDS,
           "email", "telephone", "notes")
REQUIRED_COLUMNS = ("type",)
DELIMITERS = (";", ",")
EXPORT_DELIMITER = ";"
KEYS_PER_QUERY = 500
CREATED_PER_FLUSH = 1000


class ImportFailed(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


# ------------------------------------------------------------------ import

def read_rows(text_file):
    """[(line number, row)] of the file, `,` or `;` separated (the header says which), header checked.

    A row is numbered by the line it starts on: a quoted cell (notes) may span several lines.
    """
    header_line = text_file.readline()
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(itertools.chain([header_line], text_file), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"ligne 1 : colonne(s) manquante(s) : {', '.join(missing)}"] if missing else []
        problems += [f"ligne 1 : colonne(s) inconnue(s) : {', '.join(unknown)}"] if unknown else []
        raise ImportFailed(problems + [f"colonnes possibles : {','.join(COLUMNS)}"])
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader, None)
        except csv.Error as error:
            raise ImportFailed([f"ligne {line} : CSV illisible ({error})"]) from None
        if values is None:
            return rows
        if len(values) > len(header):
            raise ImportFailed([f"ligne {line} : plus de valeurs que de colonnes"])
        if any(value.strip() for value in values):
            rows.append((line, dict(zip(header, values + [""] * (len(header) - len(values))))))


def unguarded(value):
    """A cell as the export wrote it, without the apostrophe the formula guard put before it."""
    return csvfile.csv_unsafe((value or "").strip())


def fields_of(row):
    """The API body of a row: the address columns grouped under `adresse`, the columns absent left out."""
    values = {name: unguarded(value) for name, value in row.items()}
    body = {name: values[name] for name in COLUMNS if name in values and name not in ADDRESS_FIELDS}
    if "type" in body:
        body["type"] = body["type"].lower()
    adresse = {name: values[name] for name in ADDRESS_FIELDS if values.get(name)}
    if adresse:
        body["adresse"] = adresse
    return body


def schema_problems(messages, prefix=""):
    """marshmallow's messages as "field : message" lines; nested fields (adresse) by their own name."""
    for name, value in messages.items():
        if isinstance(value, dict):
            yield from schema_problems(value, prefix)
        else:
            yield from (f"{prefix}{name} : {message}" for message in value)


def plan_import(rows, force=False):
    """The contacts to create, checked but not added; ImportFailed lists every problem by line.

    `rows` may be wrapped in a progress bar. Duplicates are refused within the file and against the
    database unless `force`.
    """
    schema = ContactCreateSchema()
    problems, planned, line_of_key = [], [], {}
    for line, row in rows:
        try:
            data = schema.load(fields_of(row))
        except ValidationError as error:
            problems += [(line, text) for text in schema_problems(error.messages, f"ligne {line} : ")]
            continue
        contact = Contact()
        missing = service.apply_fields(contact, data)
        if missing:
            problems.append((line, f"ligne {line} : {missing[0]} : {missing[1]}"))
            continue
        if not force:
            if contact.duplicate_key in line_of_key:
                first = line_of_key[contact.duplicate_key]
                problems.append((line, f"ligne {line} : « {contact.display_name} » figure déjà ligne {first}"))
                continue
            line_of_key[contact.duplicate_key] = line
        planned.append((line, contact))
    if not force:
        problems += _existing_duplicates(planned)
    if problems:
        raise ImportFailed([text for _, text in sorted(problems, key=lambda problem: problem[0])])
    return [contact for _, contact in planned]


def _existing_duplicates(planned):
    """(line, problem) for each planned contact that matches one already in the database."""
    problems = []
    for start in range(0, len(planned), KEYS_PER_QUERY):
        chunk = planned[start:start + KEYS_PER_QUERY]
        existing = {contact.duplicate_key: contact for contact in db.session.scalars(
            select(Contact).where(Contact.duplicate_key.in_({contact.duplicate_key for _, contact in chunk})))}
        problems += [(line, f"ligne {line} : {service.duplicate_message(existing[contact.duplicate_key], '--force')}")
                     for line, contact in chunk if contact.duplicate_key in existing]
    return problems


def create_planned(contacts):
    """Add the planned contacts in one transaction; returns how many. `contacts` may be a progress bar."""
    created = 0
    try:
        for contact in contacts:
            db.session.add(contact)
            created += 1
            if created % CREATED_PER_FLUSH == 0:
                db.session.flush()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return created


# ------------------------------------------------------------------ export

def row_of(contact):
    """The CSV cells of a contact, in COLUMNS order, each guarded against formula injection."""
    adresse = contact.adresse or {}
    values = {name: getattr(contact, name) for name in COLUMNS if name not in ADDRESS_FIELDS}
    values.update({name: adresse.get(name) for name in ADDRESS_FIELDS})
    return [csvfile.csv_safe(values[name] or "") for name in COLUMNS]


def csv_chunks(contacts):
    """The export as text chunks: a BOM and the header first, then the contacts."""
    return csvfile.csv_chunks(COLUMNS, map(row_of, contacts), delimiter=EXPORT_DELIMITER)
