"""The `briefings` command line: parse options, call the library, print, and translate errors."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from briefings import __version__, audio
from briefings.artwork import placeholder
from briefings.build import FEED_KEY, Build, build, show_stings
from briefings.config import DEFAULT_OUTPUT, EPISODES_DIR, SHOW_FILE, STATE_DIR, AudioSettings, Show, load_show
from briefings.errors import BriefingsError, Severity, UsageError, shown
from briefings.progress import Display
from briefings.publish import apply, plan, read_manifest
from briefings.runner import Runner
from briefings.serve import PreviewServer
from briefings.storage import LocalStorage
from briefings.tagging import duration


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
    """Create a new workspace in DIRECTORY: show.toml, placeholder artwork, episodes/.

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
    # Progress goes to stderr: a live bar on a terminal, a line per briefing in logs; --quiet silences it.
    display = None if options.quiet else Display(sys.stderr)
    return build(
        options.workspace,
        runner,
        now(),
        jobs=jobs or os.cpu_count() or 1,
        progress=lambda message: say(options, message) if display is None else display.say(message),
        tracker=display,
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
    """Process every ready briefing and stage the feed and pages, without publishing.

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
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The MP3 to write."
)
@click.option("--target-lufs", type=float, help="Integrated loudness to reach (default: show.toml, else -16).")
@click.option("--true-peak", type=float, help="True-peak ceiling in dBTP (default: show.toml, else -1).")
@click.option("--bitrate", type=int, help="MP3 bit rate in kbps (default: show.toml, else 96).")
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
    """Normalise one recording to an MP3, printing its loudness and true peak before and after.

    Uses the [audio] settings of the workspace's show.toml when there is one. The input is never
    changed; the output appears only once it is complete and verified.

    Example:

        briefings audio interview.m4a -o interview.mp3 --target-lufs -16
    """
    overrides = {
        "target_lufs": target_lufs,
        "true_peak": true_peak,
        "bitrate": bitrate,
        "channels": None if channels is None else int(channels),
        "trim_silence": trim,
    }
    settings, stings = _audio_settings(options, overrides)
    if no_stings:
        stings = audio.NO_STINGS
    if output.resolve() == source.resolve():
        raise UsageError(f"-o {output}: is the input (fix: write the MP3 to a new file)")
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
    """Build every ready briefing and publish the changes: audio, pages, then the feed.

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
    if not dry_run:
        apply(changes, storage, progress=lambda message: say(options, message) if options.verbose else None)
    summary = _summary(result) | {
        "destination": storage.describe(),
        "dry_run": dry_run,
        "written": [output.key for output in changes.writes],
        "unchanged": len(changes.unchanged),
        "deleted": list(changes.delete),
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
        if to is None:
            click.echo("Preview it: briefings serve")
    if _errors(result):
        click.echo("Some briefings were refused; fix the errors above and publish again.", err=True)
        sys.exit(1)


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
    """Serve the published folder over HTTP to preview it in a browser or podcast app.

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
