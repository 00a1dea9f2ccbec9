"""Where published files go: one interface, backed by a local folder (and, later, S3)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from briefings.errors import StorageError, shown


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


class LocalStorage:
    """A folder on disk, laid out exactly as the bucket would be, ready for any static web server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writes = 0

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
        self.writes += 1

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        self.writes += 1
        # Remove folders the delete left empty, up to the root.
        for parent in path.parents:
            if parent == self.root.resolve() or not parent.is_relative_to(self.root.resolve()) or any(parent.iterdir()):
                break
            parent.rmdir()
