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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from botocore.exceptions import ProfileNotFound
from pydantic import ValidationError

from briefings import __version__, audio, schedule
from briefings.artwork import placeholder
from briefings.build import FEED_KEY, Build, build, staging
from briefings.cdn import invalidate
from briefings.check import check_all, check_show, show_stings
from briefings.config import (
    DEFAULT_OUTPUT,
    EPISODES_DIR,
    SHOW_FILE,
    STATE_DIR,
    AudioSettings,
    PublishSettings,
    Show,
    load_show,
)
from briefings.errors import BriefingsError, Severity, UsageError, printable, shown
from briefings.feed import OPML_KEY
from briefings.feed_validation import FeedReport
from briefings.feed_validation import validate_target as validate_feeds
from briefings.inputs import (
    DigestCache,
    submission_fingerprint,
)
from briefings.placeholders import placeholder_problems
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
from briefings.storage import LocalStorage, S3Storage, Storage, without_credentials
from briefings.submission import BRIEFING_FILE, SLUG_PATTERN, episode_folders, load_submissions, slug_for
from briefings.tagging import duration
from briefings.timecode import clock


@dataclass(frozen=True)
class Options:
    """Options every command shares."""

    workspace: Path
    verbose: bool
    quiet: bool


class PrintableFormatter(logging.Formatter):
    """Log lines (ffmpeg command lines with -v name files) with control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _log_level(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(message)s"))
    logging.basicConfig(handlers=[handler])
    logging.getLogger().setLevel(logging.DEBUG if verbose else logging.WARNING)
    # botocore's debug log prints signed request headers (the access key id, session tokens): keep the
    # AWS libraries quiet even with -v, so credentials never reach a terminal or a CI log.
    for name in ("boto3", "botocore", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _global_after_command(ctx: click.Context, parameter: click.Parameter, value: Path | bool | None) -> None:
    """A global option given after the command: it overrides the same option given before it."""
    if value is None or value is False or ctx.obj is None:
        return
    ctx.obj = replace(ctx.obj, **{str(parameter.name): value})
    if parameter.name == "verbose":
        _log_level(verbose=True)


def global_options(after_command: bool) -> list[click.Option]:
    """-C, -v and -q: on the group, before the command; on every command too, so they also work after it."""
    extra: dict[str, Any] = {"expose_value": False, "callback": _global_after_command} if after_command else {}
    return [
        click.Option(
            ["-C", "workspace"],
            type=click.Path(file_okay=False, path_type=Path),
            default=None if after_command else ".",
            help="Workspace folder (default: the current one).",
            **extra,
        ),
        click.Option(["-v", "--verbose"], is_flag=True, help="Show every ffmpeg command and more detail.", **extra),
        click.Option(["-q", "--quiet"], is_flag=True, help="Print only results and errors.", **extra),
    ]


class BriefingsCommand(click.Command):
    """A command that also accepts the global options after its name (`briefings publish -q`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(global_options(after_command=True))


class BriefingsGroup(click.Group):
    """Turns BriefingsError into a one-line `Error: ...` and its exit code, without a traceback."""

    command_class = BriefingsCommand

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BriefingsError as error:
            print_error(error)
            ctx.exit(error.exit_code)


def print_error(error: BriefingsError) -> None:
    """One `Error:` line on stderr per line of the message; any other control character shown escaped."""
    for line in str(error).split("\n"):
        click.echo(f"Error: {printable(line)}", err=True)


def system_clock() -> datetime:
    """The real current time."""
    return datetime.now(UTC)


def now(rehearsal: bool = False) -> datetime:
    """The current time; BRIEFINGS_NOW (ISO 8601 with timezone) overrides it, but only for a rehearsal.

    A rehearsal (a dry run, `status`) writes nothing; anything else refuses BRIEFINGS_NOW: a real publish
    at a moved clock would release an embargoed briefing early.
    """
    override = os.environ.get("BRIEFINGS_NOW")
    if not override:
        return system_clock()
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


def say(options: Options, message: str) -> None:
    """Progress for people, on stderr; silenced by --quiet."""
    if not options.quiet:
        click.echo(printable(message), err=True)


@click.group(
    cls=BriefingsGroup,
    params=global_options(after_command=False),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="briefings")
@click.pass_context
def main(ctx: click.Context, workspace: Path, verbose: bool, quiet: bool) -> None:
    """Turn case-review briefings into a podcast feed and archive.

    A workspace holds show.toml and episodes/<slug>/ folders, one per briefing.
    The global options -C, -v and -q go before or after the command: `briefings -q publish`
    and `briefings publish -q` are the same.

    Example:

        briefings publish && briefings serve
    """
    stop_on_sigterm()
    _log_level(verbose)
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
    moment: datetime,
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
        moment,
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
    result = _build(options, jobs, now())
    _report_problems(result)
    if as_json:
        click.echo(json.dumps(_summary(result), indent=2))
    else:
        click.echo(
            f"Built {len(result.episodes)} briefing(s), {result.encoded} encoded now, in {shown(staging(options.workspace))}/"
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
@click.argument(
    "sources", metavar="INPUT...", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "output_name",
    metavar="OUTPUT",
    required=True,
    help="The file to write (.mp3 for MP3, .m4a for AAC), or a folder (DIR/) to write each input's output into.",
)
@click.option("-f", "--force", is_flag=True, help="Replace outputs that already exist.")
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
    sources: tuple[Path, ...],
    output_name: str,
    force: bool,
    target_lufs: float | None,
    true_peak: float | None,
    bitrate: int | None,
    channels: str | None,
    trim: bool | None,
    no_stings: bool,
    as_json: bool,
) -> None:
    """Normalise recordings to MP3 (or, named .m4a, AAC).

    Prints each one's loudness and true peak before and after.
    Uses the [audio] settings of the workspace's show.toml when there is one. With -o DIR/ (or
    several inputs), each output is written into DIR, named after its input, in the show's format
    (MP3 unless show.toml says aac). An existing output is kept unless -f is given. The inputs are
    never changed; each output appears only once it is complete and verified.

    Example:

        briefings audio interview.m4a -o interview.mp3 --target-lufs -16

        briefings audio a.wav b.m4a -o normalised/
    """
    output = Path(output_name)
    to_folder = len(sources) > 1 or output_name.endswith(("/", os.sep)) or output.is_dir()
    formats = {extension: name for name, extension in audio.EXTENSIONS.items()}
    if not to_folder:
        if output.resolve() in {source.resolve() for source in sources}:
            raise UsageError(f"-o {printable(output_name)}: is the input (fix: write to a new file)")
        if output.suffix.lower() not in formats:
            raise UsageError(
                f"-o {printable(output_name)}: not an .mp3 or .m4a file name (fix: name it .mp3 for MP3, .m4a for AAC)"
            )
    overrides = {
        "format": None if to_folder else formats[output.suffix.lower()],
        "target_lufs": target_lufs,
        "true_peak": true_peak,
        "bitrate": bitrate,
        "channels": None if channels is None else int(channels),
        "trim_silence": trim,
    }
    settings, stings = _audio_settings(options, overrides)
    if no_stings:
        stings = audio.NO_STINGS
    if to_folder:
        if output.exists() and not output.is_dir():
            raise UsageError(
                f"-o {printable(output_name)}: not a folder (fix: with several inputs, give a folder: -o DIR/)"
            )
        targets = [output / f"{source.stem}{audio.EXTENSIONS[settings.format]}" for source in sources]
    else:
        if not output.parent.is_dir():
            raise UsageError(f"-o {printable(output_name)}: no folder {shown(output.parent)} (fix: create it first)")
        targets = [output]
    _check_outputs(sources, targets, force)
    if to_folder:
        output.mkdir(parents=True, exist_ok=True)
    summaries: list[dict[str, Any]] = []
    failed = False
    for source, target in zip(sources, targets, strict=True):
        try:
            summaries.append(_normalise(options, source, target, settings, stings, as_json))
        except BriefingsError as error:
            if len(sources) == 1:
                raise
            print_error(error)  # one input that cannot be encoded does not stop the others
            failed = True
    if as_json:
        click.echo(json.dumps(summaries[0] if len(sources) == 1 else summaries, indent=2))
    if failed:
        sys.exit(1)


def _check_outputs(sources: tuple[Path, ...], targets: list[Path], force: bool) -> None:
    """Refuse, before encoding anything, outputs that are an input, that two inputs share, or that
    exist already without --force (as ffmpeg-normalize does)."""
    problems = []
    inputs = {source.resolve() for source in sources}
    seen: set[Path] = set()
    for target in targets:
        shown_target = printable(str(target))
        if target.resolve() in inputs:
            raise UsageError(f"-o {shown_target}: is an input (fix: write to a new file)")
        if target.resolve() in seen:
            raise UsageError(
                f"-o {shown_target}: two inputs have this name (fix: rename one, or normalise them separately)"
            )
        seen.add(target.resolve())
        if target.exists() and not force:
            problems.append(f"-o {shown_target}: already exists (fix: add -f to replace it, or choose another name)")
    if problems:
        raise BriefingsError("\n".join(problems))


def _normalise(
    options: Options, source: Path, output: Path, settings: AudioSettings, stings: audio.Stings, as_json: bool
) -> dict[str, Any]:
    """Normalise `source` into `output` (written whole or not at all); print the result, or return it for --json."""
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
        click.echo(f"warning: {printable(warning)}", err=True)
    if not as_json:
        click.echo(
            f"Input:  {shown(source)}: {result.source.integrated:.1f} LUFS, sample peak "
            f"{result.source.true_peak:.1f} dBFS, {result.source_duration:.1f} s"
        )
        click.echo(
            f"Output: {shown(output)}: {result.result.integrated:.1f} LUFS, true peak "
            f"{result.result.true_peak:.1f} dBTP, {length:.1f} s ({'; '.join(audio.describe(result))})"
        )
    return {
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

    session = boto3.session.Session(profile_name=profile, region_name=region)
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


def _chosen(
    flag: str, given: str | None, variables: tuple[str, ...], field: str, configured: str | None
) -> tuple[str | None, str]:
    """A setting's value (a flag, else an environment variable, else show.toml) and how a message names it."""
    if given:
        return given, f"{flag} {without_credentials(given)}"
    for variable in variables:
        if os.environ.get(variable):
            return os.environ[variable], f"{variable}={without_credentials(os.environ[variable])}"
    return configured, f"{SHOW_FILE}: {field}: {without_credentials(configured or '')}"


def _setting_error(where: str, problem: str, flag: bool | None = None) -> BriefingsError:
    """A bad flag is a usage error (exit 2); a bad environment variable or show.toml setting is bad input (1).

    `where` names the setting; it is a flag when it starts with `--`, unless `flag` says otherwise.
    """
    usage = where.startswith("--") if flag is None else flag
    return (UsageError if usage else BriefingsError)(f"{where}: {problem}")


def _endpoint_problem(url: str) -> str | None:
    """What is wrong with an S3 endpoint URL, with the fix; None if nothing is."""
    example = "(fix: e.g. https://minio.example.org:9000)"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it checks the port number
    except ValueError:
        return f"not an http(s) URL {example}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL {example}"
    if parts.username is not None or parts.password is not None:
        return (
            "has a user name or password in it, which S3 does not use (fix: remove them; credentials come from "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws or --profile)"
        )
    return None


def _boto_profile(settings: PublishSettings, destination: Destination) -> str | None:
    """The profile to give boto3: a flag, else show.toml's unless AWS_PROFILE is set (boto3 reads that itself)."""
    return destination.profile or (None if os.environ.get("AWS_PROFILE") else settings.profile)


def _cloudfront_client(profile: str | None) -> Any:
    """A CloudFront client from boto3's standard credential chain."""
    import boto3
    from botocore.config import Config as BotocoreConfig
    from botocore.exceptions import BotoCoreError

    try:
        # CloudFront is global; its API is signed for us-east-1 whatever the bucket's region.
        session = boto3.session.Session(profile_name=profile, region_name="us-east-1")
        config = BotocoreConfig(retries={"mode": "standard"}, user_agent_extra=f"briefings/{__version__}")
        return session.client("cloudfront", config=config)
    except (BotoCoreError, ValueError) as error:
        raise BriefingsError(
            f"--invalidate-cdn: no CloudFront client ({without_credentials(str(error))}) (fix: check the AWS "
            "credentials and settings, as for publishing to S3)"
        ) from None


def _checked_s3_client(settings: PublishSettings, destination: Destination, counter: RequestCounter) -> Any:
    """The S3 client for a destination, after checking each setting, so a bad one is a one-line error."""
    from botocore.exceptions import InvalidRegionError, PartialCredentialsError
    from botocore.utils import validate_region_name

    profile, profile_where = _chosen("--profile", destination.profile, ("AWS_PROFILE",), "profile", settings.profile)
    endpoint, endpoint_where = _chosen(
        "--endpoint-url", destination.endpoint_url, ("AWS_ENDPOINT_URL",), "endpoint_url", settings.endpoint_url
    )
    region, region_where = _chosen(
        "--region", destination.region, ("AWS_REGION", "AWS_DEFAULT_REGION"), "region", settings.region
    )
    problem = _endpoint_problem(endpoint) if endpoint else None
    if problem:
        raise _setting_error(endpoint_where, problem)
    try:
        if region:
            validate_region_name(region)
    except InvalidRegionError:
        raise _setting_error(
            region_where, "not a region name (fix: e.g. eu-west-2; us-east-1 suits most S3-compatible stores)"
        ) from None
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "1")
    if not attempts.isdigit() or int(attempts) < 1:
        raise BriefingsError(f"AWS_MAX_ATTEMPTS={attempts}: not a whole number of attempts (fix: e.g. 5, or unset it)")
    try:
        # Defaults < show.toml < environment < flags: boto3 reads the environment itself.
        return s3_client(
            _boto_profile(settings, destination),
            endpoint if destination.endpoint_url or not os.environ.get("AWS_ENDPOINT_URL") else None,
            region if destination.region or not region_where.startswith("AWS_") else None,
            counter,
        )
    except ProfileNotFound:
        raise _setting_error(
            profile_where,
            f"no such profile in the AWS config files (fix: add it with `aws configure --profile {profile}`, or give another)",
        ) from None
    except PartialCredentialsError as error:
        raise BriefingsError(
            f"AWS credentials: {error.kwargs.get('cred_var', 'a key')} is missing (fix: set both AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or neither and give --profile NAME)"
        ) from None
    except ValueError as error:  # a bad value in the profile: botocore says which
        raise BriefingsError(
            f"AWS settings: {without_credentials(str(error))} (fix: correct it in the AWS_* environment variables or ~/.aws/config)"
        ) from None


def _open_storage(options: Options, show: Show, destination: Destination, counter: RequestCounter) -> Storage:
    """The storage a destination names: a folder, or s3://BUCKET/PREFIX."""
    settings = show.publish
    to = destination.to or settings.to
    match = S3_DESTINATION.match(to)
    if match:
        bucket, prefix = match["bucket"], match["prefix"].strip("/")
        if not BUCKET_NAME.match(bucket):
            raise _setting_error(
                f"{to}" if destination.to else f"{SHOW_FILE}: to: {to}",
                f"`{bucket}` is not a bucket name (fix: give s3://BUCKET/PREFIX, with 3 to 63 lowercase "
                "letters, digits, dots or hyphens in the bucket name)",
                flag=bool(destination.to),
            )
        return S3Storage(
            _checked_s3_client(settings, destination, counter),
            bucket,
            prefix,
            acl=destination.acl or settings.acl,
            transfer_progress=_byte_progress(options),
        )
    if "://" in to:
        raise _setting_error(
            f"--to {to}" if destination.to else f"{SHOW_FILE}: to: {to}",
            f"not a folder or an s3:// address (fix: give a folder, e.g. {'--to ' if destination.to else ''}feed, "
            "or s3://BUCKET/PREFIX)",
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


cdn_option = click.option(
    "--invalidate-cdn",
    "distribution",
    metavar="DISTRIBUTION_ID",
    help="After writing, have this CloudFront distribution drop its copies of every replaced and deleted file.",
)
# Only commands that upload take --acl: `status` reads.
acl_option = click.option(
    "--acl",
    type=click.Choice(["public-read"]),
    help="Make every uploaded object public, for stores that use ACLs rather than a bucket policy.",
)


def _destination(to: str | None, profile: str | None, endpoint_url: str | None, region: str | None,
                 acl: str | None) -> Destination:  # fmt: skip
    return Destination(to, profile, endpoint_url, region, acl)


def _report_invalidation(summary: dict[str, Any]) -> None:
    invalidation = summary.get("cdn_invalidation")
    if invalidation:
        click.echo(
            f"CDN: {invalidation['distribution']} drops its copies of {len(invalidation['paths'])} path(s) "
            f"(invalidation {invalidation['id']})"
        )


def unchanged(done: Release) -> bool:
    """True when a real publish wrote and deleted nothing and refused nothing."""
    summary = done.summary
    return not summary["dry_run"] and not summary["written"] and not summary["deleted"] and not done.refused


def _publish_run(
    options: Options,
    destination: Destination,
    *,
    dry_run: bool,
    jobs: int | None,
    withdraw: tuple[str, ...] = (),
    restore: tuple[str, ...] = (),
    check: Callable[[Manifest, Storage], None] | None = None,
    distribution: str | None = None,
    live: bool = False,
) -> tuple[Storage, Release]:
    """Open the destination and publish to it (see briefings.release); print problems and warnings.

    `live` refuses what `init` wrote for the producer to replace, unless the destination is the
    workspace's own preview folder (a withdrawal, the legal takedown path, is never refused for it).
    """
    moment = now(rehearsal=dry_run)
    show = load_show(options.workspace)
    counter = RequestCounter()
    storage = _open_storage(options, show, destination, counter)
    preview = "://" not in show.publish.to and (options.workspace / show.publish.to).resolve()
    if live and not (isinstance(storage, LocalStorage) and storage.root.resolve() == preview):
        problems = placeholder_problems(options.workspace, show)
        if problems and not dry_run:
            raise BriefingsError("\n".join(problems))
        for problem in problems:
            click.echo(f"warning: {problem}", err=True)

    # With --quiet, problems wait until it is known whether anything changed: a run from cron that changed
    # nothing prints nothing, not the same warnings every few minutes. Errors always print.
    held: list[str] = []

    def tell(line: str) -> None:
        line = printable(line)
        if options.quiet:
            held.append(line)
        else:
            click.echo(line, err=True)

    def make_build(exclude: set[str], guids: dict[str, str], published: dict[str, dict[str, Any]]) -> Build:
        result = _build(options, jobs, moment, exclude, guids, published, storage.read)
        for problem in result.problems:
            tell(str(problem))
        return result

    try:
        done = release(
            options.workspace,
            show,
            storage,
            make_build,
            moment,
            dry_run=dry_run,
            withdraw=withdraw,
            restore=restore,
            check=check,
            progress=lambda message: say(options, message) if options.verbose else None,
            note=lambda message: say(options, message),
            report=tell,
        )
    except BaseException:
        for line in held:
            click.echo(line, err=True)
        raise
    finally:
        if dry_run:
            # A rehearsal (perhaps at a BRIEFINGS_NOW past an embargo) leaves nothing staged: the pages and
            # audio of a briefing still under embargo must not stay in the workspace.
            shutil.rmtree(staging(options.workspace), ignore_errors=True)
    if not unchanged(done):
        for line in held:
            click.echo(line, err=True)
    if done.skipped and not options.quiet:
        for problem in done.summary.get("problems", []):
            click.echo(printable(problem), err=True)  # warnings from the last publish still apply
    if done.warning and not (options.quiet and unchanged(done)):
        click.echo(f"Warning: {printable(done.warning)}", err=True)
    changed = [*done.summary["replace"], *done.summary["deleted"]]
    if distribution and not dry_run and changed:
        # After the publish: a CDN fetching again before the feeds changed would cache the old ones anew.
        client = _cloudfront_client(_boto_profile(show.publish, destination))
        invalidation, paths = invalidate(client, distribution, show.url, changed)
        done.summary["cdn_invalidation"] = {"distribution": distribution, "id": invalidation, "paths": paths}
    done.summary["write_requests"] = counter.writes if isinstance(storage, S3Storage) else getattr(storage, "writes", 0)
    done.summary["requests"] = dict(sorted(counter.counts.items()))
    return storage, done


@main.command()
@destination_options
@acl_option
@cdn_option
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
    distribution: str | None,
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
    storage, done = _publish_run(options, destination, dry_run=dry_run, jobs=jobs, distribution=distribution, live=True)
    summary = done.summary
    if options.quiet and unchanged(done) and not as_json:
        return  # a run from cron with --quiet that changed nothing prints nothing at all
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
        _report_invalidation(summary)
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
    runner = Runner()
    cache = options.workspace / STATE_DIR / "cache" / "analysis"
    # The same checks as publish, in the same code: the show's settings, artwork and stings, then each briefing.
    show = check_show(options.workspace, runner, cache).show
    folders = episode_folders(options.workspace)
    known = {folder.name for folder in folders}
    for unreplaced in placeholder_problems(options.workspace, show):
        click.echo(f"warning: {unreplaced}", err=True)  # publish refuses it for a live destination
    for slug in slugs:
        if slug not in known:
            folder = shown(options.workspace / EPISODES_DIR / slug)
            raise UsageError(
                f"{folder}: no such briefing (fix: choose one of: {', '.join(sorted(known)) or 'none yet'})"
            )
    chosen = [folder for folder in folders if not slugs or folder.name in slugs]
    checked = check_all(chosen, show, runner, cache, jobs or os.cpu_count() or 1)
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
        raise UsageError(
            f"{printable(slug)}: a briefing's name must be lowercase letters, digits and hyphens (fix: use {slug_for(slug)})"
        )
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
@acl_option
@cdn_option
@click.option("--dry-run", is_flag=True, help="Print what would be removed; write nothing.")
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
    distribution: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Take a published briefing down everywhere.

    Feeds and pages first, then its audio and files.
    The withdrawal is recorded in the destination's manifest, so later publishes leave the briefing out
    even while its folder stays in episodes/; `--undo` publishes it again. The rest of the workspace is
    published as it is. Behind CloudFront, `--invalidate-cdn ID` has the CDN drop its year-long copies of
    the audio too: without it, the CDN keeps serving them.

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
        # Recording a briefing that was never published would name it in the public manifest.
        if not undo and slug in previous.withdrawn:
            raise BriefingsError(
                f"{slug}: already withdrawn at {storage.describe()}, nothing to withdraw (fix: none needed; "
                f"`briefings withdraw --undo {slug}` publishes it again)"
            )
        if not undo and slug not in previous.episodes:
            raise BriefingsError(
                f"{slug}: not published at {storage.describe()}, nothing to withdraw (fix: to keep it from being "
                f"published, move episodes/{slug}/ out of the workspace or set its `published` time later)"
            )

    if not SLUG_PATTERN.match(slug):
        raise UsageError(f"{slug!r}: not a briefing's name (fix: give the name of its folder in {EPISODES_DIR}/)")
    destination = _destination(to, profile, endpoint_url, region, acl)
    storage, done = _publish_run(
        options,
        destination,
        dry_run=dry_run,
        jobs=None,
        withdraw=() if undo else (slug,),
        restore=(slug,) if undo else (),
        check=known,
        distribution=distribution,
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
        _report_invalidation(summary)
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
    storage = _open_storage(options, show, _destination(to, profile, endpoint_url, region, None), counter)
    manifest, _ = read_manifest_tagged(storage)
    digests = DigestCache(options.workspace)
    submissions = load_submissions(options.workspace, show)
    fingerprints = {submission.slug: submission_fingerprint(submission.folder, digests) for submission in submissions}
    digests.save()
    states = briefing_states(submissions, manifest, now(rehearsal=True), fingerprints)
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
    width = max([len(printable(item.slug)) for item in states] + [4])
    for item in states:
        state = item.state.value + (f" {item.detail}" if item.detail.startswith("until") else "")
        detail = "" if item.detail.startswith("until") else item.detail
        click.echo(printable(f"{printable(item.slug):<{width}}  {state:<38}  {detail}".rstrip()))
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


# An http(s) address with a host name or IPv4 address, an optional port and a plain path: no user and
# password, query or fragment, which would be copied into every link of the served feed.
PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~%/\-]*)?$")


def _public_url(url: str) -> str:
    """A --public-url checked to be a plain http(s) address, ending in a slash."""
    if not PUBLIC_URL.match(url):
        raise UsageError(
            f"--public-url {printable(url)}: not a plain http(s) address (fix: give the scheme, host, port and "
            "path only, e.g. http://192.168.1.20:8000/)"
        )
    return url if url.endswith("/") else url + "/"


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
@click.option(
    "--public-url",
    metavar="URL",
    help="The address listeners reach this server at, if not the one it listens on (e.g. behind a proxy).",
)
@click.pass_obj
def serve(options: Options, host: str, port: int, folder: Path | None, public_url: str | None) -> None:
    """Preview the published folder over HTTP.

    For a browser or a podcast app.
    The feed is served with this server's address (or --public-url) in its links, so apps play from it.

    Example:

        briefings serve --host 0.0.0.0 --port 8000
    """
    if public_url is not None:
        public_url = _public_url(public_url)
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
    listening = f"http://{address}:{server.server_address[1]}/"
    server.served_base = public_url or listening
    click.echo(f"Serving {shown(root)}/ at {listening}")
    click.echo(f"Subscribe in a podcast app to: {server.served_base}{FEED_KEY}")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command(name="schedule")
@click.option("--every", default="5m", show_default=True, help="How often: minutes dividing the hour, or hours (1h).")
@click.option("--systemd", "kind", flag_value="systemd", default=True, help="Print systemd user units (the default).")
@click.option("--cron", "kind", flag_value="cron", help="Print a crontab line instead.")
@click.option("--install", is_flag=True, help="Write the systemd user units, then say how to start them.")
@click.pass_obj
def schedule_command(options: Options, every: str, kind: str, install: bool) -> None:
    """Publish every few minutes, so each briefing goes out at its embargo time.

    Runs `briefings -C WORKSPACE publish -q`: silent unless something is published or goes wrong.

    Example:

        briefings schedule --every 5m --install
    """
    interval = schedule.parse_every(every)
    if install and kind == "cron":
        raise UsageError(
            "--install writes systemd units (fix: leave out --cron, or add the --cron line with crontab -e)"
        )
    workspace = options.workspace.resolve()
    load_show(workspace)  # a workspace that cannot publish is refused now, not at every run
    command = schedule.publish_command(schedule.briefings_command(), workspace)
    if kind == "cron":
        click.echo(schedule.cron_line(interval, command))
        return
    units = schedule.systemd_units(interval, command, workspace)
    if not install:
        click.echo("\n".join(f"# {name}\n{text}" for name, text in units.items()), nl=False)
        return
    for path in schedule.install(units, schedule.user_unit_folder(os.environ)):
        click.echo(f"Wrote {printable(str(path))}")
    timer = next(name for name in units if name.endswith(".timer"))
    click.echo(f"Start it: systemctl --user daemon-reload && systemctl --user enable --now {timer}")
    click.echo("Keep it running while you are logged out: loginctl enable-linger")
