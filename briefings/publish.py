"""Plan what changed since the last publish, then apply it to storage in a safe order."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from briefings.errors import BriefingsError, ConflictError, StorageError
from briefings.layout import Build, Output
from briefings.progress import Reporter
from briefings.storage import Storage

# Kept in the destination beside what it describes: what was published, so the next run can compare.
MANIFEST_KEY = ".briefings/manifest.json"
MANIFEST_VERSION = 1
MANIFEST_TYPE = "application/json"
# The manifest is state, not content: no cache may keep an old copy.
MANIFEST_CACHE = "no-store"
CONFLICT = "the bucket changed during this publish; run briefings publish again"
# How long a publish's claim on the destination holds without renewal; a publish renews it as it goes.
CLAIM_LEASE = timedelta(minutes=30)
# Why a briefing is recorded as withdrawn: by `briefings withdraw` (sticky until undone), or by its
# own `withdraw_after` date (lifted when the date is moved later or removed).
BY_COMMAND = "briefings withdraw"
BY_DATE = "withdraw_after"
# A published briefing whose briefing.yaml now says `audience: staff` leaves the public feeds (lifted if it
# becomes public again). Only a briefing already public is ever recorded: the manifest is public.
BY_AUDIENCE = "audience: staff"


@dataclass(frozen=True)
class Manifest:
    """What a destination holds: every object briefings owns there, every published and withdrawn episode,
    and the claim of a publish in progress, if any."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawn: dict[str, dict[str, Any]] = field(default_factory=dict)
    publishing: dict[str, Any] | None = None

    def to_bytes(self) -> bytes:
        """The manifest as JSON."""
        document: dict[str, Any] = {"version": MANIFEST_VERSION, "objects": self.objects, "episodes": self.episodes}
        document["withdrawn"] = self.withdrawn
        if self.publishing is not None:
            document["publishing"] = self.publishing
        return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")


def parse_manifest(data: bytes, where: str) -> Manifest:
    """Read a manifest's JSON; `where` names it in the error if it is unreadable."""
    try:
        document = json.loads(data)
        return Manifest(
            objects=dict(document["objects"]),
            episodes=dict(document["episodes"]),
            withdrawn=dict(document.get("withdrawn", {})),
            publishing=document.get("publishing"),
        )
    except (ValueError, KeyError, TypeError):
        raise StorageError(
            f"{where}: unreadable manifest (fix: restore it from a backup, "
            "or delete it and publish again to republish everything)"
        ) from None


def read_manifest_tagged(storage: Storage) -> tuple[Manifest, str | None]:
    """The destination's manifest and its version tag, or an empty one (tag None) for a first publish."""
    data, tag = storage.read_tagged(MANIFEST_KEY)
    if data is None:
        return Manifest(), None
    return parse_manifest(data, f"{storage.describe()}{MANIFEST_KEY}"), tag


def read_manifest(storage: Storage) -> Manifest:
    """The destination's manifest, or an empty one for a first publish."""
    return read_manifest_tagged(storage)[0]


@dataclass(frozen=True)
class Plan:
    """What a publish will do."""

    upload: tuple[Output, ...]
    replace: tuple[Output, ...]
    unchanged: tuple[str, ...]
    delete: tuple[str, ...]
    manifest: Manifest
    manifest_changed: bool
    # The version of the manifest this plan was made from: every manifest write is conditional on it.
    tag: str | None = None
    previous: Manifest = field(default_factory=Manifest)
    newly_withdrawn: tuple[str, ...] = ()

    @property
    def writes(self) -> tuple[Output, ...]:
        """Uploads and replacements, in safe order: media, then pages, then feeds."""
        return tuple(sorted(self.upload + self.replace, key=lambda output: (output.stage, output.key)))

    @property
    def empty(self) -> bool:
        """True when the destination already holds exactly this build: nothing to write or delete."""
        return not self.writes and not self.delete and not self.manifest_changed


def excluded(manifest: Manifest) -> set[str]:
    """Slugs a build must leave out because `briefings withdraw` took them down."""
    return {slug for slug, record in manifest.withdrawn.items() if record.get("by") == BY_COMMAND}


def plan(
    build: Build,
    previous: Manifest,
    existing: dict[str, int],
    now: datetime,
    *,
    tag: str | None = None,
    sources: dict[str, str] | None = None,
    withdraw: Collection[str] = (),
    restore: Collection[str] = (),
) -> Plan:
    """Compare the build with what the destination holds (its manifest and one listing).

    `sources` maps slugs to a fingerprint of their submission (for `briefings status`); `withdraw`
    and `restore` record or lift a `briefings withdraw` of those slugs.
    """
    upload, replace, unchanged = [], [], []
    for output in build.outputs:
        record = previous.objects.get(output.key)
        if record is None or output.key not in existing:
            upload.append(output)
        elif record.get("sha256") != output.sha256 or existing[output.key] != output.size:
            replace.append(output)
        else:
            unchanged.append(output.key)
    retained = set(build.retained)
    staged = {output.key for output in build.outputs} | retained
    # Only objects the manifest owns are ever deleted: whatever else is in the destination is not ours.
    delete = sorted(key for key in previous.objects if key not in staged)
    stamp = now.isoformat(timespec="seconds")

    withdrawn = {slug: record for slug, record in previous.withdrawn.items() if slug not in restore}
    built = {episode.slug for episode in build.episodes}
    for slug in list(withdrawn):
        # A withdraw_after moved later (or removed) lifts the withdrawal: the briefing is back in the build.
        if withdrawn[slug].get("by") in (BY_DATE, BY_AUDIENCE) and slug in built:
            del withdrawn[slug]
    newly = []
    for slug in sorted(set(build.withdrawn) | set(withdraw) | set(build.staff)):
        # Never record a briefing that was not published: the manifest is public.
        if slug in withdrawn or slug not in previous.episodes:
            continue
        before = previous.episodes.get(slug, {})
        withdrawn[slug] = {
            "by": BY_COMMAND if slug in withdraw else BY_AUDIENCE if slug in build.staff else BY_DATE,
            "at": stamp,
            "guid": before.get("guid"),
            "first_published": before.get("first_published"),
        }
        newly.append(slug)

    # A published briefing leaves the feed only by being withdrawn: one the build could not publish (folder
    # not in this workspace, refused, embargo moved later) is kept as last published, from its record. Only
    # a record from before records were kept in full cannot be; then the publish stops, so two producers with
    # different workspaces never take down each other's briefings.
    missing = sorted(slug for slug in previous.episodes if slug not in built and slug not in withdrawn)
    if missing:
        raise BriefingsError(
            "\n".join(
                f"{slug}: published at this destination, but not in this build (its folder is missing here, it was "
                f"refused above, or its embargo moved later) (fix: restore episodes/{slug}/ as it was published, "
                f"or take it down with `briefings withdraw {slug}`); nothing was published"
                for slug in missing
            )
        )

    episodes = {}
    for episode in build.episodes:
        # A briefing published again after a withdrawal keeps its GUID and first publication time.
        before = previous.episodes.get(episode.slug) or previous.withdrawn.get(episode.slug) or {}
        if episode.slug in build.kept:
            episodes[episode.slug] = dict(before)
            continue
        entry: dict[str, Any] = {
            **episode.record(),
            # The GUID recorded at first publication wins: podcast apps treat a new GUID as a new episode.
            "guid": str(before.get("guid") or episode.guid),
            "first_published": str(before.get("first_published") or stamp),
            "media": episode.media_key,
            "duration": round(episode.duration, 3),
        }
        source = (sources or {}).get(episode.slug, before.get("source"))
        if source:
            entry["source"] = source
        episodes[episode.slug] = entry
    objects = {output.key: {"sha256": output.sha256, "size": output.size} for output in build.outputs}
    objects |= {key: previous.objects[key] for key in retained if key in previous.objects}
    manifest = Manifest(objects=objects, episodes=episodes, withdrawn=withdrawn)
    changed = manifest.to_bytes() != Manifest(previous.objects, previous.episodes, previous.withdrawn).to_bytes()
    return Plan(
        tuple(upload),
        tuple(replace),
        tuple(unchanged),
        tuple(delete),
        manifest,
        changed,
        tag=tag,
        previous=previous,
        newly_withdrawn=tuple(newly),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_holder(manifest: Manifest, now: datetime) -> dict[str, Any] | None:
    """The claim of a publish still in progress at the destination, or None if there is none (or it lapsed)."""
    claim = manifest.publishing
    if not claim:
        return None
    try:
        expires = datetime.fromisoformat(str(claim["expires"]))
    except (KeyError, ValueError):
        return None
    if expires <= now:
        return None
    # A publish on this machine that is no longer running was interrupted: its claim is void.
    if claim.get("host") == socket.gethostname() and not _pid_alive(int(claim.get("pid", 0))):
        return None
    return claim


def in_progress_message(storage: Storage, claim: dict[str, Any]) -> str:
    """The error for a destination another publish has claimed."""
    return (
        f"{storage.describe()}: another publish is in progress (host {claim.get('host')}, process "
        f"{claim.get('pid')}, started {claim.get('started')}) (fix: run briefings publish again when it has "
        f"finished; if it was interrupted, its claim lapses at {claim.get('expires')})"
    )


class _Claim:
    """This run's claim on the destination: a manifest version that says a publish is in progress."""

    def __init__(self, storage: Storage, tag: str | None, clock: Callable[[], datetime]) -> None:
        self.storage, self.tag, self.clock = storage, tag, clock
        # Marks this run's manifest versions as its own, so a write whose answer was lost is recognised.
        self.id = uuid.uuid4().hex
        self.started = clock()
        self.renewed = self.started
        self.current: Manifest | None = None

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": self.started.isoformat(timespec="seconds"),
            "expires": (self.clock() + CLAIM_LEASE).isoformat(timespec="seconds"),
        }

    def write(self, manifest: Manifest) -> None:
        data = manifest.to_bytes()
        try:
            self.tag = self.storage.write_if(MANIFEST_KEY, data, MANIFEST_TYPE, MANIFEST_CACHE, self.tag)
        except StorageError as error:
            # The store may have carried out a write whose answer was lost: the retry is then refused as a
            # conflict (its condition names the old version), or the retries run out. If the manifest there
            # now is exactly the one written (with this run's claim id), the write landed: go on.
            tag = self._landed(data)
            if tag is None:
                if isinstance(error, ConflictError):
                    raise ConflictError(CONFLICT) from None
                raise
            self.tag = tag
        self.renewed = self.clock()
        self.current = manifest

    def _landed(self, data: bytes) -> str | None:
        """The version tag of the destination's manifest if it is exactly `data`, else None."""
        try:
            current, tag = self.storage.read_tagged(MANIFEST_KEY)
        except StorageError:
            return None
        return tag if current == data else None

    def due(self) -> bool:
        return self.clock() - self.renewed > CLAIM_LEASE / 3


def wall_clock() -> datetime:
    """The real current time, which a claim's lease is measured in."""
    return datetime.now(UTC)


def apply(
    plan: Plan,
    storage: Storage,
    reporter: Reporter | None = None,
    clock: Callable[[], datetime] = wall_clock,
    concurrency: int = 8,
) -> str | None:
    """Carry out `plan`: write media, pages, feeds, then the manifest; delete stale objects last.

    Every manifest write is conditional on the version the plan was made from, so two publishes at
    once cannot overwrite each other: the second stops with a ConflictError before writing anything.
    `clock` tells the real time, which this run's claim on the destination is measured in.
    Returns the version tag of the manifest now in the destination.
    """
    report = (reporter or Reporter()).detail
    if plan.empty:
        return plan.tag  # nothing changed: not a single write request
    holder = claim_holder(plan.previous, clock())
    if holder is not None:
        raise StorageError(in_progress_message(storage, holder))
    claim = _Claim(storage, plan.tag, clock)
    writes = plan.writes
    if writes or plan.delete:
        # Claim the destination first. The claim also records every object this publish may create or
        # leave behind as owned, so an interrupted run orphans nothing: the next one finishes or deletes it.
        # Replaced objects keep their old checksum (an interrupted replace is redone); new ones have none.
        owned = {**{output.key: {"sha256": "", "size": 0} for output in plan.upload}, **plan.previous.objects}
        pending = Manifest(owned, plan.previous.episodes, plan.previous.withdrawn, claim.record())
        claim.write(pending)
        try:
            done = 0
            # One stage at a time (media and side files, then pages, then feeds), its objects uploaded
            # in parallel: a stage starts only when every object of the one before is in place.
            for stage in sorted({output.stage for output in writes}):
                batch = [output for output in writes if output.stage == stage]
                with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
                    futures = {
                        pool.submit(
                            storage.write, output.key, output.path, output.content_type, output.cache_control
                        ): output
                        for output in batch
                    }
                    try:
                        for future in as_completed(futures):
                            future.result()
                            done += 1
                            report(f"[{done}/{len(writes)}] {futures[future].key}")
                            if claim.due():
                                claim.write(
                                    Manifest(owned, plan.previous.episodes, plan.previous.withdrawn, claim.record())
                                )
                    except BaseException:
                        pool.shutdown(wait=True, cancel_futures=True)
                        raise
            # The feeds now name only the new objects: record that before deleting anything, keeping the
            # stale objects owned until they are gone.
            stale = {key: {"sha256": "", "size": 0} for key in plan.delete}
            if plan.delete:
                claim.write(
                    Manifest(
                        {**plan.manifest.objects, **stale},
                        plan.manifest.episodes,
                        plan.manifest.withdrawn,
                        claim.record(),
                    )
                )
            for key in plan.delete:
                report(f"delete {key}")
                storage.delete(key)
            claim.write(plan.manifest)
        except BaseException:
            _release(claim)
            raise
    else:
        claim.write(plan.manifest)
    return claim.tag


def _release(claim: _Claim) -> None:
    """Lift this run's claim after a failure, so the next run need not wait for it to lapse."""
    if claim.current is None:
        return
    state = claim.current
    # If the store is failing too, the claim lapses on its own, or the next run on this host takes it over.
    with contextlib.suppress(BriefingsError):
        claim.write(Manifest(state.objects, state.episodes, state.withdrawn, None))
