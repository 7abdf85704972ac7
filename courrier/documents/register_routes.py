"""/api/registre: the chronological register of one type and period, as CSV (streamed) or PDF; and
/api/registre/exports: the same PDF made by a background job (for registers too long to wait for)."""
import tempfile

from flask import Response
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validates_schema

from courrier import background
from courrier.auth.guard import auth_required, current_principal
from courrier.csvfile import DOWNLOAD_HEADERS, csv_download
from courrier.database import transactional
from courrier.documents import register, register_job
from courrier.documents.models import DOCUMENT_TYPES
from courrier.schemas import Schema, envelope, one_of

blp = Blueprint("registre", __name__, url_prefix="/api/registre",
                description="Registre chronologique (export CSV ou PDF)")

EXPORT_RESPONSE = {"200": {
    "description": "Le registre, en pièce jointe (Content-Disposition: attachment) : CSV (UTF-8, `;`, BOM par "
                   "défaut) envoyé au fil de l'eau, ou PDF A4 paysage.",
    "content": {ctype: {"schema": {"type": "string", "format": "binary"}} for ctype in ("text/csv", "application/pdf")},
}}

FILE_CHUNK = 256 * 1024


def read_and_close(file):
    """The file's bytes in chunks; closed (and so deleted, a TemporaryFile) when done or abandoned."""
    with file:
        while chunk := file.read(FILE_CHUNK):
            yield chunk


class RegisterPeriodSchema(Schema):
    """The register asked for: a type of letter and a period."""

    type = fields.String(required=True, validate=one_of(DOCUMENT_TYPES))
    date_from = fields.Date(metadata={"description": "Enregistrés ce jour-là (UTC) ou après ; par défaut le 1er "
                                                     "janvier (de l'année de date_to, sinon de l'année en cours)."})
    date_to = fields.Date(metadata={"description": "Enregistrés ce jour-là (UTC) ou avant ; par défaut le 31 "
                                                   "décembre (de l'année de date_from, sinon de l'année en cours)."})

    @validates_schema
    def check_period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("La fin de la période précède son début.", "date_to")


class RegisterArgsSchema(RegisterPeriodSchema):
    format = fields.String(load_default="pdf", validate=one_of(register.FORMATS))
    bom = fields.Boolean(load_default=True, metadata={
        "description": "CSV : commencer par une marque d'ordre des octets UTF-8 (ce qu'un tableur attend)."})


class RegisterExportSchema(RegisterPeriodSchema):
    format = fields.String(load_default="pdf", validate=one_of(("pdf",)), metadata={
        "description": "Le format du fichier (PDF seulement)."})


@transactional
def start_register_export(user, args):
    """The job making the register's PDF, committed with the request (the audit event comes with the file)."""
    register.require_export(user)
    period = register.period_of(args["type"], args.get("date_from"), args.get("date_to"))
    return background.enqueue(register_job.KIND, user=user, params=register_job.export_params(period))


@blp.route("/exports", methods=["POST"])
@auth_required()
@blp.arguments(RegisterExportSchema)
@blp.response(202, envelope(background.JobSchema))
def export_register_later(args):
    """Ask for the register as a PDF made in the background: the job to follow at GET /api/jobs/<id>, whose
    `fichier` is the PDF once made (the mail office, validateurs and administrateurs)."""
    job = start_register_export(current_principal(), args)
    return {"data": job, "message": "Le registre est en préparation."}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(RegisterArgsSchema, location="query")
@blp.doc(responses=EXPORT_RESPONSE)
def export_register(args):
    """Every letter of one type registered in the period (default: this year), in reference order: the mail
    office, validateurs and administrateurs."""
    user = current_principal()
    register.require_export(user)
    period = register.period_of(args["type"], args.get("date_from"), args.get("date_to"))
    if args["format"] == "csv":
        # The count is audited before the first byte: an interrupted download is still on record.
        register.record_export(user, period, "csv", register.count_register(period))
        return csv_download(register.csv_chunks(register.iter_register(period), bom=args["bom"]),
                            period.filename("csv"))
    # fpdf2 is imported here, when a PDF is asked for: a worker that never renders one does not hold it.
    from courrier.documents.register_pdf import write_pdf

    # On disk, not in memory: the PDF of a busy year is tens of megabytes.
    out = tempfile.TemporaryFile()
    rows = write_pdf(register.iter_register(period), period, out, total=register.count_register(period))
    register.record_export(user, period, "pdf", rows)
    response = Response(read_and_close(out), mimetype="application/pdf")
    response.headers["Content-Length"] = str(out.tell())
    response.headers["Content-Disposition"] = f'attachment; filename="{period.filename("pdf")}"'
    out.seek(0)
    response.headers.update(DOWNLOAD_HEADERS)
    return response
