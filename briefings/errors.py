"""The errors the core raises; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class Severity(Enum):
    """How serious a problem in a submission is: errors block publishing, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem found in a submission, located as precisely as the file format allows."""

    file: str
    message: str
    fix: str
    field: str = ""
    line: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return printable(f"{prefix}{where}:{field} {self.message} (fix: {self.fix})")

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON data, as `--json` prints it."""
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """The problem `to_dict` gave."""
        return cls(**data | {"severity": Severity(data["severity"])})


class BriefingsError(Exception):
    """A problem the user can fix: its `problems`, or one message naming the file or field and the fix."""

    exit_code = 1

    def __init__(self, *problems: Problem | str) -> None:
        # A plain message is for what no Problem describes (an option, a destination): the text is all there is.
        self.problems = tuple(problem for problem in problems if isinstance(problem, Problem))
        super().__init__("\n".join(map(str, problems)))


class UsageError(BriefingsError):
    """The command was called wrongly (a bad option or argument)."""

    exit_code = 2


class ShowError(BriefingsError):
    """The workspace's show.toml is missing or invalid."""


class StorageError(BriefingsError):
    """The publish destination could not be read or written."""


# For safe display only (what an author may not type is validation.INVISIBLE, a different set): what a
# terminal would act on rather than show, escaped when printed. C0 and C1 controls (ESC starts the
# sequences that move the cursor or set the window title; a line break would start a line of its own),
# the Unicode line separators, the bidirectional overrides and isolates that reorder what follows
# (CVE-2021-42574, "Trojan Source"), and lone surrogates (undecodable bytes in a file name), which cannot
# be encoded.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` safe to print on a terminal: each control character shown as its escape (`\\x1b`, `\\n`)."""
    return UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def shown(path: Path) -> str:
    """A path as the user should see it: as the caller gave it (the CLI gives the workspace relative to the
    current directory, when it is inside it), printable."""
    return printable(str(path))


class AudioError(BriefingsError):
    """A recording could not be read, measured or encoded."""

    def __init__(self, path: Path, message: str, fix: str) -> None:
        super().__init__(Problem(shown(path), message, fix))


class ConflictError(StorageError):
    """Someone else changed the destination's manifest since this run read it."""
