"""Placeholder: filled by the users feature."""
from flask_smorest import Blueprint

blp = Blueprint("users", __name__, url_prefix="/api/users")
