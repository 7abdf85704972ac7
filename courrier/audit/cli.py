"""Placeholder: `flask audit` commands, filled by the audit feature."""
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Audit reports.")
