"""The one channel long work reports through: progress, problems found along the way, uploads."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence


class Reporter:
    """How long work tells people how it goes: the one channel from the library to whoever runs it.

    Every method may be called from any thread. This base says nothing, which is the library's default;
    `briefings.terminal.Display` prints. Subclass it to send progress elsewhere (a log, a web page).
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
