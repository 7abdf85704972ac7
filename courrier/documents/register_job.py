"""The register as a PDF made by a background job (`POST /api/registre/exports`, kind `registre.pdf`).

The same register as GET /api/registre?format=pdf, with the same permission and the same audit event:
the permission is checked again when the job runs (the account may have lost it meanwhile), and the
`register_exported` event commits with the job's `termine`, so a job that runs twice is audited once.
"""
import tempfile
from datetime import date

from courrier.auth.models import User
from courrier.background import File, JobError, Result
from courrier.documents import register, visibility
from courrier.extensions import db

KIND = "registre.pdf"
ACCOUNT_GONE = "Le compte qui a demandé ce registre n'est plus actif."


def export_params(period):
    """The job's params: the period, as text."""
    return period.as_details()


def make_register_pdf(job):
    """Write the register of the job's period to a temporary file; the file and the export's audit event."""
    from courrier.documents.register_pdf import write_pdf  # fpdf2 only when a PDF is rendered

    user = db.session.get(User, job.user_id) if job.user_id else None
    if user is None or not user.is_active:
        raise JobError(ACCOUNT_GONE)
    if not register.may_export(visibility.viewer_of(user)):
        raise JobError(register.FORBIDDEN)
    params = job.params
    period = register.Period(params["type"], date.fromisoformat(params["date_from"]),
                             date.fromisoformat(params["date_to"]))
    out = tempfile.TemporaryFile()
    rows = write_pdf(register.iter_register(period), period, out, total=register.count_register(period))
    db.session.rollback()  # the register's read transaction ends here: nothing was written
    out.seek(0)
    return Result(message=f"Registre prêt : {rows} courrier(s), {period.label}.",
                  file=File(out, period.filename("pdf"), "application/pdf"),
                  on_success=lambda: register.announce_export(user, period, "pdf", rows))
