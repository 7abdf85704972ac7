"""/api/statistiques: the dashboard's figures (Pilotage), as JSON or one table as CSV."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.csvfile import csv_chunks, csv_download
from courrier.documents import visibility
from courrier.statistics import service, tables
from courrier.statistics.schemas import DashboardArgsSchema, DashboardEnvelopeSchema

blp = Blueprint("statistiques", __name__, url_prefix="/api/statistiques", description="Tableau de bord (pilotage)")

# JSON by default; with format=csv, one table as a file (the response's doc names both).
RESPONSES = {"200": {"description": "Le tableau de bord ; avec `format=csv`, le tableau `tableau` en pièce jointe "
                                    "(UTF-8, `;`, BOM).",
                     "content": {"application/json": {"schema": DashboardEnvelopeSchema},
                                 "text/csv": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(DashboardArgsSchema, location="query")
@blp.response(200, DashboardEnvelopeSchema)
@blp.doc(responses=RESPONSES)
def get_statistics(args):
    """The dashboard: registrations per week and per service, late letters, processing times, silences to
    come. Validateurs see their services' sub-trees; the mail office and administrateurs see everything."""
    viewer = visibility.viewer_of(current_principal())
    scope = service.scope_of(viewer, args.get("service_id"), args["sous_services"])
    query = service.Query(args["date_from"], args["date_to"], scope, args.get("type"), args.get("typologie_id"))
    answer = service.dashboard(query)
    if args["format"] == "json":
        return answer
    header, rows = tables.table(answer["data"], args["tableau"])
    return csv_download(csv_chunks(header, rows),
                        f'statistiques-{args["tableau"]}-{query.date_from}-{query.date_to}.csv')
