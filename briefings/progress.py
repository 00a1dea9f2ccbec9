"""Progress of long work on stderr: one live bar on a terminal, plain lines everywhere else."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

import click

from briefings.errors import printable

BAR_WIDTH = 24
# Redraw at most this often: a terminal line per ffmpeg progress report would flicker and cost time.
REDRAW_SECONDS = 0.2


class Reporter:
    """How long work tells people how it goes: the one channel from the library to whoever runs it.

    Every method may be called from any thread. This base says nothing, which is the library's default;
    `Display` prints. Subclass it to send progress elsewhere (a log, a web page).
    """

    def step(self, message: str) -> None:
        """A line of progress: what is being done now ("processing 3 recording(s)")."""

    def detail(self, message: str) -> None:
        """A finer line of progress (each file uploaded), for a verbose run."""

    def problem(self, line: str) -> None:
        """A problem found along the way (an error refusing one briefing, or a warning), as one line."""

    def start(self, names: Sequence[str]) -> None:
        """Several items (recordings) are about to be processed at once."""

    def update(self, name: str, fraction: float) -> None:
        """How far along one item is, from 0 to 1."""

    def finish(self, name: str, message: str) -> None:
        """One item is done; `message` says how it went."""

    def close(self) -> None:
        """The items are all done."""

    @contextlib.contextmanager
    def transfer(self, key: str, size: int) -> Iterator[Callable[[int], None] | None]:
        """Progress of one large upload: the context gives a function taking each chunk's size in bytes."""
        yield None


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
