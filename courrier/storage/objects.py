"""What a store holds and how it fails: objects named by the SHA-256 of their bytes."""
import re
from dataclasses import dataclass

CHUNK_BYTES = 1024 * 1024  # what a read or a write of a stream moves at once
# A content-addressed key (SHA-256 in hex), or the uuid4 hex name of a file stored before keys were hashes.
KEY_PATTERN = re.compile(r"[0-9a-f]{64}|[0-9a-f]{32}")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class ObjectMissing(Exception):
    """No object under this key."""


class StorageUnavailable(Exception):
    """The store did not answer (bucket unreachable, disk error): try again later."""


class CorruptObject(Exception):
    """The bytes read or stored do not have the expected hash."""


class Stream:
    """A readable binary stream that closes what it reads from at the end of a `with` block."""

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def valid_key(key):
    """A name a store may hold: never a path, never anything a client chose."""
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


def read_chunks(stream, size=CHUNK_BYTES):
    """The stream's bytes, `size` at a time, until its end."""
    while chunk := stream.read(size):
        yield chunk
