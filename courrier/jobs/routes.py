"""/api/jobs: a job for its owner or an administrateur, its file, and the list for administrateurs."""
from flask_smorest import Blueprint

from courrier.auth.guard import auth_required, current_principal
from courrier.jobs import service
from courrier.jobs.schemas import JobDetailSchema, JobListArgsSchema, JobPageEnvelopeSchema
from courrier.resources import resolver
from courrier.schemas import envelope

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Travaux en arrière-plan")

FILE_RESPONSE = {"200": {
    "description": "Le fichier produit par le travail, en pièce jointe (envoyé au fil de l'eau, requêtes Range).",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}}


@resolver("job_id")
def resolve_job(caller, job_id):
    """A job its caller may not see is a 404 before anything else is checked."""
    service.visible_job(caller, job_id)


@blp.route("", methods=["GET"])
@auth_required("administrateur")
@blp.arguments(JobListArgsSchema, location="query")
@blp.response(200, JobPageEnvelopeSchema)
def list_jobs(filters):
    """Every job, newest first (filter `etat`, e.g. echec), with the counts by etat and the periodic tasks."""
    return service.list_jobs(filters)


@blp.route("/<job_id>", methods=["GET"])
@auth_required()
@blp.response(200, envelope(JobDetailSchema))
def get_job(job_id):
    """A job: its etat and message, and where its file is once made (its owner or an administrateur)."""
    return {"data": service.visible_job(current_principal(), job_id)}


@blp.route("/<job_id>/fichier", methods=["GET"])
@auth_required()
@blp.doc(responses=FILE_RESPONSE)
def get_job_file(job_id):
    """The file the job made (its owner or an administrateur); 404 while there is none."""
    return service.send_job_file(current_principal(), job_id)
