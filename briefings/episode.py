"""A processed briefing ready to render: the submission's metadata plus its published files."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from briefings.submission import Briefing


@dataclass(frozen=True)
class Timeline:
    """Where moments of the author's recording land in the published file.

    The audio stage cuts leading silence and may play an intro sting first, so a chapter the author
    marked at 1:00 is heard at 1:00 - trimmed_start + intro. Tags, feed and pages all place chapters
    through this one record.
    """

    trimmed_start: float = 0.0
    intro: float = 0.0
    kept: float | None = None

    def place(self, seconds: float) -> float:
        """The time in the published file of `seconds` into the original recording (to the millisecond)."""
        moved = max(0.0, seconds - self.trimmed_start)
        if self.kept is not None:
            moved = min(moved, self.kept)
        return round(self.intro + moved, 3)


@dataclass(frozen=True)
class Episode:
    """One briefing as published: metadata, the keys of its files, and measured facts about its audio."""

    slug: str
    guid: str
    briefing: Briefing
    media_key: str
    media_size: int
    duration: float
    page_key: str
    chapters_key: str | None = None
    transcript_key: str | None = None
    transcript_type: str | None = None
    timeline: Timeline = Timeline()

    @property
    def published(self) -> datetime:
        """When the briefing was (or will be) first public: its embargo time."""
        return self.briefing.review.published

    @property
    def chapter_list(self) -> list[tuple[float, str]]:
        """Chapters as (start in seconds of the published file, title) pairs."""
        return chapter_list(self.briefing, self.timeline)


def chapter_list(briefing: Briefing, timeline: Timeline) -> list[tuple[float, str]]:
    """A briefing's chapters as (start in seconds of the published file, title) pairs."""
    return [(timeline.place(chapter.start), chapter.title) for chapter in briefing.chapters]


def episode_guid(show_id: uuid.UUID, slug: str) -> str:
    """A briefing's permanent GUID: derived from the show's id and the folder name, so it never changes
    when the metadata is edited or the recording re-encoded (Apple: apps treat a new GUID as a new episode)."""
    return str(uuid.uuid5(show_id, slug))


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 `podcast:guid`: UUIDv5 of the feed URL without scheme or trailing slash."""
    namespace = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(namespace, bare))
