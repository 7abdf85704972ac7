"""`flask audit connections` and `flask audit events`: the same filters as the API, as CSV or a table."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from courrier.auth.models import AuthSession
from courrier.cli_columns import SESSION_COLUMNS if False else None  # noqa: F401  (placeholder, removed below)
