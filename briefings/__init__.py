"""briefings: turn child-protection case reviews into a podcast every practitioner can subscribe to.

The Python API under the `briefings` command: `Workspace` does what the commands do; `init_workspace`,
`new_briefing` and `draft_transcript` start the files, and every problem the user can fix is a `BriefingsError` carrying `Problem`s.
"""

__version__ = "0.1.0"

# After __version__: the modules below read it.
from briefings.destination import Destination
from briefings.errors import BriefingsError, Problem, Severity
from briefings.progress import Reporter
from briefings.scaffold import draft_transcript, init_workspace, new_briefing
from briefings.workspace import Status, Workspace

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
