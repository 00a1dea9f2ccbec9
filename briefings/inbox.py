"""The inbox: what authors uploaded through their invitations, and pulling it into `episodes/SLUG/`.

Every byte in the inbox is untrusted: the metadata is read only up to MAX_METADATA_BYTES and must be a JSON
object (JSON has no entities to expand) nested no deeper than briefing.yaml may be; the recording is streamed to a file up to the invitation's limit and
decoded by ffmpeg, whatever name or type the browser gave it, and named by the container ffmpeg found. The
briefing then goes through the same model and checks as `briefings check`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from briefings.check import check_folder
from briefings.config import EPISODES_DIR, STATE_DIR, Show
from briefings.errors import BriefingsError, Problem, shown
from briefings.invitation import (
    MAX_METADATA_BYTES,
    METADATA_NAME,
    RECORDING_NAME,
    Invitation,
    inbox_storage,
    read_invitations,
)
from briefings.recording import EXTENSION_FOR, RecordingError, analyse
from briefings.runner import Runner
from briefings.storage import S3Storage, Storage
from briefings.submission import BRIEFING_FILE, MAX_DEPTH, Submission
from briefings.submit_form import LEFT_TO_THE_PRODUCER

# An uploaded part: its size in bytes and when it arrived.
Part = tuple[int, datetime]


@dataclass(frozen=True)
class Upload:
    """What one invitation's author has uploaded so far (None: that part not yet)."""

    invitation: Invitation
    recording: Part | None
    metadata: Part | None

    @property
    def modified(self) -> datetime:
        """When its last part arrived."""
        return max(part[1] for part in (self.recording, self.metadata) if part is not None)

    @property
    def complete(self) -> bool:
        """Both parts are in, the metadata sent after the recording: the page sends it second, so an author
        sending again, who replaces the recording first, is not complete until the metadata follows."""
        return self.recording is not None and self.metadata is not None and self.metadata[1] >= self.recording[1]

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """As `briefings inbox --json` prints it."""
        return {
            "slug": self.invitation.slug,
            "invitation": self.invitation.id,
            "time": self.modified.isoformat(timespec="seconds"),
            "size": sum(part[0] for part in (self.recording, self.metadata) if part is not None),
            "complete": self.complete,
            "invitation_status": self.invitation.status(now),
        }


@dataclass(frozen=True)
class Pulled:
    """One upload `inbox pull` took in (its briefing as `check` found it), or why it did not."""

    slug: str
    submission: Submission | None
    refused: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As `briefings inbox pull --json` prints it: check's JSON, or why it was not pulled."""
        if self.submission is None:
            return {"slug": self.slug, "pulled": False, "reason": self.refused}
        return {"pulled": True} | self.submission.to_dict()


def uploads(storage: Storage) -> list[Upload]:
    """Every invitation's uploads at the destination `storage`, oldest first (revoked ones included)."""
    listing = inbox_storage(storage).listing()
    found = []
    for invitation in read_invitations(storage).values():
        recording = listing.get(invitation.folder + RECORDING_NAME)
        metadata = listing.get(invitation.folder + METADATA_NAME)
        if recording is not None or metadata is not None:
            found.append(Upload(invitation, recording, metadata))
    return sorted(found, key=lambda upload: (upload.modified, upload.invitation.slug))


@dataclass(frozen=True)
class Puller:
    """What pulling needs from the workspace."""

    workspace: Path
    show: Show
    storage: Storage
    runner: Runner
    cache: Path | None
    now: datetime

    @cached_property
    def inbox(self) -> S3Storage:
        """Where the uploads are (`inbox_storage`)."""
        return inbox_storage(self.storage)


def _with_fixed(briefing: dict[str, Any], fixed: dict[str, str]) -> dict[str, Any]:
    """The author's metadata with the producer's fields put back (the page shows them read-only, but what
    it sends is the author's to change)."""
    for path, value in fixed.items():
        section, name = path.split(".", 1)
        part = briefing.get(section)
        briefing[section] = {**(part if isinstance(part, dict) else {}), name: value}
    return briefing


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (without recursion: the value is untrusted)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _metadata(inbox: S3Storage, upload: Upload, folder: Path) -> dict[str, Any]:
    """The author's briefing as a dict, refusing what is too big, not JSON, not an object, or nested deeper
    than briefing.yaml may be; without what is the producer's to decide, and with the producer's fields."""
    download = folder / METADATA_NAME
    inbox.download(upload.invitation.folder + METADATA_NAME, download, MAX_METADATA_BYTES)
    try:
        document = json.loads(download.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BriefingsError(f"{METADATA_NAME}: not the page's JSON") from None
    finally:
        download.unlink()
    if not isinstance(document, dict):
        raise BriefingsError(f"{METADATA_NAME}: not the page's JSON")
    if _depth(document) > MAX_DEPTH:
        raise BriefingsError(f"{METADATA_NAME}: nested more than {MAX_DEPTH} levels deep, which no briefing is")
    briefing = {key: value for key, value in document.items() if key not in LEFT_TO_THE_PRODUCER}
    return _with_fixed(briefing, upload.invitation.fixed)


def _recording(puller: Puller, upload: Upload, folder: Path) -> Path:
    """The recording, streamed into `folder` and named by the container ffmpeg finds in it (its analysis
    kept where `check` then finds it: one decode)."""
    download = folder / RECORDING_NAME
    puller.inbox.download(upload.invitation.folder + RECORDING_NAME, download, upload.invitation.max_bytes)
    try:
        container = analyse(puller.runner, download, puller.cache, puller.show.audio).container
    except RecordingError:
        raise BriefingsError(f"{RECORDING_NAME}: not audio that ffmpeg can decode") from None
    extension = EXTENSION_FOR.get(container)
    if extension is None:
        raise BriefingsError(f"{RECORDING_NAME}: a {container} file, not a recording format briefings accepts")
    return download.rename(download.with_suffix(extension))


def _yaml(briefing: dict[str, Any], upload: Upload) -> str:
    header = f"# Submitted from a browser (invitation {upload.invitation.id}, {upload.modified.isoformat(timespec='minutes')}).\n"
    return header + yaml.safe_dump(briefing, sort_keys=False, allow_unicode=True, width=100)


def pull_one(puller: Puller, upload: Upload, force: bool) -> Pulled:
    """Bring one complete upload into `episodes/SLUG/`, check it, and remove it from the inbox."""
    slug = upload.invitation.slug
    target = puller.workspace / EPISODES_DIR / slug
    if target.exists() and not force:
        return Pulled(slug, None, f"{shown(target)} already exists (fix: give --force to replace it)")
    state = puller.workspace / STATE_DIR
    state.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pull-", dir=state) as scratch:
        staged = Path(scratch) / slug
        staged.mkdir()
        try:
            briefing = _metadata(puller.inbox, upload, staged)
            recording = _recording(puller, upload, staged)
        except BriefingsError as error:
            where = f"{puller.inbox.describe()}{upload.invitation.folder}"
            return Pulled(slug, None, f"{where}{error} (fix: ask the author to submit again)")
        briefing["recording"] = recording.name
        (staged / BRIEFING_FILE).write_text(_yaml(briefing, upload), encoding="utf-8")
        if target.exists():
            # --force: the folder it replaces is kept, never deleted (it may hold the only copy of a recording).
            kept = state / "replaced" / f"{slug}-{puller.now.strftime('%Y%m%dT%H%M%S')}"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(target, kept)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, target)
    for name in (RECORDING_NAME, METADATA_NAME):
        puller.inbox.delete(upload.invitation.folder + name)
    return Pulled(slug, check_folder(target, puller.show, puller.runner, puller.cache))


def pull(puller: Puller, slugs: Sequence[str], force: bool) -> list[Pulled]:
    """Pull every complete upload (or those of `slugs`) whose invitation is not revoked."""
    found = uploads(puller.storage)
    pulled: list[Pulled] = []
    for slug in slugs:
        if not any(upload.invitation.slug == slug for upload in found):
            pulled.append(Pulled(slug, None, "nothing uploaded under this slug (fix: see `briefings inbox`)"))
    for upload in found:
        slug = upload.invitation.slug
        if slugs and slug not in slugs:
            continue
        if upload.invitation.revoked:
            if slugs:
                pulled.append(Pulled(slug, None, "its invitation is revoked: the upload is ignored"))
        elif not upload.complete:
            if slugs:
                pulled.append(Pulled(slug, None, "not complete: the author has not finished uploading"))
        else:
            pulled.append(pull_one(puller, upload, force))
    return pulled


def report(pulled: Pulled) -> list[Problem | str]:
    """What `inbox pull` says about one upload: check's lines, or why it was not pulled."""
    if pulled.submission is None:
        return [f"{pulled.slug}: not pulled: {pulled.refused}"]
    lines: list[Problem | str] = [f"{shown(pulled.submission.folder)}: pulled from the inbox"]
    return lines + list(pulled.submission.problems)
