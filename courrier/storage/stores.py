"""The store of the app, chosen once at start-up from STORAGE_URL (like the token stores)."""
import os

from flask import current_app

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def store_from_url(url, endpoint_url=None):
    """The store a STORAGE_URL names; ValueError for one that names none. boto3 is imported only for s3://."""
    if url.startswith("file://"):
        from courrier.storage.disk import DiskStore
        return DiskStore.from_url(url, PROJECT_DIR)
    if url.startswith("s3://"):
        from courrier.storage.s3 import S3Store
        return S3Store.from_url(url, endpoint_url)
    raise ValueError(f"STORAGE_URL doit commencer par file:// ou s3://, reçu {url!r}.")


def configured_url(config):
    """STORAGE_URL, or the folder UPLOAD_FOLDER names (the setting it replaces) when it is unset."""
    return config.get("STORAGE_URL") or "file://" + config["UPLOAD_FOLDER"]


def init_storage(app):
    """Choose the store at start-up: a wrong STORAGE_URL stops the app here, not at the first upload."""
    app.extensions["courrier_storage"] = store_from_url(configured_url(app.config), app.config.get("S3_ENDPOINT_URL"))


def current():
    """The store of this app."""
    return current_app.extensions["courrier_storage"]
