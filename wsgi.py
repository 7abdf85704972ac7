"""The WSGI entry point: `gunicorn wsgi:app` (and `flask`, through .flaskenv)."""
from dotenv import load_dotenv

load_dotenv()

from courrier import create_app  # noqa: E402

app = create_app()
