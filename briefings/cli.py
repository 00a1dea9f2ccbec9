"""The `briefings` command line: parse options, call the library, print, and translate errors."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ProfileNotFound
from pydantic import ValidationError

from briefings import __version__, audio
from briefings.artwork import placeholder
from briefings.build import FEED_KEY, Build, build, show_stings
from briefings.check import check_all
from briefings.config import DEFAULT_OUTPUT, EPISODES_DIR, SHOW_FILE, STATE_DIR, AudioSettings, Show, load_show
from briefings.errors import BriefingsError, Severity, UsageError, shown
from briefings.feed import OPML_KEY
from briefings.feed_validation import FeedReport
from briefings.feed_validation import validate_target as validate_feeds
from briefings.inputs import (
    DigestCache,
    submission_fingerprint,
)
from briefings.progress import Display
from briefings.publish import (
    BY_COMMAND,
    Manifest,
    claim_holder,
    in_progress_message,
    read_manifest_tagged,
)
from briefings.recording import RecordingError, analyse, pauses, suggest_chapters
from briefings.release import Release, build_summary, refused, release
from briefings.runner import Runner, stop_on_sigterm
from briefings.serve import PreviewServer
from briefings.status import briefing_states
from briefings.storage import LocalStorage, S3Storage, Storage
from briefings.submission import BRIEFING_FILE, SLUG_PATTERN, load_submissions
from briefings.tagging import duration
from briefings.timecode import clock


@dataclass(frozen=True)
class Options:
    """Options every command shares."""

    workspace: Path
    verbose: bool
    quiet: bool


class BriefingsGroup(click.Group):
    """Turns BriefingsError into a one-line `Error: ...` and its exit code, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BriefingsError as error:
            for line in str(error).splitlines():
                click.echo(f"Error: {line}", err=True)
            ctx.exit(error.exit_code)


def now() -> datetime:
    """The current time; BRIEFINGS_NOW (ISO 8601 with timezone) overrides it, to rehearse an embargo."""
    override = os.environ.get("BRIEFINGS_NOW")
    if not override:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(override)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(
            f"BRIEFINGS_NOW={override}: not a date and time with timezone (fix: e.g. 2027-01-01T09:00:00+00:00)"
        )
    return moment


def say(options: Options, message: str) -> None:
    """Progress for people, on stderr; silenced by --quiet."""
    if not options.quiet:
        click.echo(message, err=True)


@click.group(cls=BriefingsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Workspace folder (default: the current one).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every ffmpeg command and more detail.")
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors.")
@click.version_option(__version__, prog_name="briefings")
@click.pass_context
def main(ctx: click.Context, workspace: Path, verbose: bool, quiet: bool) -> None:
    """Turn case-review briefings into a podcast feed and archive.

    A workspace holds show.toml and episodes/<slug>/ folders, one per briefing.

    Example:

        briefings publish && briefings serve
    """
    stop_on_sigterm()
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s")
    # botocore's debug log prints signed request headers (the access key id, session tokens): keep the
    # AWS libraries quiet even with -v, so credentials never reach a terminal or a CI log.
    for name in ("boto3", "botocore", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = Options(workspace=workspace, verbose=verbose, quiet=quiet)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="Safeguarding Practice Briefings", show_default=True, help="The show's title.")
def init(directory: Path, title: str) -> None:
    """Create a new workspace.

    Writes DIRECTORY/show.toml (commented), a placeholder artwork.jpg and episodes/.

    Example:

        briefings init westmarsh-briefings --title "Westmarsh Practice Briefings"
    """
    if (directory / SHOW_FILE).exists():
        raise BriefingsError(f"{shown(directory / SHOW_FILE)}: already exists (fix: choose a new folder, or edit it)")
    if '"' in title or "\\" in title:
        raise UsageError(f"--title {title!r}: quotes and backslashes are not allowed (fix: leave them out)")
    template = resources.files("briefings").joinpath("templates/show.toml").read_text(encoding="utf-8")
    (directory / EPISODES_DIR).mkdir(parents=True, exist_ok=True)
    (directory / SHOW_FILE).write_text(
        template.replace("{id}", str(uuid.uuid4())).replace("{title}", title), encoding="utf-8"
    )
    (directory / "artwork.jpg").write_bytes(placeholder(title))
    (directory / ".gitignore").write_text(f"/{DEFAULT_OUTPUT}/\n/{STATE_DIR}/\n", encoding="utf-8")
    click.echo(f"Created {shown(directory)}/ with show.toml, artwork.jpg and episodes/.")
    click.echo(f"Next: edit {shown(directory / SHOW_FILE)}, replace artwork.jpg, and add a briefing under episodes/.")


def _build(
    options: Options,
    jobs: int | None,
    exclude: set[str] | None = None,
    guids: dict[str, str] | None = None,
    published: dict[str, dict[str, Any]] | None = None,
    read_published: Callable[[str], bytes | None] | None = None,
) -> Build:
    runner = Runner()
    # Progress goes to stderr: a live bar on a terminal, a line per briefing in logs; --quiet silences it.
    display = None if options.quiet else Display(sys.stderr)
    return build(
        options.workspace,
        runner,
        now(),
        jobs=jobs or os.cpu_count() or 1,
        progress=lambda message: say(options, message) if display is None else display.say(message),
        tracker=display,
        exclude=exclude or set(),
        guids=guids,
        published=published,
        read_published=read_published,
    )


def _report_problems(result: Build) -> None:
    for problem in result.problems:
        click.echo(str(problem), err=True)


def _summary(result: Build) -> dict[str, Any]:
    return build_summary(result)


def _errors(result: Build) -> bool:
    return refused(result)


jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Recordings processed at once (default: one per CPU core)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout, for scripts.")


@main.command(name="build")
@jobs_option
@json_option
@click.pass_obj
def build_command(options: Options, jobs: int | None, as_json: bool) -> None:
    """Process ready briefings into a staged build.

    Publishes nothing.
    Use it to check that every recording encodes; `briefings publish` builds too.

    Example:

        briefings build --jobs 2
    """
    result = _build(options, jobs)
    _report_problems(result)
    if as_json:
        click.echo(json.dumps(_summary(result), indent=2))
    else:
        click.echo(
            f"Built {len(result.episodes)} briefing(s), {result.encoded} encoded now, in {shown(options.workspace / STATE_DIR / 'build')}/"
        )
    if _errors(result):
        sys.exit(1)


def _audio_settings(options: Options, overrides: dict[str, Any]) -> tuple[AudioSettings, audio.Stings]:
    """The workspace's [audio] settings (defaults without a show.toml), with the command's options on top."""
    show = load_show(options.workspace) if (options.workspace / SHOW_FILE).is_file() else None
    base = show.audio if show is not None else AudioSettings()
    chosen = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = AudioSettings.model_validate(base.model_dump() | chosen)
    except ValidationError as error:
        problem = error.errors()[0]
        option = str(problem["loc"][0]).replace("_", "-")
        raise UsageError(f"--{option}: {problem['msg'].lower()} (fix: see `briefings audio --help`)") from None
    stings = show_stings(options.workspace, settings) if show is not None else audio.NO_STINGS
    return settings, stings


@main.command(name="audio")
@click.argument("source", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .mp3 for MP3, .m4a for AAC.",
)
@click.option("--target-lufs", type=float, help="Integrated loudness to reach (default: show.toml, else -16).")
@click.option("--true-peak", type=float, help="True-peak ceiling in dBTP (default: show.toml, else -1).")
@click.option("--bitrate", type=int, help="Bit rate in kbps (default: show.toml, else 96).")
@click.option("--channels", type=click.Choice(["1", "2"]), help="1 downmixes to mono (the default), 2 keeps stereo.")
@click.option("--trim/--no-trim", "trim", default=None, help="Cut leading and trailing silence (default: on).")
@click.option("--no-stings", is_flag=True, help="Leave out the intro and outro named in show.toml.")
@json_option
@click.pass_obj
def audio_command(
    options: Options,
    source: Path,
    output: Path,
    target_lufs: float | None,
    true_peak: float | None,
    bitrate: int | None,
    channels: str | None,
    trim: bool | None,
    no_stings: bool,
    as_json: bool,
) -> None:
    """Normalise one recording to an MP3 (or, named .m4a, AAC).

    Prints its loudness and true peak before and after.
    Uses the [audio] settings of the workspace's show.toml when there is one. The input is never
    changed; the output appears only once it is complete and verified.

    Example:

        briefings audio interview.m4a -o interview.mp3 --target-lufs -16
    """
    if output.resolve() == source.resolve():
        raise UsageError(f"-o {output}: is the input (fix: write to a new file)")
    formats = {extension: name for name, extension in audio.EXTENSIONS.items()}
    if output.suffix.lower() not in formats:
        raise UsageError(f"-o {output}: not an .mp3 or .m4a file name (fix: name it .mp3 for MP3, .m4a for AAC)")
    overrides = {
        "format": formats[output.suffix.lower()],
        "target_lufs": target_lufs,
        "true_peak": true_peak,
        "bitrate": bitrate,
        "channels": None if channels is None else int(channels),
        "trim_silence": trim,
    }
    settings, stings = _audio_settings(options, overrides)
    if no_stings:
        stings = audio.NO_STINGS
    if not output.parent.is_dir():
        raise UsageError(f"-o {output}: no folder {shown(output.parent)} (fix: create it first)")
    partial = output.with_name(f".{output.name}.partial")
    display = None if options.quiet else Display(sys.stderr)
    if display is not None:
        display.start([source.name])
    try:
        result = audio.normalise(
            Runner(),
            source,
            partial,
            settings,
            stings,
            None if display is None else lambda fraction: display.update(source.name, fraction),
        )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
        if display is not None:
            display.close()
    length = duration(output)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        summary = {
            "input": {
                "file": str(source),
                "integrated_lufs": result.source.integrated,
                "sample_peak_dbfs": result.source.true_peak,
                "duration": result.source_duration,
            },
            "output": {
                "file": str(output),
                "integrated_lufs": result.result.integrated,
                "true_peak_dbtp": result.result.true_peak,
                "duration": round(length, 3),
            },
            "gain_db": result.gain,
            "trimmed_start": result.trimmed_start,
            "trimmed_end": result.trimmed_end,
            "intro": result.intro,
            "encodes": result.attempts,
            "warnings": list(result.warnings),
        }
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"Input:  {shown(source)}: {result.source.integrated:.1f} LUFS, sample peak "
        f"{result.source.true_peak:.1f} dBFS, {result.source_duration:.1f} s"
    )
    click.echo(
        f"Output: {shown(output)}: {result.result.integrated:.1f} LUFS, true peak "
        f"{result.result.true_peak:.1f} dBTP, {length:.1f} s ({'; '.join(audio.describe(result))})"
    )


# s3://BUCKET/PREFIX; bucket names per the S3 naming rules (3-63 lowercase letters, digits, dots, hyphens).
S3_DESTINATION = re.compile(r"^s3://(?P<bucket>[^/]*)/?(?P<prefix>.*)$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
WRITE_METHODS = ("PUT", "POST", "DELETE")


@dataclass(frozen=True)
class Destination:
    """Where to publish, as given by flags (each falls back to the environment, then show.toml)."""

    to: str | None
    profile: str | None
    endpoint_url: str | None
    region: str | None
    acl: str | None


class RequestCounter:
    """Counts the HTTP requests the S3 client sends, by method, from botocore's `before-send` event."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> None:
        with self._lock:
            self.counts[request.method] = self.counts.get(request.method, 0) + 1

    @property
    def writes(self) -> int:
        """Requests that change the bucket."""
        return sum(self.counts.get(method, 0) for method in WRITE_METHODS)


def s3_client(profile: str | None, endpoint_url: str | None, region: str | None, counter: RequestCounter) -> Any:
    """An S3 client from boto3's standard credential chain, with botocore's standard retry mode."""
    # boto3 takes a third of a second to import: only commands that reach a bucket need it.
    import boto3
    from botocore.config import Config as BotocoreConfig

    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        name = profile or os.environ.get("AWS_PROFILE", "")
        where = f"--profile {name}" if profile else f"AWS_PROFILE={name}"
        raise UsageError(
            f"{where}: no such profile in the AWS config files (fix: add it with "
            f"`aws configure --profile {name}`, or give another)"
        ) from None
    # Standard retry mode retries throttling, 5xx and dropped connections with backoff; the number of
    # attempts comes from AWS_MAX_ATTEMPTS or the profile (default 3). Checksum behaviour is left to
    # botocore, so AWS_REQUEST_CHECKSUM_CALCULATION=when_required works for stores that reject CRCs.
    config = BotocoreConfig(
        retries={"mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra=f"briefings/{__version__}",
    )
    client = session.client("s3", endpoint_url=endpoint_url, config=config)
    client.meta.events.register("before-send.s3", counter)
    return client


def _byte_progress(options: Options) -> Callable[[str, int], Any] | None:
    """A progress bar on stderr for each large upload (silenced by --quiet)."""
    if options.quiet:
        return None

    @contextmanager
    def bar(key: str, size: int) -> Iterator[Callable[[int], None]]:
        lock = threading.Lock()
        with click.progressbar(length=size, label=f"uploading {key}", file=sys.stderr) as progress:

            def advance(amount: int) -> None:
                # The transfer manager reports from its worker threads.
                with lock:
                    progress.update(amount)

            yield advance

    return bar


def _open_storage(options: Options, show: Show, destination: Destination, counter: RequestCounter) -> Storage:
    """The storage a destination names: a folder, or s3://BUCKET/PREFIX."""
    settings = show.publish
    to = destination.to or settings.to
    match = S3_DESTINATION.match(to)
    if match:
        bucket, prefix = match["bucket"], match["prefix"].strip("/")
        if not BUCKET_NAME.match(bucket):
            raise UsageError(
                f"{to}: `{bucket}` is not a bucket name (fix: give s3://BUCKET/PREFIX, with 3 to 63 lowercase "
                "letters, digits, dots or hyphens in the bucket name)"
            )
        if destination.endpoint_url and not re.match(r"^https?://", destination.endpoint_url):
            raise UsageError(
                f"--endpoint-url {destination.endpoint_url}: not an http(s) URL (fix: e.g. https://minio.example.org:9000)"
            )
        # Defaults < show.toml < environment < flags: when the environment sets one, pass None so boto3 reads it.
        profile = destination.profile or (None if os.environ.get("AWS_PROFILE") else settings.profile)
        endpoint = destination.endpoint_url or (None if os.environ.get("AWS_ENDPOINT_URL") else settings.endpoint_url)
        has_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = destination.region or (None if has_region else settings.region)
        client = s3_client(profile, endpoint, region, counter)
        acl = destination.acl or settings.acl
        return S3Storage(client, bucket, prefix, acl=acl, transfer_progress=_byte_progress(options))
    if "://" in to:
        raise UsageError(
            f"--to {to}: not a folder or an s3:// address (fix: give a folder, e.g. --to feed, or s3://BUCKET/PREFIX)"
        )
    for flag, value in (("--profile", destination.profile), ("--endpoint-url", destination.endpoint_url),
                        ("--region", destination.region), ("--acl", destination.acl)):  # fmt: skip
        if value:
            raise UsageError(f"{flag}: only for s3:// destinations (fix: leave it out when publishing to a folder)")
    return LocalStorage(Path(to) if destination.to else options.workspace / to)


def destination_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that choose and reach a destination, shared by publish, withdraw and status."""
    options = [
        click.option(
            "--to",
            "to",
            metavar="DEST",
            help="A folder, or s3://BUCKET/PREFIX (default: `to` in show.toml, normally feed/).",
        ),
        click.option("--profile", metavar="NAME", help="AWS profile for an s3:// destination (default: AWS_PROFILE)."),
        click.option(
            "--endpoint-url",
            metavar="URL",
            help="S3-compatible endpoint: MinIO, R2, B2... (default: AWS_ENDPOINT_URL, else AWS S3).",
        ),
        click.option("--region", metavar="REGION", help="Bucket region (default: AWS_REGION or the profile's)."),
        click.option(
            "--acl",
            type=click.Choice(["public-read"]),
            help="Make every uploaded object public, for stores that use ACLs rather than a bucket policy.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _destination(to: str | None, profile: str | None, endpoint_url: str | None, region: str | None,
                 acl: str | None) -> Destination:  # fmt: skip
    return Destination(to, profile, endpoint_url, region, acl)


def _publish_run(
    options: Options,
    destination: Destination,
    *,
    dry_run: bool,
    jobs: int | None,
    withdraw: tuple[str, ...] = (),
    restore: tuple[str, ...] = (),
    check: Callable[[Manifest, Storage], None] | None = None,
) -> tuple[Storage, Release]:
    """Open the destination and publish to it (see briefings.release); print problems and warnings."""
    show = load_show(options.workspace)
    counter = RequestCounter()
    storage = _open_storage(options, show, destination, counter)

    def make_build(exclude: set[str], guids: dict[str, str], published: dict[str, dict[str, Any]]) -> Build:
        result = _build(options, jobs, exclude, guids, published, storage.read)
        _report_problems(result)
        return result

    done = release(
        options.workspace,
        show,
        storage,
        make_build,
        now(),
        dry_run=dry_run,
        withdraw=withdraw,
        restore=restore,
        check=check,
        progress=lambda message: say(options, message) if options.verbose else None,
        note=lambda message: say(options, message),
        report=lambda line: click.echo(line, err=True),
    )
    if done.skipped:
        for problem in done.summary.get("problems", []):
            click.echo(problem, err=True)  # warnings from the last publish still apply
    if done.warning:
        click.echo(f"Warning: {done.warning}", err=True)
    done.summary["write_requests"] = counter.writes if isinstance(storage, S3Storage) else getattr(storage, "writes", 0)
    done.summary["requests"] = dict(sorted(counter.counts.items()))
    return storage, done


@main.command()
@destination_options
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (upload, replace, delete, unchanged, embargoed); write nothing."
)
@jobs_option
@json_option
@click.pass_obj
def publish(
    options: Options,
    to: str | None,
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    acl: str | None,
    dry_run: bool,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Build, then publish only what changed.

    Writes audio, then pages, then the feeds.
    DEST is a folder or s3://BUCKET/PREFIX (credentials from the AWS environment, ~/.aws or an
    instance role). Only what changed is written. Briefings with errors are refused (and listed); the
    rest are published. Briefings whose `published` time is still ahead stay embargoed: nothing about
    them is written.

    Example:

        briefings publish --to s3://westmarsh-briefings/podcast --dry-run
    """
    destination = _destination(to, profile, endpoint_url, region, acl)
    storage, done = _publish_run(options, destination, dry_run=dry_run, jobs=jobs)
    summary = done.summary
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        if dry_run:
            click.echo(f"Plan for {storage.describe()} (dry run: nothing is written):")
            for line in done.plan_lines:
                click.echo(line)
        verb = "Would publish" if dry_run else "Published"
        click.echo(
            f"{verb} {len(summary['episodes'])} briefing(s) to {storage.describe()}: "
            f"{len(summary['written'])} file(s) written, {len(summary['deleted'])} deleted, "
            f"{summary['unchanged']} unchanged."
        )
        for slug in summary.get("kept", []):
            click.echo(f"Kept as last published (not published from this workspace now): {slug}")
        for slug, moment in summary["embargoed"].items():
            click.echo(f"Embargoed until {moment}: {slug}")
        for slug in summary["withdrawn_now"]:
            click.echo(f"Withdrawn: {slug}")
        click.echo(f"Feed: {summary['feed_url']}")
        click.echo(f"Feeds by theme and review type: {summary['feed_url'].rsplit('/', 1)[0]}/{OPML_KEY}")
        if to is None and isinstance(storage, LocalStorage):
            click.echo("Preview it: briefings serve")
    if done.refused:
        click.echo("Some briefings were refused; fix the errors above and publish again.", err=True)
        sys.exit(1)


@main.command()
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@jobs_option
@json_option
@click.pass_obj
def check(options: Options, slugs: tuple[str, ...], jobs: int | None, as_json: bool) -> None:
    """Check briefings and say exactly what to fix.

    Checks every briefing, or the SLUGs given.
    Checks the metadata in briefing.yaml, the recording (readable, long enough, level,
    clipping, silences), chapters and transcript. Exits 1 if there is any error;
    warnings are advice and do not fail.

    Example:

        briefings check child-a
    """
    show = load_show(options.workspace)
    submissions = load_submissions(options.workspace, show)
    known = {submission.slug for submission in submissions}
    for slug in slugs:
        if slug not in known:
            folder = shown(options.workspace / EPISODES_DIR / slug)
            raise UsageError(
                f"{folder}: no such briefing (fix: choose one of: {', '.join(sorted(known)) or 'none yet'})"
            )
    chosen = [submission for submission in submissions if not slugs or submission.slug in slugs]
    cache = options.workspace / STATE_DIR / "cache" / "analysis"
    checked = check_all(chosen, Runner(), cache, jobs or os.cpu_count() or 1, show.audio)
    problems = [problem for submission in checked for problem in submission.problems]
    errors = sum(problem.severity is Severity.ERROR for problem in problems)
    if as_json:
        report = [
            {
                "slug": submission.slug,
                "valid": submission.valid,
                "problems": [
                    {
                        "file": problem.file,
                        "line": problem.line,
                        "field": problem.field,
                        "message": problem.message,
                        "fix": problem.fix,
                        "severity": problem.severity.value,
                    }
                    for problem in submission.problems
                ],
            }
            for submission in checked
        ]
        click.echo(json.dumps(report, indent=2))
    else:
        for submission in checked:
            if not submission.problems:
                click.echo(f"{shown(submission.folder)}: ready")
            for problem in submission.problems:
                click.echo(str(problem))
        warnings = len(problems) - errors
        click.echo(f"Checked {len(checked)} briefing(s): {errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(1)


def _report_feeds(reports: list[FeedReport]) -> None:
    for report in reports:
        for problem in report.problems:
            click.echo(str(problem), err=True)


def _feed_errors(reports: list[FeedReport]) -> int:
    return sum(report.errors for report in reports)


@main.command()
@click.argument("feed", required=False)
@json_option
@click.pass_obj
def validate(options: Options, feed: str | None, as_json: bool) -> None:
    """Check feeds as podcast directories do.

    Checks them the way Apple Podcasts, Spotify and Podcast Index do; exits 1 if any has errors.
    FEED is a feed's URL or file. URLs in a feed are checked over the network (HEAD for audio and
    artwork, GET for chapters and transcripts), except for a feed in the workspace's publish folder,
    whose URLs are answered from that folder. Without FEED, every feed in the publish folder is
    checked. For the workspace's own feeds, every GUID is compared with the publish manifest.

    Example:

        briefings validate https://briefings.example.org/feed.xml
    """
    reports = validate_feeds(options.workspace, feed, now(), progress=lambda message: say(options, message))
    _report_feeds(reports)
    errors = _feed_errors(reports)
    warnings = sum(len(report.problems) for report in reports) - errors
    if as_json:
        document = {
            "valid": errors == 0,
            "feeds": [
                {
                    "feed": report.feed,
                    "items": report.items,
                    "errors": report.errors,
                    "warnings": len(report.problems) - report.errors,
                    "problems": [str(problem) for problem in report.problems],
                }
                for report in reports
            ],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        verdict = "valid" if not errors else "invalid"
        click.echo(
            f"{len(reports)} feed(s) {verdict}: {sum(report.items for report in reports)} item(s), "
            f"{errors} error(s), {warnings} warning(s)."
        )
    if errors:
        sys.exit(1)


@main.command()
@click.argument("slug")
@click.option(
    "--recording",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The author's recording (copied; the original is left as it is).",
)
@click.pass_obj
def new(options: Options, slug: str, recording: Path) -> None:
    """Start a briefing from a recording.

    Creates episodes/SLUG/ with a copy of the recording and a briefing.yaml to fill in.
    The briefing.yaml is commented, notes the recording's length and suggests chapters at
    its longest pauses.

    Example:

        briefings new child-d --recording ~/Recordings/child-d-briefing.m4a
    """
    show = load_show(options.workspace)
    if not SLUG_PATTERN.match(slug):
        raise UsageError(f"{slug}: a briefing's name must be lowercase letters, digits and hyphens (fix: e.g. child-d)")
    episodes = options.workspace / EPISODES_DIR
    folder = episodes / slug
    if folder.exists():
        raise BriefingsError(
            f"{shown(folder)}: already exists (fix: choose another name, or edit {shown(folder / BRIEFING_FILE)})"
        )
    runner = Runner()
    try:
        facts = analyse(runner, recording)
    except RecordingError as error:
        raise BriefingsError(str(error.problem)) from None
    starts = suggest_chapters(pauses(runner, recording), facts.duration)
    chapters = "".join(f'  - start: "{clock(start)}"\n    title: ""\n' for start in starts)
    name = f"recording{recording.suffix.lower()}"
    template = resources.files("briefings").joinpath("templates/briefing.yaml").read_text(encoding="utf-8")
    text = (
        template.replace("{slug}", slug)
        .replace("{themes}", ", ".join(show.themes))
        .replace("{duration}", clock(facts.duration))
        .replace("{chapters}", chapters)
        .replace("{recording}", name)
    )
    # Build the folder beside its final place and rename it in one step: never a half-made submission.
    episodes.mkdir(parents=True, exist_ok=True)
    staging = episodes / f".new-{slug}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        shutil.copyfile(recording, staging / name)
        (staging / BRIEFING_FILE).write_text(text, encoding="utf-8")
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    click.echo(f"Created {shown(folder)}/ with {name} ({clock(facts.duration)}) and {BRIEFING_FILE}.")
    click.echo(f"Next: fill in {shown(folder / BRIEFING_FILE)}, then run `briefings check {slug}`.")


@main.command()
@click.argument("slug")
@click.option("--force", is_flag=True, help="Replace an existing transcript.vtt.")
@click.pass_obj
def transcribe(options: Options, slug: str, force: bool) -> None:
    """Draft a transcript for the author to correct.

    Recognises the speech in the briefing's recording, offline.
    Needs the optional extra: pip install -e '.[transcribe]'. Writes
    episodes/SLUG/transcript.vtt marked as a draft; `briefings check` warns until the
    author has corrected it and deleted the draft note.

    Example:

        briefings transcribe child-a
    """
    from briefings.transcribe import draft_vtt, recognise, require_recogniser

    show = load_show(options.workspace)
    submission = next((item for item in load_submissions(options.workspace, show) if item.slug == slug), None)
    if submission is None:
        raise UsageError(
            f"{shown(options.workspace / EPISODES_DIR / slug)}: no such briefing (fix: check the name with `briefings check`)"
        )
    briefing_file = submission.folder / BRIEFING_FILE
    recording = submission.files.get("recording")
    if recording is None:
        raise BriefingsError(
            f"{shown(briefing_file)}: no recording to transcribe (fix: run `briefings check {slug}` and fix `recording:`)"
        )
    target = submission.folder / "transcript.vtt"
    if target.exists() and not force:
        raise BriefingsError(f"{shown(target)}: already exists (fix: correct it by hand, or use --force to replace it)")
    require_recogniser()
    say(options, f"transcribing {shown(recording)} (about half as long as the recording)")
    cues = recognise(Runner(), recording, progress=lambda seconds: say(options, f"  {clock(seconds)} done"))
    target.write_text(draft_vtt(cues), encoding="utf-8")
    # Name the transcript in briefing.yaml: uncomment the template's line, or add one.
    text = briefing_file.read_text(encoding="utf-8")
    line = "transcript: transcript.vtt"
    if f"# {line}" in text:
        briefing_file.write_text(text.replace(f"# {line}", line), encoding="utf-8")
    elif submission.briefing is not None and submission.briefing.transcript is None:
        briefing_file.write_text(text.rstrip("\n") + f"\n{line}\n", encoding="utf-8")
    click.echo(f"Wrote a draft transcript to {shown(target)} ({len(cues)} cues).")
    click.echo("Next: correct it against the recording and delete its `NOTE DRAFT` paragraph.")


@main.command()
@click.argument("slug")
@click.option("--undo", is_flag=True, help="Lift a withdrawal: the briefing is published again, with its old GUID.")
@destination_options
@click.option("--dry-run", is_flag=True, help="Print what would be removed; write nothing.")
@jobs_option
@json_option
@click.pass_obj
def withdraw(
    options: Options,
    slug: str,
    undo: bool,
    to: str | None,
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    acl: str | None,
    dry_run: bool,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Take a published briefing down everywhere.

    Feeds and pages first, then its audio and files.
    The withdrawal is recorded in the destination's manifest, so later publishes leave the briefing out
    even while its folder stays in episodes/; `--undo` publishes it again. The rest of the workspace is
    published as it is.

    Example:

        briefings withdraw child-a --to s3://westmarsh-briefings/podcast
    """

    def known(previous: Manifest, storage: Storage) -> None:
        record = previous.withdrawn.get(slug)
        if undo and (record is None or record.get("by") != BY_COMMAND):
            raise UsageError(
                f"{slug}: not withdrawn with `briefings withdraw` at {storage.describe()} (fix: check the name "
                "with `briefings status`; a briefing past its withdraw_after date returns when you change that date)"
            )
        if not undo and slug not in previous.episodes and not (options.workspace / EPISODES_DIR / slug).is_dir():
            raise UsageError(
                f"{slug}: no such briefing in {EPISODES_DIR}/ or at {storage.describe()} (fix: check the name with "
                "`briefings status`)"
            )

    destination = _destination(to, profile, endpoint_url, region, acl)
    storage, done = _publish_run(
        options,
        destination,
        dry_run=dry_run,
        jobs=jobs,
        withdraw=() if undo else (slug,),
        restore=(slug,) if undo else (),
        check=known,
    )
    summary, where = done.summary, storage.describe()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        if dry_run:
            click.echo(f"Plan for {where} (dry run: nothing is written):")
            for line in done.plan_lines:
                click.echo(line)
        if undo:
            verb = "Would restore" if dry_run else "Restored"
            click.echo(f"{verb} {slug} at {where}: {len(summary['written'])} file(s) written.")
        else:
            verb = "Would withdraw" if dry_run else "Withdrew"
            click.echo(
                f"{verb} {slug} from {where}: feed and pages rewritten, {len(summary['deleted'])} file(s) deleted. "
                f"To publish it again: briefings withdraw --undo {slug}"
            )
    if done.refused:
        click.echo("Some briefings were refused; fix the errors above and publish again.", err=True)
        sys.exit(1)


@main.command()
@destination_options
@json_option
@click.pass_obj
def status(
    options: Options,
    to: str | None,
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    acl: str | None,
    as_json: bool,
) -> None:
    """Show each briefing's state at the destination.

    And the address to subscribe to.
    States: draft (ready, not yet published), invalid, embargoed until a time, published, changed
    since publish, withdrawn.

    Example:

        briefings status --to s3://westmarsh-briefings/podcast
    """
    show = load_show(options.workspace)
    counter = RequestCounter()
    storage = _open_storage(options, show, _destination(to, profile, endpoint_url, region, acl), counter)
    manifest, _ = read_manifest_tagged(storage)
    digests = DigestCache(options.workspace)
    submissions = load_submissions(options.workspace, show)
    fingerprints = {submission.slug: submission_fingerprint(submission.folder, digests) for submission in submissions}
    digests.save()
    states = briefing_states(submissions, manifest, now(), fingerprints)
    holder = claim_holder(manifest, datetime.now(UTC))
    subscribe = show.url + FEED_KEY
    if as_json:
        document = {
            "destination": storage.describe(),
            "briefings": [{"slug": item.slug, "state": item.state.value, "detail": item.detail} for item in states],
            "publishing": holder,
            "subscribe": subscribe,
        }
        click.echo(json.dumps(document, indent=2))
        return
    width = max([len(item.slug) for item in states] + [4])
    for item in states:
        state = item.state.value + (f" {item.detail}" if item.detail.startswith("until") else "")
        detail = "" if item.detail.startswith("until") else item.detail
        click.echo(f"{item.slug:<{width}}  {state:<38}  {detail}".rstrip())
    if not states:
        click.echo(f"No briefings yet: add one under {EPISODES_DIR}/.")
    if holder is not None:
        click.echo(in_progress_message(storage, holder))
    click.echo(f"Subscribe: {subscribe}")


def _lan_address() -> str:
    # The address other devices on the network reach us at; connecting a UDP socket sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets a phone on the same network subscribe.",
)
@click.option(
    "--port",
    "-p",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to serve (default: the publish folder).",
)
@click.pass_obj
def serve(options: Options, host: str, port: int, folder: Path | None) -> None:
    """Preview the published folder over HTTP.

    For a browser or a podcast app.
    The feed is served with this server's address in its links, so apps play from it.

    Example:

        briefings serve --host 0.0.0.0 --port 8000
    """
    show = load_show(options.workspace)
    if folder is None and "://" in show.publish.to:
        raise UsageError(
            f"{SHOW_FILE}: publish.to is {show.publish.to}, not a folder (fix: give the folder to serve with --dir, "
            "e.g. publish with --to feed first)"
        )
    root = folder or options.workspace / show.publish.to
    if not (root / FEED_KEY).is_file():
        raise BriefingsError(f"{shown(root)}/{FEED_KEY}: nothing published yet (fix: run `briefings publish` first)")
    try:
        server = PreviewServer((host, port), root, show.url)
    except OSError as error:
        raise UsageError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror}) (fix: choose another --port)"
        ) from None
    address = _lan_address() if host == "0.0.0.0" else host
    base = f"http://{address}:{server.server_address[1]}/"
    click.echo(f"Serving {shown(root)}/ at {base}")
    click.echo(f"Subscribe in a podcast app to: {base}{FEED_KEY}")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
