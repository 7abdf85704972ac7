"""Placeholder: filled by the audit feature."""
from flask_smorest import Blueprint

blp = Blueprint("audit", __name__, url_prefix="/api/audit")
