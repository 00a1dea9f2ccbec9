"""Plan what changed since the last publish, then apply it to storage in a safe order."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from briefings.build import Build, Output
from briefings.errors import StorageError
from briefings.storage import Storage

# Kept in the destination beside what it describes: what was published, so the next run can compare.
MANIFEST_KEY = ".briefings/manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """What a destination holds: every object briefings owns there, and every published episode."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The manifest as JSON."""
        document = {"version": MANIFEST_VERSION, "objects": self.objects, "episodes": self.episodes}
        return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")


def read_manifest(storage: Storage) -> Manifest:
    """The destination's manifest, or an empty one for a first publish."""
    data = storage.read(MANIFEST_KEY)
    if data is None:
        return Manifest()
    try:
        document = json.loads(data)
        return Manifest(objects=document["objects"], episodes=document["episodes"])
    except (ValueError, KeyError, TypeError):
        raise StorageError(
            f"{storage.describe()}{MANIFEST_KEY}: unreadable manifest (fix: restore it from a backup, "
            "or delete it and publish again to republish everything)"
        ) from None


@dataclass(frozen=True)
class Plan:
    """What a publish will do."""

    upload: tuple[Output, ...]
    replace: tuple[Output, ...]
    unchanged: tuple[str, ...]
    delete: tuple[str, ...]
    manifest: Manifest
    manifest_changed: bool

    @property
    def writes(self) -> tuple[Output, ...]:
        """Uploads and replacements, in safe order: media, then pages, then feeds."""
        return tuple(sorted(self.upload + self.replace, key=lambda output: (output.stage, output.key)))


def plan(build: Build, previous: Manifest, existing: dict[str, int], now: datetime) -> Plan:
    """Compare the build with what the destination holds (its manifest and one listing)."""
    upload, replace, unchanged = [], [], []
    for output in build.outputs:
        record = previous.objects.get(output.key)
        if record is None or output.key not in existing:
            upload.append(output)
        elif record.get("sha256") != output.sha256 or existing[output.key] != output.size:
            replace.append(output)
        else:
            unchanged.append(output.key)
    staged = {output.key for output in build.outputs}
    # Only objects the manifest owns are ever deleted: whatever else is in the destination is not ours.
    delete = sorted(key for key in previous.objects if key not in staged)
    episodes = {}
    for episode in build.episodes:
        before = previous.episodes.get(episode.slug, {})
        episodes[episode.slug] = {
            "guid": str(before.get("guid", episode.guid)),
            "first_published": str(before.get("first_published", now.isoformat(timespec="seconds"))),
            "media": episode.media_key,
            "duration": round(episode.duration, 3),
        }
    objects = {output.key: {"sha256": output.sha256, "size": output.size} for output in build.outputs}
    manifest = Manifest(objects=objects, episodes=episodes)
    changed = manifest.to_bytes() != Manifest(previous.objects, previous.episodes).to_bytes()
    return Plan(tuple(upload), tuple(replace), tuple(unchanged), tuple(delete), manifest, changed)


def apply(plan: Plan, storage: Storage, progress: Callable[[str], None] | None = None) -> None:
    """Carry out `plan`: write media, pages, feeds, then the manifest; delete stale objects last."""
    report = progress or (lambda message: None)
    writes = plan.writes
    for number, output in enumerate(writes, 1):
        report(f"[{number}/{len(writes)}] {output.key}")
        storage.write(output.key, output.path, output.content_type, output.cache_control)
    if plan.delete:
        # Record the stale objects as still owned until they are gone, so an interrupted run
        # leaves them for the next one to delete instead of orphaning them.
        owned = {**plan.manifest.objects, **{key: {"sha256": "", "size": 0} for key in plan.delete}}
        storage.write(MANIFEST_KEY, Manifest(owned, plan.manifest.episodes).to_bytes(), "application/json", "no-store")
        for key in plan.delete:
            report(f"delete {key}")
            storage.delete(key)
    if plan.manifest_changed or plan.delete:
        storage.write(MANIFEST_KEY, plan.manifest.to_bytes(), "application/json", "no-store")
