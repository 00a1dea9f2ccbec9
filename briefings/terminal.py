"""Talking to a terminal: progress bars and lines, log and error lines with control characters escaped, and the
click classes that let the global options (-C, -v, -q) come before or after the command."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import click

from briefings.destination import Destination
from briefings.errors import BriefingsError, printable
from briefings.progress import Reporter

BAR_WIDTH = 24
# Redraw at most this often: a terminal line per ffmpeg progress report would flicker and cost time.
REDRAW_SECONDS = 0.2


def bar_line(fractions: dict[str, float], done: int, total: int) -> str:
    """The one-line picture of overall progress: a bar, a percentage, and the items in progress."""
    overall = sum(fractions.values()) / total if total else 1.0
    filled = round(overall * BAR_WIDTH)
    active = ", ".join(f"{printable(name)} {fraction:.0%}" for name, fraction in fractions.items() if 0 < fraction < 1)
    line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {overall:4.0%}  {done}/{total} done"
    return f"{line}  {active}" if active else line


class Display(Reporter):
    """A Reporter writing to `stream`: a redrawn bar when it is a terminal, otherwise a line per event.

    `quiet` keeps it to problems; `verbose` adds the details; with `hold`, problems wait in `held` until the
    caller knows whether to show them (a quiet publish from cron that changed nothing prints nothing).
    """

    def __init__(
        self,
        stream: TextIO,
        live: bool | None = None,
        *,
        quiet: bool = False,
        verbose: bool = False,
        hold: bool = False,
    ) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.quiet, self.verbose, self.hold = quiet, verbose, hold
        self.held: list[str] = []
        self.fractions: dict[str, float] = {}
        self.done = 0
        self.drawn = 0.0
        self.lock = threading.Lock()

    def step(self, message: str) -> None:
        """A line for people, printed without disturbing the bar (not when quiet)."""
        if not self.quiet:
            with self.lock:
                self._write(message)
                self._draw(force=True)

    def detail(self, message: str) -> None:
        """A finer line, printed only when verbose."""
        if self.verbose:
            self.step(message)

    def problem(self, line: str) -> None:
        """A problem: printed now, or held."""
        with self.lock:
            if self.hold:
                self.held.append(line)
            else:
                self._write(line)
                self._draw(force=True)

    def release_held(self) -> None:
        """Print the problems held back."""
        with self.lock:
            for line in self.held:
                self._write(line)
            self.held = []

    @contextlib.contextmanager
    def transfer(self, key: str, size: int) -> Iterator[Callable[[int], None] | None]:
        """A progress bar for one large upload (none when quiet)."""
        if self.quiet:
            yield None
            return
        lock = threading.Lock()
        with click.progressbar(length=size, label=f"uploading {key}", file=self.stream) as bar:

            def advance(amount: int) -> None:
                # The transfer manager reports from its worker threads.
                with lock:
                    bar.update(amount)

            yield advance

    def start(self, names: Sequence[str]) -> None:
        """The items about to be processed."""
        if self.quiet:
            return
        with self.lock:
            self.fractions = dict.fromkeys(names, 0.0)
            self.done = 0
            self._draw(force=True)

    def update(self, name: str, fraction: float) -> None:
        """How far along one item is, from 0 to 1."""
        with self.lock:
            if name not in self.fractions:  # not started, or quiet
                return
            first = self.fractions[name] == 0 and fraction > 0
            self.fractions[name] = max(self.fractions[name], min(fraction, 1.0))
            if first and not self.live:
                self._write(f"encoding: {name}")
            self._draw()

    def finish(self, name: str, message: str) -> None:
        """One item is done; `message` says how it went."""
        if self.quiet:
            return
        with self.lock:
            self.fractions[name] = 1.0
            self.done += 1
            self._write(message)
            self._draw(force=True)

    def close(self) -> None:
        """All done: leave the terminal clean."""
        with self.lock:
            if self.live and self.fractions:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self.fractions = {}

    def _write(self, message: str) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
        self.stream.write(printable(message) + "\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.live or not self.fractions:
            return
        now = time.monotonic()
        if not force and now - self.drawn < REDRAW_SECONDS:
            return
        self.drawn = now
        self.stream.write("\r\x1b[K" + bar_line(self.fractions, self.done, len(self.fractions)))
        self.stream.flush()


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


def log_level(verbose: bool) -> None:
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
    ctx.obj = replace(ctx.obj, **{str(parameter.name): relative(value) if isinstance(value, Path) else value})
    if parameter.name == "verbose":
        log_level(verbose=True)


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


def relative(path: Path) -> Path:
    """`path` relative to the current directory when it is inside it, else as given: the library shows
    paths as it is given them, so the workspace is made relative here, once."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def shown(path: Path) -> str:
    """A path as the user should see it (relative to the current directory when inside it), printable."""
    return printable(str(relative(path)))


def print_error(error: BriefingsError) -> None:
    """One `Error:` line on stderr per line of the message; any other control character shown escaped."""
    for line in str(error).split("\n"):
        click.echo(f"Error: {printable(line)}", err=True)


# Options several commands share.
jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Recordings processed at once (default: one per CPU core)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout, for scripts.")


def destination_options(acl: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options that choose and reach a destination (and, for commands that upload, --acl), given to the
    command as one `destination`: shared by publish, withdraw and status."""
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
    if acl:
        options.append(
            click.option(
                "--acl",
                type=click.Choice(["public-read"]),
                help="Make every uploaded object public, for stores that use ACLs rather than a bucket policy.",
            )
        )

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, to: str | None, profile: str | None, endpoint_url: str | None, region: str | None,
                acl: str | None = None, **kwargs: Any) -> Any:  # fmt: skip
            return command(*args, destination=Destination(to, profile, endpoint_url, region, acl), **kwargs)

        for option in reversed(options):
            run = option(run)
        return run

    return decorate


cdn_option = click.option(
    "--invalidate-cdn",
    "distribution",
    metavar="DISTRIBUTION_ID",
    help="After writing, have this CloudFront distribution drop its copies of every replaced and deleted file.",
)
