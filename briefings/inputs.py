"""Fingerprints of what a build reads, so an unchanged workspace is neither rebuilt nor re-uploaded."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import briefings
from briefings.config import EPISODES_DIR, SHOW_FILE, STATE_DIR, Show
from briefings.harvest import read_state, source_urls
from briefings.search import pagefind_version

DIGESTS_FILE = "cache/digests.json"
PUBLISHED_FILE = "published.json"


# SHA-256 of the files this process has read, by path and stamp: checking, processing and fingerprinting a
# recording all need its hash, and a long recording takes a while to read.
_known: dict[tuple[str, tuple[int, ...]], str] = {}


def _stamp(path: Path) -> tuple[int, ...]:
    """What changes when a file is written: its size, mtime, ctime and inode. ctime changes on every write,
    even one that restores the mtime (cp -p, rsync -t)."""
    status = path.stat()
    return status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino


def file_sha256(path: Path) -> str:
    """The SHA-256 of an input (a file a build reads and never writes), read once per process while it is unchanged."""
    key = (str(path.resolve()), _stamp(path))
    digest = _known.get(key)
    if digest is None:
        with path.open("rb") as data:
            digest = hashlib.file_digest(data, "sha256").hexdigest()
        _known[key] = digest
    return digest


class DigestCache:
    """SHA-256 of files, remembered between runs by size, times and inode: a file is read again only when it changed."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / STATE_DIR / DIGESTS_FILE
        try:
            self.known: dict[str, list[Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.changed = False

    def digest(self, path: Path) -> str:
        """The file's SHA-256, from the cache when its size, mtime, ctime and inode are unchanged."""
        stamp = list(_stamp(path))
        key = str(path.resolve())
        record = self.known.get(key)
        if record is not None and record[:4] == stamp:
            return str(record[4])
        digest = file_sha256(path)
        self.known[key] = [*stamp, digest]
        self.changed = True
        return digest

    def save(self) -> None:
        """Keep the digests for the next run."""
        if self.changed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.known))
            os.replace(temporary, self.path)
            self.changed = False


def _files(folder: Path) -> list[Path]:
    """The files in a folder a build may read: hidden files and editor backups are not content."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not path.name.endswith("~")
    )  # fmt: skip


def submission_fingerprint(folder: Path, digests: DigestCache) -> str:
    """SHA-256 over a submission folder's files (names and contents)."""
    total = hashlib.sha256()
    for path in _files(folder):
        total.update(f"{path.relative_to(folder).as_posix()}\0{digests.digest(path)}\n".encode())
    return total.hexdigest()


def workspace_fingerprint(workspace: Path, show: Show, digests: DigestCache) -> str:
    """SHA-256 over everything a build reads: the tool itself, show.toml, the artwork and every submission."""
    total = hashlib.sha256()
    package = Path(briefings.__file__).parent
    # The code and templates that render the output; a new version renders differently.
    total.update(f"briefings {briefings.__version__}\n".encode())
    # Pagefind writes the search bundle: an upgrade of it alone changes what is published.
    total.update(f"pagefind {pagefind_version()}\n".encode())
    for path in _files(package):
        if path.suffix in (".py", ".html", ".css", ".toml", ".json", ".js"):
            total.update(f"{path.relative_to(package).as_posix()}\0{digests.digest(path)}\n".encode())
    for path in (workspace / SHOW_FILE, workspace / show.artwork):
        total.update(f"{path.name}\0{digests.digest(path) if path.is_file() else '-'}\n".encode())
    episodes = workspace / EPISODES_DIR
    if episodes.is_dir():
        for folder in sorted(path for path in episodes.iterdir() if path.is_dir() and not path.name.startswith(".")):
            total.update(f"{folder.name}\0{submission_fingerprint(folder, digests)}\n".encode())
    # What the last harvest kept of each [harvest] source (not when it ran: an unchanged source changes nothing).
    for url in source_urls(show):
        state = read_state(workspace, url)
        kept = json.dumps([state.get("show"), state.get("briefings")], sort_keys=True)
        total.update(f"{url}\0{hashlib.sha256(kept.encode()).hexdigest()}\n".encode())
    return total.hexdigest()


def read_published(workspace: Path, destination: str) -> dict[str, Any] | None:
    """What the last complete publish from this workspace to `destination` recorded, if anything."""
    try:
        record = json.loads((workspace / STATE_DIR / PUBLISHED_FILE).read_text()).get(destination)
    except (OSError, ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None


def write_published(workspace: Path, destination: str, record: dict[str, Any]) -> None:
    """Record a complete publish to `destination`, for the next run to compare with."""
    path = workspace / STATE_DIR / PUBLISHED_FILE
    try:
        document = json.loads(path.read_text())
        if not isinstance(document, dict):
            document = {}
    except (OSError, ValueError):
        document = {}
    document[destination] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=1, sort_keys=True))
    os.replace(temporary, path)


def still_current(record: dict[str, Any], fingerprint: str, tag: str | None, now: datetime) -> bool:
    """True when neither the workspace, the destination's manifest nor the clock changed what a publish would do.

    The clock matters only at the next embargo release or withdraw_after date, recorded as `valid_until`.
    """
    if record.get("inputs") != fingerprint or tag is None or record.get("tag") != tag:
        return False
    try:
        valid_from = datetime.fromisoformat(str(record["valid_from"]))
        until = record.get("valid_until")
        valid_until = datetime.fromisoformat(str(until)) if until else None
    except (KeyError, ValueError):
        return False
    return valid_from <= now and (valid_until is None or now < valid_until)
