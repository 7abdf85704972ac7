"""Where files live: one interface, two implementations chosen once at start-up from `STORAGE_URL`.

- `file://instance/uploads` (the default; a relative path is relative to the project folder): a folder
  on this machine's disk (`courrier.storage.disk`). Without STORAGE_URL the folder is UPLOAD_FOLDER, so
  an existing installation keeps its files where they are.
- `s3://bucket/prefix`: a bucket of any S3-compatible server (`courrier.storage.s3`, through boto3) at
  `S3_ENDPOINT_URL`, with the credentials boto3 reads itself from the standard AWS_* variables.

A store has `put(fileobj) -> StoredObject(key, size, sha256)`, `open(key, start=0, stop=None)` (a readable
binary stream; ObjectMissing), `exists(key)`, `size(key)` and `delete(key)`. Objects are content-addressed:
`put` streams the file in chunks, hashes it with SHA-256 on the way and stores it under that hash, so
the same bytes are stored once. `send` answers a download (ranges, never cached, never sniffed).
Infrastructure: imports no feature. The tables that name objects register themselves
(`courrier.storage.references`), so that an object still named by a row is never removed.
"""
from courrier.storage.download import send, unavailable_error
from courrier.storage.objects import CorruptObject, ObjectMissing, StorageUnavailable, StoredObject, valid_key
from courrier.storage.references import Reference, discard, ensure, is_referenced, register_reference
from courrier.storage.stores import current, init_storage, store_from_url

__all__ = ["CorruptObject", "ObjectMissing", "Reference", "StorageUnavailable", "StoredObject", "current",
           "discard", "ensure", "init_storage", "is_referenced", "register_reference", "send", "store_from_url",
           "unavailable_error", "valid_key"]
