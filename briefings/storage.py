"""Where published files go: one interface, backed by a local folder or an S3-compatible bucket."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from briefings.errors import ConflictError, StorageError, shown


def without_credentials(text: str) -> str:
    """`text` with the user name and password of every URL in it replaced by `***`, for messages."""
    return re.sub(r"(?<=://)[^/\s@]*@", "***@", text)


class Storage(Protocol):
    """A flat store of objects named by keys like `media/child-a-3f2a9c1e.mp3`."""

    def describe(self) -> str:
        """Where this storage is, for messages."""
        ...

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        ...

    def sizes(self) -> dict[str, int]:
        """Every object's key and size, from one listing."""
        ...

    def write(self, key: str, source: Path | bytes, content_type: str, cache_control: str) -> None:
        """Store `source` under `key`, replacing it atomically: readers see the old or the new object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object at `key` if it exists."""
        ...

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """The object's bytes and its version tag (an S3 ETag), or (None, None) if there is none."""
        ...

    def write_if(self, key: str, data: bytes, content_type: str, cache_control: str, tag: str | None) -> str:
        """Write `data` only if the object still has version `tag` (None: only if absent); return the new tag.

        Raises ConflictError when someone else changed the object in between.
        """
        ...


# Conditional writes that lose to another writer are read again and redone; this many times at most.
ATTEMPTS = 20
T = TypeVar("T")


def update_json(storage: Storage, key: str, change: Callable[[bytes | None], tuple[bytes, T]]) -> tuple[T, str]:
    """Replace the small JSON object at `key` with what `change` makes of its bytes (None: there is none yet),
    only if no one else wrote it meanwhile (S3 conditional writes, as the manifest); on a conflict read it
    again and redo `change`, so two producers changing it at once both land. Returns what `change` returned
    and the version tag written."""
    for _ in range(ATTEMPTS):
        data, tag = storage.read_tagged(key)
        written, result = change(data)
        try:
            return result, storage.write_if(key, written, "application/json", "no-store", tag)
        except ConflictError:
            continue
    raise StorageError(
        f"{storage.describe()}{key}: changed by others {ATTEMPTS} times in a row (fix: run the command again)"
    )


class LocalStorage:
    """A folder on disk, laid out exactly as the bucket would be, ready for any static web server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writes = 0
        self._count_lock = threading.Lock()

    def describe(self) -> str:
        return shown(self.root) + "/"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f"{key}: key escapes the output folder (fix: this is a bug; please report it)")
        return path

    def read(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def sizes(self) -> dict[str, int]:
        if not self.root.is_dir():
            return {}
        return {
            path.relative_to(self.root).as_posix(): path.stat().st_size
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")
        }

    def write(self, key: str, source: Path | bytes, content_type: str, cache_control: str) -> None:
        del content_type, cache_control  # a plain folder has no headers; the web server picks them
        path = self._path(key)
        try:
            try:
                handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            except FileNotFoundError:
                # Its folder is made only when missing: asking for every file's folder was a system call per
                # file, a third of a millisecond each on a slow disk (21,000 files at national scale).
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(handle, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                else:
                    with source.open("rb") as data:
                        shutil.copyfileobj(data, out, 1024 * 1024)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except OSError as error:
            raise StorageError(
                f"{shown(path)}: cannot write ({error.strerror}) (fix: check the folder's permissions and free space)"
            ) from None
        with self._count_lock:
            self.writes += 1

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        with self._count_lock:
            self.writes += 1
        # Remove folders the delete left empty, up to the root.
        for parent in path.parents:
            if not parent.exists() and parent.is_relative_to(self.root.resolve()):
                continue  # deleting what was never written (a revoked feed never published) is no error
            if parent == self.root.resolve() or not parent.is_relative_to(self.root.resolve()) or any(parent.iterdir()):
                break
            parent.rmdir()

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        data = self.read(key)
        return (data, hashlib.sha256(data).hexdigest()) if data is not None else (None, None)

    def write_if(self, key: str, data: bytes, content_type: str, cache_control: str, tag: str | None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A folder has no conditional writes: an exclusive lock on the key's folder makes the
        # compare and the replace one step for every process on this machine.
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if self.read_tagged(key)[1] != tag:
                raise ConflictError(f"{self.describe()}{key}: changed by another run")
            self.write(key, data, content_type, cache_control)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        return hashlib.sha256(data).hexdigest()


# Objects at least this big go up in parts through boto3's transfer manager, with progress;
# smaller ones in one PutObject, whose ETag is then the MD5 of the content.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
# What the access policy must allow, for the fix in "access denied" messages.
PERMISSIONS = "s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject"

TransferProgress = Callable[[str, int], AbstractContextManager[Callable[[int], None] | None]]


class S3Storage:
    """An S3-compatible bucket (AWS S3, MinIO, R2, B2...) under a key prefix, laid out like LocalStorage."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        acl: str | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        transfer_progress: TransferProgress | None = None,
    ) -> None:
        # boto3 takes a third of a second to import: only publishing to a bucket needs it.
        from boto3.s3.transfer import TransferConfig

        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.acl = acl
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024)
        )
        self.transfer_progress = transfer_progress
        self.writes = 0
        self._count_lock = threading.Lock()
        # One large upload at a time: the transfer manager already sends its parts in parallel, and
        # progress bars for several files at once would overwrite each other.
        self._large_lock = threading.Lock()

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}/"

    def full_key(self, key: str) -> str:
        """The object's key in the bucket, prefix included."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def _headers(self, content_type: str, cache_control: str) -> dict[str, str]:
        headers = {"ContentType": content_type, "CacheControl": cache_control}
        if self.acl:
            headers["ACL"] = self.acl
        return headers

    def read(self, key: str) -> bytes | None:
        return self.read_tagged(key)[0]

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        with self.translated(key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.full_key(key))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None, None
                raise
            return response["Body"].read(), str(response["ETag"])

    def sizes(self) -> dict[str, int]:
        return {key: size for key, (size, _) in self.listing().items()}

    def listing(self) -> dict[str, tuple[int, datetime]]:
        """Every object's key, size and last change, from one listing."""
        # One listing (a request per 1000 keys), never a HEAD per object.
        start = f"{self.prefix}/" if self.prefix else ""
        found: dict[str, tuple[int, datetime]] = {}
        with self.translated(""):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    found[item["Key"][len(start) :]] = (int(item["Size"]), item["LastModified"])
        return found

    def download(self, key: str, target: Path, most: int) -> None:
        """Stream the object at `key` into the file `target`, refusing it once it passes `most` bytes."""
        with self.translated(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self.full_key(key))["Body"]
            written = 0
            with target.open("wb") as output:
                for chunk in iter(lambda: body.read(1024 * 1024), b""):
                    written += len(chunk)
                    if written > most:
                        raise StorageError(
                            f"{self.describe()}{key}: larger than {most} bytes (fix: ask for a shorter file)"
                        )
                    output.write(chunk)

    def write(self, key: str, source: Path | bytes, content_type: str, cache_control: str) -> None:
        headers = self._headers(content_type, cache_control)
        with self.translated(key):
            if isinstance(source, bytes) or source.stat().st_size < self.transfer_config.multipart_threshold:
                body = source if isinstance(source, bytes) else source.read_bytes()
                self.client.put_object(Bucket=self.bucket, Key=self.full_key(key), Body=body, **headers)
            else:
                with self._large_lock:
                    self._upload_large(key, source, headers)
        self._counted()

    def _counted(self) -> None:
        with self._count_lock:
            self.writes += 1

    def _upload_large(self, key: str, source: Path, headers: dict[str, str]) -> None:
        # boto3's transfer manager: multipart upload, parts in parallel, each part retried.
        from boto3.exceptions import S3UploadFailedError

        size = source.stat().st_size
        progress = self.transfer_progress(key, size) if self.transfer_progress else contextlib.nullcontext(None)
        with progress as callback:
            try:
                self.client.upload_file(
                    str(source),
                    self.bucket,
                    self.full_key(key),
                    ExtraArgs=headers,
                    Callback=callback,
                    Config=self.transfer_config,
                )
            except S3UploadFailedError as error:
                # boto3 wraps the ClientError in a message; the original is the one we can explain.
                if isinstance(error.__context__, ClientError):
                    raise error.__context__ from None
                raise

    def write_if(self, key: str, data: bytes, content_type: str, cache_control: str, tag: str | None) -> str:
        # S3 conditional writes: If-None-Match: * creates only if absent, If-Match: ETag replaces only
        # that version (HTTP 412 otherwise; 409 when two conditional writes race).
        condition = {"IfNoneMatch": "*"} if tag is None else {"IfMatch": tag}
        headers = self._headers(content_type, cache_control)
        with self.translated(key):
            try:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self.full_key(key), Body=data, **headers, **condition
                )
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                    raise ConflictError(f"{self.describe()}{key}: changed by another run") from None
                raise
        self._counted()
        return str(response["ETag"])

    def delete(self, key: str) -> None:
        with self.translated(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.full_key(key))
        self._counted()

    @contextlib.contextmanager
    def translated(self, key: str) -> Iterator[None]:
        """Turn botocore's exceptions into one-line StorageErrors that say what to do."""
        try:
            yield
        except ClientError as error:
            raise StorageError(self.explain(error, key)) from None
        except NoCredentialsError:
            raise StorageError(
                f"{self.describe()}: no credentials found (fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "run `aws configure`, or give --profile NAME)"
            ) from None
        except PartialCredentialsError as error:
            raise StorageError(
                f"{self.describe()}: incomplete credentials ({error.kwargs.get('cred_var', 'a key')} is missing) "
                "(fix: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME)"
            ) from None
        except (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError) as error:
            raise StorageError(
                f"{without_credentials(self.client.meta.endpoint_url)}: cannot reach the storage endpoint ({type(error).__name__}) (fix: check the network "
                "and --endpoint-url, then run the command again: it picks up where this one stopped)"
            ) from None

    def explain(self, error: ClientError, key: str) -> str:
        """A one-line message for an error response from the store, never quoting credentials."""
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        where = f"{self.describe()}{key}"
        if code == "NoSuchBucket":
            return (
                f"s3://{self.bucket}: no such bucket (fix: create it, or check the bucket name, --region and "
                "--endpoint-url)"
            )
        if code in ("RequestTimeTooSkewed", "RequestExpired") or "skew" in code.lower():
            return (
                f"{where}: the store refused the request because this computer's clock is wrong (fix: set the "
                "clock right, e.g. `sudo timedatectl set-ntp true`, then run the command again)"
            )
        if code in (
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "InvalidToken",
            "ExpiredToken",
            "TokenRefreshRequired",
        ):
            return (
                f"{self.describe()}: the store rejected the credentials ({code}) (fix: check the access key and "
                "secret, or --profile; renew temporary credentials)"
            )
        if code in ("AccessDenied", "AllAccessDisabled", "403") or status == 403:
            return (
                f"{where}: access denied (fix: the credentials' policy must allow {PERMISSIONS} on "
                f"arn:aws:s3:::{self.bucket}/*; with --acl public-read also s3:PutObjectAcl)"
            )
        if code == "AccessControlListNotSupported":
            return (
                f"{where}: this bucket does not use ACLs (fix: leave out --acl and `acl` in show.toml; make the "
                "prefix public with a bucket policy or a CDN instead, see README)"
            )
        message = str(details.get("Message", "")).splitlines()[0] if details.get("Message") else ""
        reason = f"{code}: {message}" if message else code or f"HTTP {status}"
        return f"{where}: the store refused the request ({reason}) (fix: run the command again; if it persists, check the store's status)"
