"""The `briefings` command line: parse options, call the library, print, and translate errors."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from briefings import __version__
from briefings.artwork import placeholder
from briefings.build import FEED_KEY, Build, build
from briefings.check import check_all
from briefings.config import DEFAULT_OUTPUT, EPISODES_DIR, SHOW_FILE, STATE_DIR, Show, load_show
from briefings.errors import BriefingsError, Severity, UsageError, shown
from briefings.feed import OPML_KEY
from briefings.feed_validation import FeedReport, check_feeds, check_staged, is_feed_key
from briefings.feed_validation import validate_target as validate_feeds
from briefings.publish import apply, plan, read_manifest
from briefings.recording import RecordingError, analyse, clock, pauses, suggest_chapters
from briefings.runner import Runner
from briefings.serve import PreviewServer
from briefings.storage import LocalStorage
from briefings.submission import BRIEFING_FILE, SLUG_PATTERN, load_submissions


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
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s")
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


def _build(options: Options, jobs: int | None) -> Build:
    runner = Runner()
    return build(
        options.workspace,
        runner,
        now(),
        jobs=jobs or os.cpu_count() or 1,
        progress=lambda message: say(options, message),
    )


def _report_problems(result: Build) -> None:
    for problem in result.problems:
        click.echo(str(problem), err=True)


def _summary(result: Build) -> dict[str, Any]:
    return {
        "episodes": [episode.slug for episode in result.episodes],
        "encoded": result.encoded,
        "embargoed": {slug: moment.isoformat() for slug, moment in result.embargoed},
        "withdrawn": list(result.withdrawn),
        "problems": [str(problem) for problem in result.problems],
        "feed_url": result.show.url + FEED_KEY,
    }


def _errors(result: Build) -> bool:
    return any(problem.severity is Severity.ERROR for problem in result.problems)


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


def _destination(options: Options, show: Show, to: str | None) -> Path:
    if to is None:
        return options.workspace / show.publish.to
    if "://" in to:
        raise UsageError(f"--to {to}: only folders are supported as destinations (fix: give a folder, e.g. --to feed)")
    return Path(to)


@main.command()
@click.option("--to", "to", metavar="DEST", help="Folder to publish to (default: `to` in show.toml, normally feed/).")
@click.option("--dry-run", is_flag=True, help="Print what would change and write nothing.")
@jobs_option
@json_option
@click.pass_obj
def publish(options: Options, to: str | None, dry_run: bool, jobs: int | None, as_json: bool) -> None:
    """Build, then publish only what changed.

    Writes audio, then pages, then the feed.
    Briefings with errors are refused (and listed); the rest are published. Briefings whose
    `published` time is still ahead stay embargoed: nothing about them is written.

    Example:

        briefings publish --to /var/www/briefings
    """
    show = load_show(options.workspace)
    storage = LocalStorage(_destination(options, show, to))
    result = _build(options, jobs)
    _report_problems(result)
    changes = plan(result, read_manifest(storage), storage.sizes(), now())
    # Directories reject a bad feed, and apps never forget a GUID: check the new feeds against the
    # staged files before anything is written, and stop the publish if any would be invalid.
    feed_reports = check_staged(result, changes.manifest, now())
    _report_feeds(feed_reports)
    if _feed_errors(feed_reports):
        raise BriefingsError(
            "the new feeds would be invalid, so nothing was published (fix: correct the problems above and publish again)"
        )
    if not dry_run:
        apply(changes, storage, progress=lambda message: say(options, message) if options.verbose else None)
        # And check what is now in the destination, as a directory would find it.
        feed_keys = [output.key for output in result.outputs if is_feed_key(output.key)]
        feed_reports = check_feeds(result.show, storage, feed_keys, changes.manifest, now())
        _report_feeds(feed_reports)
        if _feed_errors(feed_reports):
            raise BriefingsError(
                f"the published feeds in {storage.describe()} are invalid (fix: correct the problems above and publish again)"
            )
    summary = _summary(result) | {
        "destination": storage.describe(),
        "dry_run": dry_run,
        "written": [output.key for output in changes.writes],
        "unchanged": len(changes.unchanged),
        "deleted": list(changes.delete),
        "feeds": [result.show.url + output.key for output in result.outputs if is_feed_key(output.key)],
        "feed_problems": [str(problem) for report in feed_reports for problem in report.problems],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        verb = "Would publish" if dry_run else "Published"
        click.echo(
            f"{verb} {len(result.episodes)} briefing(s) to {storage.describe()}: {len(changes.writes)} file(s) "
            f"written, {len(changes.delete)} deleted, {len(changes.unchanged)} unchanged."
        )
        for slug, moment in result.embargoed:
            click.echo(f"Embargoed until {moment.isoformat()}: {slug}")
        click.echo(f"Feed: {summary['feed_url']}")
        click.echo(f"Feeds by theme and review type: {result.show.url}{OPML_KEY}")
        if to is None:
            click.echo("Preview it: briefings serve")
    if _errors(result):
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
    checked = check_all(chosen, Runner(), cache, jobs or os.cpu_count() or 1)
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
    """Check feeds the way Apple Podcasts, Spotify and Podcast Index do; exit 1 if any has errors.

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
        raise BriefingsError(
            f"{shown(recording)}: not a readable audio recording ({error}) (fix: export it again as WAV, FLAC, MP3 or M4A)"
        ) from None
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
    Needs the optional extra: pip install 'briefings[transcribe]'. Writes
    episodes/SLUG/transcript.vtt marked as a draft; `briefings check` warns until the
    author has corrected it and deleted the draft note.

    Example:

        briefings transcribe child-a
    """
    from briefings.transcribe import draft_vtt, recognise

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
