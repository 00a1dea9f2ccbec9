"""briefings: turn child-protection case reviews into a podcast every practitioner can subscribe to.

The Python API under the `briefings` command: `Workspace` does what the commands do; `init_workspace`,
`new_briefing` and `draft_transcript` start the files; every problem the user can fix is a `BriefingsError`
carrying `Problem`s.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The API is imported when first used (PEP 562), so `import briefings.audio` alone stays light: a tool
# that only normalises audio does not load the feed, site and S3 code.
_EXPORTS = {
    "BriefingsError": "briefings.errors",
    "Destination": "briefings.destination",
    "Problem": "briefings.errors",
    "Reporter": "briefings.progress",
    "Severity": "briefings.errors",
    "Status": "briefings.workspace",
    "Workspace": "briefings.workspace",
    "draft_transcript": "briefings.scaffold",
    "init_workspace": "briefings.scaffold",
    "new_briefing": "briefings.scaffold",
}
__all__ = [
    "BriefingsError",
    "Destination",
    "Problem",
    "Reporter",
    "Severity",
    "Status",
    "Workspace",
    "__version__",
    "draft_transcript",
    "init_workspace",
    "new_briefing",
]

if TYPE_CHECKING:
    from briefings.destination import Destination
    from briefings.errors import BriefingsError, Problem, Severity
    from briefings.progress import Reporter
    from briefings.scaffold import draft_transcript, init_workspace, new_briefing
    from briefings.workspace import Status, Workspace


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'briefings' has no attribute {name!r}")
