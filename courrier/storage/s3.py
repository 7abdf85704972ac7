"""Objects in a bucket of an S3-compatible server (MinIO, Garage, Ceph, OVH, Scaleway, AWS), through boto3.

`s3://bucket/prefix`: the object of key K is `prefix/K`. The server is S3_ENDPOINT_URL (unset: AWS);
boto3 reads the credentials itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or any
other source of its chain): they never pass through courrier's configuration or logs.

`put` hashes the file first (the key is the hash, known only at the end), then sends it with that SHA-256
as the request's checksum: the server refuses bytes that are not the ones hashed. A file up to
MULTIPART_BYTES goes in one PUT, read again from the caller's stream when it can be read twice (the
request's spooled upload: no copy), else from a local temporary copy made while hashing; a larger one goes
in parts from that copy, by name (boto3 reads each part as it sends it), with the SHA-256 of each part
computed in the same pass. Either way nothing sits whole in memory, and the checksum the bucket then
keeps is compared with the one computed here, so that the object under a key is the bytes that key names.
"""
import base64
import hashlib
import logging
import os
import tempfile
import threading

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from courrier.storage.objects import (
    CHUNK_BYTES, CorruptObject, ObjectMissing, StorageUnavailable, Stream, StoredObject, read_chunks,
    valid_key,
)

log = logging.getLogger(__name__)

# Up to 64 MB a file goes in one PUT: one request, where a multipart upload costs three plus one per part
# (a 10 MB attachment took 139 ms in two parts against moto, 87 ms in one PUT). Above, parts of 5 MB
# (S3's smallest) sent side by side.
MULTIPART_BYTES = 64 * 1024 * 1024
PART_BYTES = 5 * 1024 * 1024
# Downloads are not hashed again on the way out (boto3's default would hash every whole GET of an object
# sent in one PUT: ~7 ms of CPU per 10 MB in the worker): the server checked the bytes against our SHA-256
# when they came in, TLS checks them in transit, and `flask storage check` reads them back against the key.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                       max_pool_connections=16, response_checksum_validation="when_required")
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """One bucket (and a prefix in it); the boto3 client is made at first use, in the process that uses it."""

    def __init__(self, bucket, prefix="", endpoint_url=None):
        self.bucket, self.prefix, self.endpoint_url = bucket, prefix.strip("/"), endpoint_url
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url, endpoint_url=None):
        bucket, _, prefix = url[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError("STORAGE_URL s3:// doit nommer un bucket, par exemple s3://courrier/pieces-jointes.")
        return cls(bucket, prefix, endpoint_url)

    @property
    def url(self):
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)
        return self._client

    def name_of(self, key):
        if not valid_key(key):
            raise ObjectMissing(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, fileobj, sha256=None):
        """Hash `fileobj`, then upload it under its SHA-256 (unless, `sha256` given, it is there already).

        CorruptObject if `sha256` is given and differs; StorageUnavailable if the bucket refused the bytes
        or stored others.
        """
        size = _rereadable_size(fileobj)
        if size is not None and size < MULTIPART_BYTES:
            digest, size = _hash(fileobj)
            fileobj.seek(0)
            return self._upload(fileobj, digest, size, _b64(digest.digest()), sha256)
        with tempfile.NamedTemporaryFile(prefix="courrier-", suffix=".part") as spool:
            digest, size, checksum = _copy_and_hash(fileobj, spool)
            spool.flush()
            spool.seek(0)
            return self._upload(spool, digest, size, checksum, sha256)

    def _upload(self, source, digest, size, checksum, sha256):
        """Send `source` (read from its start) under the key `digest` names, then check what the bucket kept."""
        key = digest.hexdigest()
        if sha256 is not None and key != sha256:
            raise CorruptObject(f"expected {sha256}, read {key}")
        name = self.name_of(key)
        # Bytes whose hash the caller knew (a move, a put back) may well be there already: asked first.
        # A new upload rarely is: sent at once, one request sooner.
        if sha256 is None or self._stored_checksum(name, size) not in (checksum, "unchecked"):
            arguments = {"ChecksumAlgorithm": "SHA256", "ContentType": "application/octet-stream"}
            if size < MULTIPART_BYTES:
                # Our SHA-256 as the request's checksum: boto3 does not compute it again, the server checks it
                # and answers with the checksum it keeps (asked with a HEAD only from a server that did not).
                answer = self._call(self.client.put_object, Bucket=self.bucket, Key=name, Body=source,
                                    ChecksumSHA256=checksum, **arguments)
                stored = answer.get("ChecksumSHA256") or self._stored_checksum(name, size)
            else:
                # By name, not as a file object: boto3 then reads each part from the file as it sends it,
                # where from a file object it would read each part into memory first.
                self._call(self.client.upload_file, source.name, self.bucket, name, ExtraArgs=arguments,
                           Config=TransferConfig(multipart_threshold=MULTIPART_BYTES,
                                                 multipart_chunksize=PART_BYTES, max_concurrency=4))
                stored = self._stored_checksum(name, size)
            if stored not in (checksum, "unchecked"):
                self.delete(key)
                raise StorageUnavailable(f"{self.url}: object {key} stored with checksum {stored}, sent {checksum}")
        return StoredObject(key, size, key)

    def _stored_checksum(self, name, size):
        """The SHA-256 checksum the bucket keeps for `name` (composite for multipart), None when absent or of
        another size, "unchecked" when the server keeps no checksum (the size then stands for it)."""
        try:
            head = self._call(self.client.head_object, Bucket=self.bucket, Key=name, ChecksumMode="ENABLED")
        except ObjectMissing:
            return None
        if head["ContentLength"] != size:
            return None
        stored = head.get("ChecksumSHA256")
        return stored.split("-")[0] if stored else "unchecked"

    def open(self, key, start=0, stop=None):
        """The object's bytes from `start` to `stop` (excluded), streamed from one GET."""
        arguments = {"Bucket": self.bucket, "Key": self.name_of(key)}
        if start or stop is not None:
            arguments["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        return _Body(self._call(self.client.get_object, **arguments)["Body"])

    def exists(self, key):
        try:
            self.size(key)
        except ObjectMissing:
            return False
        return True

    def size(self, key):
        return self._call(self.client.head_object, Bucket=self.bucket, Key=self.name_of(key))["ContentLength"]

    def delete(self, key):
        if valid_key(key):
            self._call(self.client.delete_object, Bucket=self.bucket, Key=self.name_of(key))

    def _call(self, method, *args, **kwargs):
        """A boto3 call; a missing object is ObjectMissing, any other failure StorageUnavailable."""
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            if code in MISSING_CODES:
                raise ObjectMissing(kwargs.get("Key", "")) from None
            raise StorageUnavailable(f"{self.url}: {code}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"{self.url}: {error.__class__.__name__}") from error


def _rereadable_size(fileobj):
    """The size of a stream at its start that can be read a second time (a file, the request's spooled
    upload), else None (a stream read once: it is copied while hashed)."""
    try:
        if not fileobj.seekable() or fileobj.tell() != 0:
            return None
        size = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(0)
    except (AttributeError, OSError, ValueError):
        return None
    return size


def _hash(fileobj):
    """The SHA-256 and the size of the stream's bytes, read once."""
    digest, size = hashlib.sha256(), 0
    for chunk in read_chunks(fileobj, CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return digest, size


def _b64(checksum):
    return base64.b64encode(checksum).decode("ascii")


def _copy_and_hash(fileobj, spool):
    """Copy to `spool` while hashing: the SHA-256, the size, and the checksum S3 will keep (that of the
    whole object for one request, the SHA-256 of the parts' SHA-256 for a multipart upload)."""
    digest, part, parts, size = hashlib.sha256(), hashlib.sha256(), [], 0
    for chunk in read_chunks(fileobj, CHUNK_BYTES):
        spool.write(chunk)
        digest.update(chunk)
        while chunk:
            room = PART_BYTES - (size % PART_BYTES)
            part.update(chunk[:room])
            size += len(chunk[:room])
            chunk = chunk[room:]
            if size % PART_BYTES == 0:
                parts.append(part.digest())
                part = hashlib.sha256()
    if size % PART_BYTES or not parts:
        parts.append(part.digest())
    if size < MULTIPART_BYTES:
        checksum = digest.digest()
    else:
        checksum = hashlib.sha256(b"".join(parts)).digest()
    return digest, size, _b64(checksum)


class _Body(Stream):
    """boto3's streaming body as the readable stream `open` promises; a broken connection is StorageUnavailable."""

    def __init__(self, body):
        self._body = body

    def read(self, size=-1):
        try:
            return self._body.read(None if size is None or size < 0 else size)
        except (BotoCoreError, OSError) as error:
            raise StorageUnavailable(error.__class__.__name__) from error

    def close(self):
        self._body.close()
