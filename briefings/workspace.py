"""The Python API: a workspace and everything the command line does with it.

    from briefings import Workspace

    show = Workspace("westmarsh-briefings")
    done = show.publish(to="s3://westmarsh-briefings/podcast")
    print(done.summary["written"])

Every method raises BriefingsError (with the file, the problem and the fix) for what the user can fix, and
reports progress and the problems it finds to the workspace's Reporter (silent unless one is given).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from briefings.build import build
from briefings.cdn import invalidate
from briefings.check import check_all, check_show
from briefings.config import EPISODES_DIR, SHOW_FILE, STATE_DIR, Show, load_show
from briefings.destination import Destination, Opened, boto_profile, cloudfront_client, open_destination
from briefings.errors import BriefingsError, UsageError, printable, shown
from briefings.feed_validation import FeedReport, is_feed_key, validate_target
from briefings.harvest import SourceResult, harvest, source_states
from briefings.inputs import DigestCache, submission_fingerprint
from briefings.layout import FEED_KEY, Build, private_staging, staging
from briefings.notify import announce, due, send_test
from briefings.placeholders import placeholder_problems
from briefings.progress import Reporter
from briefings.publish import BY_COMMAND, Manifest, claim_holder, in_progress_message, read_manifest_tagged, wall_clock
from briefings.push import hubs, ping
from briefings.release import Release, identity, release
from briefings.runner import Runner
from briefings.staff import private_feeds
from briefings.status import BriefingState, briefing_states
from briefings.storage import LocalStorage, Storage
from briefings.submission import SLUG_PATTERN, Submission, episode_folders, load_submission, load_submissions


def system_clock() -> datetime:
    """The real time a workspace is published at (its own name: a test can move it, and leave claims' leases be)."""
    return wall_clock()


def rehearsal_time(env: Mapping[str, str], rehearsal: bool) -> datetime | None:
    """The time BRIEFINGS_NOW (ISO 8601 with timezone) sets, only for a rehearsal; None for the real time.

    A rehearsal (a dry run, `status`) writes nothing; anything else refuses BRIEFINGS_NOW: a real publish
    at a moved clock would release an embargoed briefing early.
    """
    override = env.get("BRIEFINGS_NOW")
    if not override:
        return None
    if not rehearsal:
        raise UsageError(
            f"BRIEFINGS_NOW={override}: only `publish --dry-run`, `withdraw --dry-run` and `status` rehearse at "
            "another time; this command uses the real time (fix: unset BRIEFINGS_NOW, or add --dry-run)"
        )
    try:
        moment = datetime.fromisoformat(override)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(
            f"BRIEFINGS_NOW={override}: not a date and time with timezone (fix: e.g. 2027-01-01T09:00:00+00:00)"
        )
    return moment


@dataclass(frozen=True)
class Status:
    """Where each briefing stands at a destination, and the address to subscribe to."""

    destination: str
    briefings: list[BriefingState]
    publishing: dict[str, Any] | None
    in_progress: str | None
    subscribe: str
    # [harvest] sources: {"url", "harvested", "briefings", "last_error"} each.
    sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def due(self) -> list[str]:
        """Briefings past their release time and not published."""
        return [item.slug for item in self.briefings if item.due]

    def lines(self) -> list[str]:
        """As `briefings status` prints it: a line per briefing, then the address to subscribe to."""
        width = max([len(printable(item.slug)) for item in self.briefings] + [4])
        lines = []
        for item in self.briefings:
            state = item.state.value + (f" {item.detail}" if item.detail.startswith("until") else "")
            detail = "" if item.detail.startswith("until") else item.detail
            lines.append(printable(f"{printable(item.slug):<{width}}  {state:<38}  {detail}".rstrip()))
        if not self.briefings:
            lines.append(f"No briefings yet: add one under {EPISODES_DIR}/.")
        if self.in_progress is not None:
            lines.append(self.in_progress)
        for source in self.sources:
            when = source["harvested"] or "never"
            failed = f"; the last try failed: {source['last_error']}" if source["last_error"] else ""
            lines.append(printable(f"Harvested {source['url']}: {source['briefings']} briefing(s), {when}{failed}"))
        return [*lines, f"Subscribe: {self.subscribe}"]

    def to_dict(self) -> dict[str, Any]:
        """As `briefings status --json` prints it."""
        return {
            "destination": self.destination,
            "briefings": [
                {"slug": item.slug, "state": item.state.value, "detail": item.detail} for item in self.briefings
            ],
            "publishing": self.publishing,
            "subscribe": self.subscribe,
            "due": self.due,
            "sources": self.sources,
        }


class Workspace:
    """A folder with show.toml and episodes/<slug>/, one folder per briefing.

    `now` fixes the time the workspace is published at (a rehearsal of an embargo; default: the real
    time at each call); `env` is where destination settings are read (default: the process environment).
    """

    def __init__(
        self,
        path: str | Path,
        now: datetime | None = None,
        reporter: Reporter | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.reporter = reporter or Reporter()
        self.env = os.environ if env is None else env
        self._now = now

    def now(self) -> datetime:
        """The time this workspace is checked and published at."""
        return self._now or system_clock()

    @property
    def show(self) -> Show:
        """show.toml, validated."""
        return load_show(self.path)

    @property
    def analysis_cache(self) -> Path:
        """Where each recording's analysis is kept: `check` measures, `build` reads it."""
        return self.path / STATE_DIR / "cache" / "analysis"

    def check(self, slugs: Sequence[str] = (), jobs: int | None = None) -> list[Submission]:
        """Check the show and every briefing (or those named): each submission with its problems.

        Raises ShowError if show.toml, its artwork or stings cannot be used; warns (to the reporter) of
        example settings still in show.toml, which `publish` refuses for a live destination.
        """
        runner = Runner()
        show = check_show(self.path, runner, self.analysis_cache).show
        folders = episode_folders(self.path)
        known = {folder.name for folder in folders}
        for unreplaced in placeholder_problems(self.path, show):
            self.reporter.problem(f"warning: {unreplaced}")
        for slug in slugs:
            if slug not in known:
                raise UsageError(
                    f"{shown(self.path / EPISODES_DIR / slug)}: no such briefing (fix: choose one of: "
                    f"{', '.join(sorted(known)) or 'none yet'})"
                )
        chosen = [folder for folder in folders if not slugs or folder.name in slugs]
        return check_all(chosen, show, runner, self.analysis_cache, _jobs(jobs))

    def build(self, jobs: int | None = None) -> Build:
        """Process every ready briefing into the staging folder; publishes nothing. Problems go to the reporter."""
        result = build(self.path, Runner(), self.now(), _jobs(jobs), self.reporter)
        for problem in result.problems:
            self.reporter.problem(str(problem))
        return result

    @property
    def staging(self) -> Path:
        """The folder a build stages the complete site in."""
        return staging(self.path)

    def publish(
        self,
        to: str | Destination | None = None,
        dry_run: bool = False,
        jobs: int | None = None,
        invalidate_cdn: str | None = None,
    ) -> Release:
        """Build, then write only what changed to `to` (a folder, s3://BUCKET/PREFIX; default: show.toml's).

        Refuses the example settings `init` wrote unless `to` is the workspace's own preview folder.
        `invalidate_cdn` names a CloudFront distribution to drop its copies of replaced and deleted files.
        """
        return self._release(_spec(to), dry_run=dry_run, jobs=jobs, distribution=invalidate_cdn, live=True)

    def withdraw(
        self,
        slug: str,
        undo: bool = False,
        to: str | Destination | None = None,
        dry_run: bool = False,
        invalidate_cdn: str | None = None,
    ) -> Release:
        """Take a published briefing down everywhere (or, with `undo`, publish it again with its old GUID)."""
        if not SLUG_PATTERN.match(slug):
            raise UsageError(f"{slug!r}: not a briefing's name (fix: give the name of its folder in {EPISODES_DIR}/)")

        def known(previous: Manifest, storage: Storage) -> None:
            record = previous.withdrawn.get(slug)
            if undo and (record is None or record.get("by") != BY_COMMAND):
                raise UsageError(
                    f"{slug}: not withdrawn with `briefings withdraw` at {storage.describe()} (fix: check the name "
                    "with `briefings status`; a briefing past its withdraw_after date returns when you change that date)"
                )
            if undo:
                return
            if slug not in previous.episodes and not (self.path / EPISODES_DIR / slug).is_dir():
                raise UsageError(
                    f"{slug}: no such briefing in {EPISODES_DIR}/ or at {storage.describe()} (fix: check the name "
                    "with `briefings status`)"
                )
            # Recording a briefing that was never published would name it in the public manifest.
            if slug in previous.withdrawn:
                raise BriefingsError(
                    f"{slug}: already withdrawn at {storage.describe()}, nothing to withdraw (fix: none needed; "
                    f"`briefings withdraw --undo {slug}` publishes it again)"
                )
            folder = self.path / EPISODES_DIR / slug
            briefing = load_submission(folder, self.show).briefing if folder.is_dir() else None
            if slug not in previous.episodes and briefing is not None and briefing.staff_only:
                raise BriefingsError(
                    f"{slug}: staff-only, so in no public feed; `withdraw` would name it in the public manifest "
                    f"(fix: to take it out of the private feeds, set its `withdraw_after` date, or move episodes/{slug}/ "
                    "out of the workspace, and publish)"
                )
            if slug not in previous.episodes:
                raise BriefingsError(
                    f"{slug}: not published at {storage.describe()}, nothing to withdraw (fix: to keep it from being "
                    f"published, move episodes/{slug}/ out of the workspace or set its `published` time later)"
                )

        return self._release(
            _spec(to),
            dry_run=dry_run,
            withdraw=() if undo else (slug,),
            restore=(slug,) if undo else (),
            check=known,
            distribution=invalidate_cdn,
        )

    def status(self, to: str | Destination | None = None) -> Status:
        """Each briefing's state at the destination (draft, invalid, embargoed, published, changed, withdrawn)."""
        show = self.show
        storage = self.open(_spec(to), show).storage
        manifest, _ = read_manifest_tagged(storage)
        digests = DigestCache(self.path)
        submissions = load_submissions(self.path, show)
        fingerprints = {item.slug: submission_fingerprint(item.folder, digests) for item in submissions}
        digests.save()
        # A claim's lease runs in real time, whatever time is being rehearsed.
        holder = claim_holder(manifest, wall_clock())
        return Status(
            destination=storage.describe(),
            briefings=briefing_states(
                submissions, manifest, self.now(), fingerprints, private_feeds(storage, self.now())
            ),
            publishing=holder,
            in_progress=None if holder is None else in_progress_message(storage, holder),
            subscribe=show.url + FEED_KEY,
            sources=source_states(self.path, show),
        )

    def validate(self, feed: str | None = None) -> list[FeedReport]:
        """Check a feed (URL or file), or every feed in the publish folder, as podcast directories do."""
        return validate_target(self.path, feed, self.now(), self.reporter)

    def harvest(self, on_result: Callable[[SourceResult], None] | None = None) -> list[SourceResult]:
        """Fetch every [harvest] source and keep what each publishes (see briefings.harvest)."""
        show = self.show
        if show.harvest is None:
            raise BriefingsError(
                f"{SHOW_FILE}: [harvest]: not set (fix: list the feeds to gather as sources, as the README shows)"
            )
        return harvest(self.path, show, self.now(), on_result)

    def send_test_email(self, recipients: Sequence[str] = ()) -> list[str]:
        """Send a test message through [notify.email]'s server; whom it went to."""
        return send_test(self.show, recipients, self.now(), self.env)

    def open(self, spec: Destination, show: Show | None = None) -> Opened:
        """The destination `spec` names, opened (settings checked, credentials from boto3's chain)."""
        return open_destination(spec, show or self.show, self.env, self.path, self.reporter)

    def invalidate_cdn(self, to: str | Destination | None, distribution: str, keys: Sequence[str]) -> dict[str, Any]:
        """Have the CloudFront `distribution` in front of `to` drop its copies of `keys`; what it was asked."""
        spec = _spec(to)
        client = cloudfront_client(boto_profile(self.show.publish, spec, self.env))
        invalidation, paths = invalidate(client, distribution, self.show.url, keys)
        return {"distribution": distribution, "id": invalidation, "paths": paths}

    def _release(
        self,
        spec: Destination,
        *,
        dry_run: bool,
        jobs: int | None = None,
        withdraw: Collection[str] = (),
        restore: Collection[str] = (),
        check: Callable[[Manifest, Storage], None] | None = None,
        distribution: str | None = None,
        live: bool = False,
    ) -> Release:
        """Open the destination and publish to it (see briefings.release).

        `live` refuses what `init` wrote for the producer to replace, unless the destination is the
        workspace's own preview folder (a withdrawal, the legal takedown path, is never refused for it).
        """
        moment = self.now()
        show = self.show
        opened = self.open(spec, show)
        storage = opened.storage
        preview = "://" not in show.publish.to and (self.path / show.publish.to).resolve()
        if live and not (isinstance(storage, LocalStorage) and storage.root.resolve() == preview):
            problems = placeholder_problems(self.path, show)
            if problems and not dry_run:
                raise BriefingsError(*problems)
            for problem in problems:
                self.reporter.problem(f"warning: {problem}")
        try:
            done = release(
                self.path,
                show,
                storage,
                moment,
                dry_run=dry_run,
                jobs=_jobs(jobs),
                withdraw=withdraw,
                restore=restore,
                check=check,
                reporter=self.reporter,
            )
        finally:
            if dry_run:
                # A rehearsal (perhaps at a time past an embargo) leaves nothing staged: the pages and audio
                # of a briefing still under embargo must not stay in the workspace.
                shutil.rmtree(self.staging, ignore_errors=True)
                shutil.rmtree(private_staging(self.path), ignore_errors=True)
        changed = [*done.summary["replace"], *done.summary["deleted"]]
        if distribution and not dry_run and changed:
            # After the publish: a CDN fetching again before the feeds changed would cache the old ones anew.
            done.summary["cdn_invalidation"] = self.invalidate_cdn(spec, distribution, changed)
        email = show.notify.email
        if email is not None and dry_run:
            done.summary["would_email"] = [episode.slug for episode in due(done.released, email, moment)]
        elif email is not None:
            done.summary["emailed"] = announce(
                self.path, identity(storage), show, storage, done.released, moment, self.env, self.reporter
            )
        if show.notify.pings:
            feeds = [show.url + key for key in done.summary["written"] if is_feed_key(key)]
            if dry_run:
                done.summary["would_ping"] = [{"hub": hub, "feed": feed} for hub in hubs(show.notify) for feed in feeds]
            else:
                seen = done.summary["public_check"] == "ok"
                done.summary["pinged"] = ping(
                    self.path, identity(storage), show.notify, feeds, seen, moment, self.reporter
                )
        done.summary["write_requests"] = opened.write_requests
        done.summary["requests"] = dict(sorted(opened.requests.counts.items()))
        return done


def _spec(to: str | Destination | None) -> Destination:
    return to if isinstance(to, Destination) else Destination(to=to)


def _jobs(jobs: int | None) -> int:
    """Recordings processed at once: as asked, else one per CPU core."""
    return jobs or os.cpu_count() or 1
