"""The output layout: where each published file goes, how it is served, and the order it is uploaded in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from briefings.config import STATE_DIR, Show
from briefings.episode import Episode
from briefings.errors import Problem
from briefings.tagging import MEDIA_TYPES

FEED_KEY = "feed.xml"
# What the staff-only briefings' own search bundle is named by when its private folder is derived (as a
# staff-only briefing's is from its slug, briefings.staff): no slug holds a "/", so no briefing shares it.
PRIVATE_SEARCH_NAME = "search/"
OPML_KEY = "feeds.opml"
CONTENT_TYPES = {
    **MEDIA_TYPES,
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".txt": "text/plain; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".opml": "text/x-opml; charset=utf-8",
    ".svg": "image/svg+xml",
    # Pagefind's search bundle (pagefind/): gzip-compressed data its script fetches and decompresses itself,
    # so served as bytes, never with a Content-Encoding a browser would undo first.
    ".pagefind": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
}
# Pagefind names these parts by their content (a hash), like media, and each result's record by its id for
# the result (search.py), which changes with the record, and the frequent words' files are in a folder named
# by their content (frequent.py); its script, WebAssembly and entry file keep their
# names and change with every index.
HASHED_SEARCH_PARTS = ("pagefind/record/", "pagefind/index/", "pagefind/filter/", "pagefind/common/")
SEARCH_ENTRY_KEY = "pagefind/pagefind-entry.json"
# Media never changes under a key (its name carries its hash); everything else may change at any publish.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"
# Upload order: media and side files, then pages, then feeds, so nothing published names a missing object.
MEDIA, PAGES, FEEDS = 0, 1, 2


def media_key(slug: str, sha256: str, suffix: str) -> str:
    """Where a briefing's tagged audio is published: named by its content, so served as immutable."""
    return f"media/{slug}-{sha256[:8]}{suffix}"


def artwork_key(sha256: str, suffix: str) -> str:
    """Where the show's artwork is published: named by its content, so served as immutable."""
    return f"artwork-{sha256[:8]}{suffix}"


def content_type(key: str) -> str:
    """The MIME type to serve the file at `key` with."""
    return CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")


def cache_control(key: str) -> str:
    """How long browsers and CDNs may keep the file at `key`."""
    named_by_content = key.startswith(("media/", "artwork-", *HASHED_SEARCH_PARTS)) or key.endswith(".pf_meta")
    return IMMUTABLE if named_by_content else SHORT_LIVED


def site_stage(key: str) -> int:
    """The upload stage of a file of the archive: the search's parts before the entry file that names them."""
    return MEDIA if key.startswith("pagefind/") and key != SEARCH_ENTRY_KEY else PAGES


@dataclass(frozen=True)
class Output:
    """One file to publish: where it is staged and how to serve it."""

    key: str
    path: Path
    sha256: str
    size: int
    stage: int

    @property
    def content_type(self) -> str:
        """The MIME type to serve it with."""
        return content_type(self.key)

    @property
    def cache_control(self) -> str:
        """How long browsers and CDNs may keep it."""
        return cache_control(self.key)


@dataclass(frozen=True)
class Build:
    """Everything a build produced and found."""

    show: Show
    episodes: tuple[Episode, ...]
    outputs: tuple[Output, ...]
    problems: tuple[Problem, ...]
    embargoed: tuple[tuple[str, datetime], ...]
    withdrawn: tuple[str, ...]
    encoded: int
    # Published briefings missing from this workspace or refused: rendered from their last published
    # record, their files left as they are.
    kept: tuple[str, ...] = ()
    # Ready briefings with `audience: staff`: left out of every public output.
    staff: tuple[str, ...] = ()
    # Those of them built for the private feeds, and their files (staged apart, under unguessable keys).
    staff_episodes: tuple[Episode, ...] = ()
    private_outputs: tuple[Output, ...] = ()
    # Warnings about recordings encoded by this build (also among `problems`): news once, not on every run.
    encode_warnings: tuple[Problem, ...] = ()
    # Briefings harvested from other shows, listed in the feeds and the archive; none of their files is here.
    harvested: tuple[Episode, ...] = ()

    @property
    def retained(self) -> tuple[str, ...]:
        """Keys of published files the kept briefings still use."""
        kept = set(self.kept)
        return tuple(key for episode in self.episodes if episode.slug in kept for key in episode.files)


def staging(workspace: Path) -> Path:
    """The folder a build stages the complete site in."""
    return workspace / STATE_DIR / "build"


def private_staging(workspace: Path) -> Path:
    """The folder a build stages staff-only briefings' files in, apart from the public site."""
    return workspace / STATE_DIR / "build-private"
