"""Progress of long work on stderr: one live bar on a terminal, plain lines everywhere else."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol, TextIO

from briefings.errors import printable

BAR_WIDTH = 24
# Redraw at most this often: a terminal line per ffmpeg progress report would flicker and cost time.
REDRAW_SECONDS = 0.2


class Tracker(Protocol):
    """Receives the progress of several items processed at once (from any thread)."""

    def start(self, names: Sequence[str]) -> None:
        """The items about to be processed."""
        ...

    def update(self, name: str, fraction: float) -> None:
        """How far along one item is, from 0 to 1."""
        ...

    def finish(self, name: str, message: str) -> None:
        """One item is done; `message` says how it went."""
        ...

    def say(self, message: str) -> None:
        """A line for people, printed without disturbing the bar."""
        ...

    def close(self) -> None:
        """All done: leave the terminal clean."""
        ...


def bar_line(fractions: dict[str, float], done: int, total: int) -> str:
    """The one-line picture of overall progress: a bar, a percentage, and the items in progress."""
    overall = sum(fractions.values()) / total if total else 1.0
    filled = round(overall * BAR_WIDTH)
    active = ", ".join(f"{printable(name)} {fraction:.0%}" for name, fraction in fractions.items() if 0 < fraction < 1)
    line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {overall:4.0%}  {done}/{total} done"
    return f"{line}  {active}" if active else line


class Display:
    """A Tracker writing to `stream`: a redrawn bar when it is a terminal, otherwise a line per event."""

    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.fractions: dict[str, float] = {}
        self.done = 0
        self.drawn = 0.0
        self.lock = threading.Lock()

    def start(self, names: Sequence[str]) -> None:
        """The items about to be processed."""
        with self.lock:
            self.fractions = dict.fromkeys(names, 0.0)
            self.done = 0
            self._draw(force=True)

    def update(self, name: str, fraction: float) -> None:
        """How far along one item is, from 0 to 1."""
        with self.lock:
            if name not in self.fractions:
                return
            first = self.fractions[name] == 0 and fraction > 0
            self.fractions[name] = max(self.fractions[name], min(fraction, 1.0))
            if first and not self.live:
                self._write(f"encoding: {name}")
            self._draw()

    def finish(self, name: str, message: str) -> None:
        """One item is done; `message` says how it went."""
        with self.lock:
            self.fractions[name] = 1.0
            self.done += 1
            self._write(message)
            self._draw(force=True)

    def say(self, message: str) -> None:
        """A line for people, printed without disturbing the bar."""
        with self.lock:
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
