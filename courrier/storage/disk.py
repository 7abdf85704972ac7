"""Objects as files of one folder on this machine's disk: `file://instance/uploads` (the default store).

A file is written under a temporary name while it is hashed, then renamed to its hash: a reader never
sees half a file under a key, and two uploads of the same bytes end as one file. Files stored before
keys were hashes (uuid4 hex names) are read under their old names.
"""
import hashlib
import logging
import os
import uuid

from courrier.storage.objects import (
    CHUNK_BYTES, CorruptObject, ObjectMissing, StorageUnavailable, Stream, StoredObject, read_chunks,
    valid_key,
)

log = logging.getLogger(__name__)


class DiskStore:
    """A folder, created on the first write."""

    def __init__(self, folder):
        self.folder = folder

    @classmethod
    def from_url(cls, url, project_dir):
        """`file://instance/uploads` (relative to the project folder) or `file:///var/lib/courrier/uploads`."""
        path = url[len("file://"):]
        if not path:
            raise ValueError("STORAGE_URL file:// doit nommer un dossier, par exemple file://instance/uploads.")
        return cls(os.path.normpath(os.path.join(project_dir, path)))

    @property
    def url(self):
        return "file://" + self.folder

    def path_of(self, key):
        if not valid_key(key):
            raise ObjectMissing(key)
        return os.path.join(self.folder, key)

    def put(self, fileobj, sha256=None):
        """Stream `fileobj` to the folder under its SHA-256; CorruptObject if `sha256` is given and differs."""
        os.makedirs(self.folder, exist_ok=True)
        temp_path = os.path.join(self.folder, f".{uuid.uuid4().hex}.part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(temp_path, "xb") as out:
                for chunk in read_chunks(fileobj, CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            key = digest.hexdigest()
            if sha256 is not None and key != sha256:
                raise CorruptObject(f"expected {sha256}, read {key}")
            os.replace(temp_path, self.path_of(key))
        except BaseException:
            _remove(temp_path)
            raise
        return StoredObject(key, size, key)

    def open(self, key, start=0, stop=None):
        """The object's bytes from `start` to `stop` (excluded; None: its end), as a readable stream."""
        try:
            handle = open(self.path_of(key), "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
        handle.seek(start)
        return handle if stop is None else Window(handle, stop - start)

    def exists(self, key):
        return valid_key(key) and os.path.isfile(self.path_of(key))

    def size(self, key):
        try:
            return os.path.getsize(self.path_of(key))
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def delete(self, key):
        """Remove the object; nothing to do when it is already gone."""
        if valid_key(key):
            _remove(self.path_of(key))


class Window(Stream):
    """At most `length` bytes of an open file, from where it stands."""

    def __init__(self, handle, length):
        self._handle, self._left = handle, length

    def read(self, size=-1):
        size = self._left if size is None or size < 0 else min(size, self._left)
        chunk = self._handle.read(size)
        self._left -= len(chunk)
        return chunk

    def close(self):
        self._handle.close()


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not remove %s", path)
