"""What `briefings init` writes for the producer to replace: example addresses and placeholder artwork.

A feed published with them points podcast apps and directories at example.org, so a publish to any
destination but the workspace's own preview folder refuses them, and `check` warns.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from briefings.artwork import PLACEHOLDER_MARK
from briefings.config import SHOW_FILE, Show
from briefings.errors import Problem, shown

# Reserved for documentation by RFC 2606 / RFC 6761: nobody can receive mail or serve a feed there.
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def _is_example(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in EXAMPLE_DOMAINS)


def is_placeholder(artwork: Path) -> bool:
    """True for artwork `briefings init` drew (it carries a mark in a JPEG comment)."""
    return artwork.is_file() and PLACEHOLDER_MARK in artwork.read_bytes()


def placeholder_problems(workspace: Path, show: Show) -> list[Problem]:
    """Each example setting or placeholder still in the show: where, what, and the fix."""
    problems = []
    if _is_example(urlsplit(show.url).hostname or ""):
        problems.append(
            Problem(
                SHOW_FILE,
                f"{show.url} is an example address, not where the feed is served",
                "set it to the public address of the bucket or CDN, ending in /",
                field="base_url",
            )
        )
    if _is_example(show.owner.email.rpartition("@")[2]):
        problems.append(
            Problem(
                SHOW_FILE,
                f"{show.owner.email} is an example address, so directories cannot reach you",
                "give the team's address",
                field="owner.email",
            )
        )
    if is_placeholder(workspace / show.artwork):
        problems.append(
            Problem(
                shown(workspace / show.artwork),
                "is the placeholder `briefings init` drew",
                "replace it with the show's artwork, a square RGB JPEG or PNG of 1400 to 3000 pixels",
            )
        )
    return problems
