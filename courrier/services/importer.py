"""The CSV import of services: every row is checked (the API's own schema) before any is created.

Rows may come in any order: a parent is created before its children whatever the file says, and
`parent_code` may name a service of the file or one already in the database.
"""
from marshmallow import ValidationError
from sqlalchemy import select

from courrier import signals
from courrier.signals import announce
from courrier.extensions import db
from courrier.services.models import Service
from courrier.services.schemas import ServiceCreateSchema

COLUMNS = ("code", "nom", "parent_code", "email")
REQUIRED_COLUMNS = ("code", "nom")


class ImportFailed(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def read_rows(reader):
    """[(line number, row)] of a csv.DictReader, with the header checked."""
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"ligne 1 : colonne(s) manquante(s) : {', '.join(missing)}"] if missing else []
        problems += [f"ligne 1 : colonne(s) inconnue(s) : {', '.join(unknown)}"] if unknown else []
        raise ImportFailed(problems)
    rows = []
    for row in reader:
        if None in row:
            raise ImportFailed([f"ligne {reader.line_num} : plus de valeurs que de colonnes"])
        if any((value or "").strip() for value in row.values()):
            rows.append((reader.line_num, row))
    return rows


def plan_import(rows):
    """The services to create, parents first, as (line, data, parent_code); ImportFailed lists every problem."""
    schema = ServiceCreateSchema()
    problems, planned, lines_of = [], {}, {}
    for line, row in rows:
        fields = {"code": row["code"] or "", "nom": row["nom"] or ""}
        if (row.get("email") or "").strip():
            fields["email"] = row["email"]
        try:
            data = schema.load(fields)
        except ValidationError as error:
            problems += [f"ligne {line} : {name} : {' '.join(messages)}" for name, messages in error.messages.items()]
            continue
        if data["code"] in lines_of:
            problems.append(f"ligne {line} : code {data['code']} déjà donné ligne {lines_of[data['code']]}")
            continue
        lines_of[data["code"]] = line
        planned[data["code"]] = (line, data, (row.get("parent_code") or "").strip().upper() or None)
    existing = set(db.session.scalars(select(Service.code)))
    for code, (line, _, parent_code) in planned.items():
        if code in existing:
            problems.append(f"ligne {line} : le service {code} existe déjà")
        if parent_code and parent_code not in planned and parent_code not in existing:
            problems.append(f"ligne {line} : service parent {parent_code} inconnu")
    ordered = _parents_first(planned, problems)
    if problems:
        raise ImportFailed(sorted(problems, key=lambda text: int(text.split()[1])))
    return ordered


def _parents_first(planned, problems):
    """The planned rows with every parent before its children; a cycle in the file is a problem."""
    ordered, placed, visiting = [], set(), set()

    def place(code):
        if code in placed or code not in planned:
            return
        line, _, parent_code = planned[code]
        if code in visiting:
            problems.append(f"ligne {line} : cycle dans les services parents ({code})")
            return
        visiting.add(code)
        if parent_code:
            place(parent_code)
        visiting.discard(code)
        if code not in placed:
            placed.add(code)
            ordered.append(planned[code])

    for code in planned:
        place(code)
    return ordered


def create_planned(steps):
    """Create the planned services in one transaction; returns how many."""
    ids = dict(db.session.execute(select(Service.code, Service.id)).all())
    created = 0
    try:
        for _, data, parent_code in steps:
            service = Service(**{**data, "parent_id": ids.get(parent_code)})
            db.session.add(service)
            db.session.flush()
            ids[service.code] = service.id
            announce(signals.service_created, details={
                "service_id": service.id, "code": service.code, "nom": service.nom,
                "parent_id": service.parent_id, "source": "import"})
            created += 1
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return created
