"""The dashboard's tables as CSV: one per chart, the same figures as the JSON, cells made safe (csvfile)."""
from courrier.csvfile import csv_safe

TYPE_COLUMNS = (("Entrants", "entrants"), ("Sortants", "sortants"), ("Internes", "internes"))
DURATION_COLUMNS = (("Courriers traités", "nombre"), ("Médiane (jours ouvrés)", "mediane"),
                    ("90e centile (jours ouvrés)", "p90"))


def _name(named, none):
    return f"{named['code']} — {named['nom']}" if named else none


def _cells(values):
    return [csv_safe("" if value is None else str(value)) for value in values]


def _service(row):
    return _name(row["service"], "Sans service")


# name: (header, the rows of the dashboard's data it exports, the cells of one row)
TABLES = {
    "semaines": (["Semaine", "Lundi"] + [title for title, _ in TYPE_COLUMNS], "semaines",
                 lambda row: [row["semaine"], row["debut"].isoformat()] + [row[key] for _, key in TYPE_COLUMNS]),
    "services": (["Service"] + [title for title, _ in TYPE_COLUMNS] + ["Total"], "services",
                 lambda row: [_service(row)] + [row[key] for _, key in TYPE_COLUMNS] + [row["total"]]),
    "retards": (["Service", "Courriers en retard"], "retards", lambda row: [_service(row), row["nombre"]]),
    "delais_services": (["Service"] + [title for title, _ in DURATION_COLUMNS], "delais_services",
                        lambda row: [_service(row)] + [row[key] for _, key in DURATION_COLUMNS]),
    "delais_typologies": (["Typologie"] + [title for title, _ in DURATION_COLUMNS], "delais_typologies",
                          lambda row: [_name(row["typologie"], "Sans typologie")]
                          + [row[key] for _, key in DURATION_COLUMNS]),
    "silences": (["Référence", "Objet", "Règle", "Échéance", "Typologie", "Service"], "silences",
                 lambda row: [row["reference"], row["objet"], row["mode"].upper(), row["echeance"].isoformat(),
                              _name(row["typologie"], ""), _service(row)]),
}


def table(data, name):
    """(header, rows) of one table of the dashboard's `data`, ready for csvfile.csv_chunks."""
    header, key, cells = TABLES[name]
    return header, [_cells(cells(row)) for row in data[key]]
