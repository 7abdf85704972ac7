"""Placeholder: filled by the documents feature."""
from flask_smorest import Blueprint

blp = Blueprint("documents", __name__, url_prefix="/api/documents")
