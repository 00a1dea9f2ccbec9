"""Fetch what a feed names: over HTTP as a directory would, or from storage for files not yet online."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import requests

from briefings import web
from briefings.errors import shown
from briefings.layout import Output

# Side files (artwork, chapters, transcripts) are small; a bigger answer is a wrong URL, not a side file.
MAX_SIDE_FILE_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 30


class UnreachableError(Exception):
    """A URL could not be fetched; the message says why, in words for the feed's producer, and `fix`, if
    given, what to do."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


# HTTP 401 and 403: the file is there, but anonymous readers (every podcast app) are refused.
NOT_PUBLIC = (401, 403)
NOT_PUBLIC_FIX = "make it readable by anyone: apply the bucket policy in README, section 'Making the feed public'"


def _refused(method: str, status: int) -> UnreachableError:
    """The error for a response other than 200 OK."""
    if status in NOT_PUBLIC:
        return UnreachableError(
            f"answers {method} with HTTP {status}: the file is not publicly readable", NOT_PUBLIC_FIX
        )
    return UnreachableError(f"answers {method} with HTTP {status}, not 200")


@dataclass(frozen=True)
class Head:
    """What a HEAD request tells about a file: its size (None when no Content-Length came) and type."""

    size: int | None
    content_type: str | None


class Resolver(Protocol):
    """Answers HEAD and GET for the URLs a feed names."""

    def head(self, url: str) -> Head:
        """The file's size and type; raises UnreachableError."""
        ...

    def get(self, url: str) -> bytes:
        """The file's bytes; raises UnreachableError."""
        ...


class HttpResolver:
    """The web, as podcast directories see it: HEAD for media and artwork, GET for side files."""

    def __init__(self, session: requests.Session | None = None, max_bytes: int = MAX_SIDE_FILE_BYTES) -> None:
        self.session = session or web.session("feed validator")
        self.max_bytes = max_bytes

    def head(self, url: str) -> Head:
        try:
            response = self.session.head(url, allow_redirects=True, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise UnreachableError(f"cannot be reached ({web.reason(error, TIMEOUT_SECONDS)})") from None
        if response.status_code != 200:
            raise _refused("HEAD", response.status_code)
        length = response.headers.get("Content-Length")
        size = int(length) if length is not None and length.isdigit() else None
        return Head(size, response.headers.get("Content-Type"))

    def get(self, url: str) -> bytes:
        try:
            with self.session.get(url, timeout=TIMEOUT_SECONDS, stream=True) as response:
                if response.status_code != 200:
                    raise _refused("GET", response.status_code)
                data = bytearray()
                for chunk in response.iter_content(256 * 1024):
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise UnreachableError(f"is larger than {self.max_bytes // (1024 * 1024)} MiB")
                return bytes(data)
        except requests.RequestException as error:
            raise UnreachableError(f"cannot be reached ({web.reason(error, TIMEOUT_SECONDS)})") from None


class ReadableStorage(Protocol):
    """The reading half of a Storage: enough to check what it holds."""

    def describe(self) -> str:
        """Where this storage is, for messages."""
        ...

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        ...

    def sizes(self) -> dict[str, int]:
        """Every object's key and size."""
        ...


class StagedFiles:
    """The files a build staged, read like a storage: exactly what the publish will put online.

    `retained` keys are files already at the `destination` that the publish leaves there (those of
    briefings kept as last published); they are read from it.
    """

    def __init__(
        self, outputs: Sequence[Output], destination: ReadableStorage | None = None, retained: Collection[str] = ()
    ) -> None:
        self.outputs = {output.key: output for output in outputs}
        self.destination = destination
        self.retained = set(retained) if destination is not None else set()

    def describe(self) -> str:
        if not self.outputs:
            return "the staged build/"
        output = next(iter(self.outputs.values()))
        root = output.path.parents[len(output.key.split("/")) - 1]
        return shown(root) + "/"

    def read(self, key: str) -> bytes | None:
        output = self.outputs.get(key)
        if output is None:
            return self.destination.read(key) if self.destination is not None and key in self.retained else None
        return output.path.read_bytes()

    def sizes(self) -> dict[str, int]:
        sizes = {key: output.size for key, output in self.outputs.items()}
        if self.destination is not None and self.retained:
            sizes |= {key: size for key, size in self.destination.sizes().items() if key in self.retained}
        return sizes


class StorageResolver:
    """URLs under the show's base URL answered from a storage: the staged build or the publish destination.

    Lets a publish check its feeds before they go online, and a folder be checked before it is served.
    """

    def __init__(self, base_url: str, storage: ReadableStorage, outside: Resolver | None = None) -> None:
        self.base_url = base_url
        self.storage = storage
        # Answers URLs elsewhere (a harvested briefing's audio at its source); without it they are errors.
        self.outside = outside
        self._sizes: dict[str, int] | None = None
        self._lock = threading.Lock()

    def _key(self, url: str) -> str:
        if not url.startswith(self.base_url):
            raise UnreachableError(f"is not under base_url {self.base_url}, so it is not one of the show's files")
        return url.removeprefix(self.base_url).split("#", 1)[0].split("?", 1)[0]

    def head(self, url: str) -> Head:
        if self.outside is not None and not url.startswith(self.base_url):
            return self.outside.head(url)
        key = self._key(url)
        with self._lock:
            if self._sizes is None:
                self._sizes = self.storage.sizes()  # one listing answers every HEAD
            sizes = self._sizes
        if key not in sizes:
            raise UnreachableError(f"is not in {self.storage.describe()}")
        return Head(sizes[key], None)

    def get(self, url: str) -> bytes:
        if self.outside is not None and not url.startswith(self.base_url):
            return self.outside.get(url)
        # A failed read (StorageError) is not a fault of the feed: it stops the check, saying why.
        data = self.storage.read(self._key(url))
        if data is None:
            raise UnreachableError(f"is not in {self.storage.describe()}")
        return data


class KnownFiles:
    """Files whose size and type are already known (harvested briefings' audio, as their sources publish it):
    a publish checks its feeds against them without fetching anything."""

    def __init__(self, heads: Mapping[str, Head]) -> None:
        self.heads = heads

    def head(self, url: str) -> Head:
        if url not in self.heads:
            raise UnreachableError("is not one of this show's files, nor a harvested briefing's audio")
        return self.heads[url]

    def get(self, url: str) -> bytes:
        raise UnreachableError("is not one of this show's files, so it is not read at publish")
