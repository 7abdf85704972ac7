"""The environment variables courrier reads, found in its sources: the servers the tests start never inherit
them from the caller's shell, and the operators' documents must name each one (tests/test_docs.py)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A setting read from the environment: config.py's env_* helpers, gunicorn.conf.py's _int, os.environ.get.
ENVIRONMENT_READ = re.compile(
    r"""\b(?:env_\w+|jobs_setting|_int|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
# Read by boto3 itself for an s3:// STORAGE_URL.
LIBRARY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
# Read by gunicorn itself.
SERVER_VARIABLES = {"GUNICORN_CMD_ARGS", "PORT", "HOST"}


def environment_variables():
    """Every variable the app, its CLI and gunicorn.conf.py read, sorted."""
    sources = [ROOT / "config.py", ROOT / "gunicorn.conf.py", *sorted((ROOT / "courrier").rglob("*.py"))]
    found = set(LIBRARY_VARIABLES)
    for source in sources:
        found.update(ENVIRONMENT_READ.findall(source.read_text(encoding="utf-8")))
    return sorted(found)


APP_VARIABLES = frozenset(environment_variables()) | SERVER_VARIABLES
