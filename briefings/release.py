"""One publish from start to finish: read the destination, build (unless nothing changed), plan, apply, check."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from briefings.build import build
from briefings.config import EPISODES_DIR, Show
from briefings.episode import Episode
from briefings.errors import BriefingsError, Severity, StorageError
from briefings.feed_validation import FeedReport, check_feeds, check_staged, harvested_files, is_feed_key
from briefings.inputs import (
    DigestCache,
    read_published,
    still_current,
    submission_fingerprint,
    workspace_fingerprint,
    write_published,
)
from briefings.layout import FEED_KEY, OPML_KEY, Build
from briefings.lifecycle import taken_down_at
from briefings.progress import Reporter
from briefings.public import check_public
from briefings.publish import (
    Manifest,
    Plan,
    apply,
    claim_holder,
    excluded,
    in_progress_message,
    plan,
    read_manifest_tagged,
    wall_clock,
)
from briefings.runner import Runner
from briefings.staff import media_namer, publish_private, read_private
from briefings.storage import LocalStorage, S3Storage, Storage, without_credentials

# What the summary of a publish remembered for the next run keeps.
REMEMBERED = ("episodes", "kept", "embargoed", "withdrawn", "problems", "feed_url", "feeds", "destination", "dry_run")


@dataclass(frozen=True)
class Release:
    """What a publish (or withdraw) did, for the command line to print."""

    summary: dict[str, Any]
    plan_lines: list[str]
    refused: bool
    skipped: bool
    warning: str | None
    # The briefings this publish made public for the first time (or would, in a dry run).
    released: tuple[Episode, ...] = ()

    def plan(self) -> list[str]:
        """A dry run's plan, as the command line prints it (nothing for a real run)."""
        if not self.summary["dry_run"]:
            return []
        return [f"Plan for {self.summary['destination']} (dry run: nothing is written):", *self.plan_lines]

    def invalidation(self) -> list[str]:
        """What the CDN was asked to drop, if anything."""
        done = self.summary.get("cdn_invalidation")
        return [invalidation_line(done)] if done else []

    def lines(self) -> list[str]:
        """What a publish did (or would do), as `briefings publish` prints it."""
        summary = self.summary
        verb = "Would publish" if summary["dry_run"] else "Published"
        lines = [
            *self.plan(),
            f"{verb} {counted(summary)} to {summary['destination']}: "
            f"{len(summary['written'])} file(s) written, {len(summary['deleted'])} deleted, "
            f"{summary['unchanged']} unchanged.",
        ]
        lines += [f"Kept as last published (not published from this workspace now): {slug}" for slug in summary["kept"]]
        lines += [f"Embargoed until {moment}: {slug}" for slug, moment in summary["embargoed"].items()]
        lines += [f"Withdrawn: {slug}" for slug in summary["withdrawn_now"]]
        lines += [f"Announced by email: {slug}" for slug in summary.get("emailed", [])]
        lines += [f"Would announce by email: {slug}" for slug in summary.get("would_email", [])]
        for verb, key in (("Pinged", "pinged"), ("Would ping", "would_ping")):
            for hub, count in Counter(ping["hub"] for ping in summary.get(key, [])).items():
                lines.append(f"{verb} {hub} about {count} changed feed(s).")
        feeds = summary["feed_url"].rsplit("/", 1)[0]
        return [
            *lines,
            *self.invalidation(),
            f"Feed: {summary['feed_url']}",
            f"Feeds by theme and review type: {feeds}/{OPML_KEY}",
        ]

    @property
    def unchanged(self) -> bool:
        """True when a real publish wrote and deleted nothing and refused nothing."""
        summary = self.summary
        return not summary["dry_run"] and not summary["written"] and not summary["deleted"] and not self.refused


def invalidation_line(done: dict[str, Any]) -> str:
    """What a CDN was asked to drop (`Workspace.invalidate_cdn`), as the command line prints it."""
    return f"CDN: {done['distribution']} drops its copies of {len(done['paths'])} path(s) (invalidation {done['id']})"


def build_summary(result: Build) -> dict[str, Any]:
    """The facts of a build, as `--json` prints them."""
    return {
        "episodes": [episode.slug for episode in result.episodes],
        # Listed beside them, from the shows of [harvest] sources.
        "harvested": len(result.harvested),
        "kept": list(result.kept),
        "encoded": result.encoded,
        "embargoed": {slug: moment.isoformat() for slug, moment in result.embargoed},
        "withdrawn": list(result.withdrawn),
        "problems": [str(problem) for problem in result.problems],
        "feed_url": result.show.url + FEED_KEY,
    }


def counted(summary: dict[str, Any]) -> str:
    """The briefings a build lists (build_summary): this show's own, and those harvested, if any."""
    harvested = summary.get("harvested")
    return f"{len(summary['episodes'])} briefing(s)" + (f" and {harvested} harvested" if harvested else "")


def refused(result: Build) -> bool:
    """True when the build refused a briefing (errors, not warnings)."""
    return any(problem.severity is Severity.ERROR for problem in result.problems)


def plan_lines(changes: Plan) -> list[str]:
    """The plan as a dry run prints it."""
    lines = [f"  upload    {output.key}" for output in changes.upload]
    lines += [f"  replace   {output.key}" for output in changes.replace]
    lines += [f"  delete    {key}" for key in changes.delete]
    lines.append(f"  unchanged {len(changes.unchanged)} file(s)")
    return lines


def identity(storage: Storage) -> str:
    """A destination's full address: a folder's absolute path, or a bucket's endpoint and prefix."""
    if isinstance(storage, S3Storage):
        return f"{without_credentials(storage.client.meta.endpoint_url)} {storage.describe()}"
    if isinstance(storage, LocalStorage):
        return str(storage.root.resolve())
    return storage.describe()


def valid_until(result: Build, moment: datetime) -> str | None:
    """When the clock next changes what a publish would do: an embargo lifting or a withdraw_after date."""
    times = [release for _, release in result.embargoed]
    times += [
        down for episode in result.episodes if (down := taken_down_at(episode.briefing, moment.tzinfo)) is not None
    ]
    return min(times).isoformat() if times else None


def release(
    workspace: Path,
    show: Show,
    storage: Storage,
    moment: datetime,
    *,
    dry_run: bool,
    jobs: int = 1,
    withdraw: Collection[str] = (),
    restore: Collection[str] = (),
    check: Callable[[Manifest, Storage], None] | None = None,
    reporter: Reporter | None = None,
    clock: Callable[[], datetime] = wall_clock,
) -> Release:
    """Publish `workspace` to `storage` as of `moment`: read its manifest, build, plan, apply, check the feed.

    `withdraw` and `restore` take briefings down or back; `check` vets the manifest before anything is
    built. A dry run plans and writes nothing. The problems the build and the feed checks find go to
    `reporter`, one per line, as they are found. `clock` tells the real time, for the claim on the destination.
    """
    reporter = reporter or Reporter()

    def checked(reports: list[FeedReport], failure: str) -> list[str]:
        lines = [str(problem) for feed in reports for problem in feed.problems]
        for line in lines:
            reporter.problem(line)
        if any(feed.errors for feed in reports):
            raise BriefingsError(failure)
        return lines

    previous, tag = read_manifest_tagged(storage)
    if check is not None:
        check(previous, storage)
    # The claim's lease is measured by `clock`, not by `moment`: a dry run may rehearse another time
    # (BRIEFINGS_NOW), but another publish's claim lapses in real time, on every machine alike.
    holder = claim_holder(previous, clock())
    if holder is not None:
        if not dry_run:
            raise StorageError(in_progress_message(storage, holder))  # before building: fail fast
        reporter.step("Note: " + in_progress_message(storage, holder))
    digests = DigestCache(workspace)
    inputs = workspace_fingerprint(workspace, show, digests)
    digests.save()
    # The anonymous check of the public address: always for a bucket, and for a folder whose feeds a hub is
    # pinged about (briefings.push pings only once the check sees the new feed).
    public = not dry_run and (isinstance(storage, S3Storage) or show.notify.pings)

    # Nothing in the workspace, at the destination or on the clock changed since the last publish from
    # here: check that every object is still there (one listing) and stop, without building.
    record = read_published(workspace, identity(storage))
    # Subscribers added, revoked or expired change the private feeds, which the workspace does not show.
    side = read_private(storage)
    private = side.version(moment.date())
    unchanged = record is not None and still_current(record, inputs, tag, moment) and record.get("private") == private
    if not dry_run and not withdraw and not restore and record is not None and unchanged:
        existing = storage.sizes()
        if all(existing.get(key) == item.get("size") for key, item in previous.objects.items()):
            reporter.step("nothing changed since the last publish")
            feed_sha256 = str(previous.objects.get(FEED_KEY, {}).get("sha256", ""))
            warning = check_public(show.url + FEED_KEY, feed_sha256) if public else None
            summary = dict(record["summary"]) | {
                "encoded": 0,
                "written": [],
                "upload": [],
                "replace": [],
                "unchanged": len(previous.objects),
                "deleted": [],
                "withdrawn_now": [],
                "feed_problems": [],
                "public_check": (warning or "ok") if public else None,
                "private_feeds": None,
            }
            return Release(summary, [], refused=False, skipped=True, warning=warning)

    guids = {slug: str(entry["guid"]) for slug, entry in previous.withdrawn.items() if entry.get("guid")}
    guids |= {slug: str(entry["guid"]) for slug, entry in previous.episodes.items() if entry.get("guid")}
    result = build(
        workspace,
        Runner(),
        moment,
        jobs,
        reporter,
        exclude=(excluded(previous) | set(withdraw)) - set(restore),
        guids=guids,
        published=previous.episodes,
        read_published=storage.read,
        media_folder=media_namer(storage, side, dry_run),
    )
    for problem in result.problems:
        reporter.problem(str(problem))
    episodes = workspace / EPISODES_DIR
    sources = {episode.slug: submission_fingerprint(episodes / episode.slug, digests) for episode in result.episodes}
    digests.save()
    changes = plan(
        result, previous, storage.sizes(), moment, tag=tag, sources=sources, withdraw=withdraw, restore=restore
    )
    # Directories reject a bad feed, and apps never forget a GUID: check the new feeds against the staged
    # files before anything is written, and publish nothing if any would be invalid.
    feed_problems = checked(
        check_staged(result, changes.manifest, moment, storage),
        "the new feeds would be invalid, so nothing was published (fix: correct the problems above and publish again)",
    )
    feed_keys = [output.key for output in result.outputs if is_feed_key(output.key)]
    if not dry_run:
        tag = apply(changes, storage, reporter, clock)
    if not dry_run and (changes.writes or changes.delete):
        # And check what is now at the destination, as a directory would find it.
        try:
            published = check_feeds(result.show, storage, feed_keys, changes.manifest, moment, harvested_files(result))
        except StorageError as error:
            raise StorageError(
                f"{storage.describe()}: published, but the published files could not be read back to check them: {error}"
            ) from None
        feed_problems = checked(
            published,
            f"the published feeds in {storage.describe()} are invalid (fix: correct the problems above and publish again)",
        )
    artwork = next(output.key for output in result.outputs if output.key.startswith("artwork-"))
    # After the public feeds: every private feed also lists the public briefings, whose files are now in place.
    private_done = publish_private(storage, side, result, artwork, moment, dry_run=dry_run, reporter=reporter)
    feed = next(output for output in result.outputs if output.key == FEED_KEY)
    warning = check_public(show.url + FEED_KEY, feed.sha256) if public else None
    summary = build_summary(result) | {
        "destination": storage.describe(),
        "dry_run": dry_run,
        "written": [output.key for output in changes.writes],
        "upload": [output.key for output in changes.upload],
        "replace": [output.key for output in changes.replace],
        "unchanged": len(changes.unchanged),
        "deleted": list(changes.delete),
        "withdrawn_now": list(changes.newly_withdrawn),
        "feeds": [show.url + key for key in feed_keys],
        "feed_problems": feed_problems,
        "public_check": (warning or "ok") if public else None,
        # Counts only: the private feeds' and files' keys are secret.
        "private_feeds": None if private_done is None else private_done.feeds,
        "private_written": 0 if private_done is None else private_done.written,
        "private_deleted": 0 if private_done is None else private_done.deleted,
    }
    if not dry_run and not refused(result):
        # Only a publish that refused nothing is remembered: refused briefings are rebuilt and reported each time.
        remembered = {key: summary[key] for key in REMEMBERED}
        # A run that finds nothing changed repeats the last one's warnings, but not those about an encode:
        # that one was news when the recording was encoded (a cron job would print it every few minutes).
        remembered["problems"] = [str(problem) for problem in result.problems if problem not in result.encode_warnings]
        write_published(
            workspace,
            identity(storage),
            {
                "inputs": inputs,
                "tag": tag,
                "valid_from": moment.isoformat(),
                "valid_until": valid_until(result, moment),
                "private": private if private_done is None else private_done.version,
                "summary": remembered,
            },
        )
    released = tuple(episode for episode in result.episodes if episode.slug in changes.manifest.episodes and
                     episode.slug not in previous.episodes)  # fmt: skip
    return Release(summary, plan_lines(changes), refused(result), skipped=False, warning=warning, released=released)
