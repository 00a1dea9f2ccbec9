"""A processed briefing ready to render: the submission's metadata plus its published files."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from briefings.submission import Briefing
from briefings.tagging import MEDIA_TYPES

# What a publish manifest keeps of each episode, besides its GUID, so the episode can be rendered again
# when its submission is absent or refused: the last published version stays live.
RECORD_FIELDS = ("media_key", "media_size", "duration", "page_key", "chapters_key", "transcript_key", "transcript_type", "transcript_html_key")  # fmt: skip


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
class Origin:
    """Where a harvested briefing comes from: its source show, and its own page and audio there."""

    feed: str
    show_title: str
    show_url: str
    page: str
    media_url: str
    media_type: str


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
    # An HTML rendering of a timed (VTT or SRT) transcript, for apps that show text rather than captions.
    transcript_html_key: str | None = None
    timeline: Timeline = Timeline()
    # Set for a briefing harvested from another show: its audio stays there (media_key is empty).
    origin: Origin | None = None

    def media_url(self, base: str) -> str:
        """The audio's address: `base` (the show's URL, or a page's way back to the site root) and its key,
        or the source's own address for a harvested briefing."""
        return self.origin.media_url if self.origin is not None else base + self.media_key

    @property
    def media_type(self) -> str:
        """The audio's MIME type, as the feed's enclosure gives it."""
        return self.origin.media_type if self.origin is not None else MEDIA_TYPES[PurePosixPath(self.media_key).suffix]

    @property
    def published(self) -> datetime:
        """When the briefing was (or will be) first public: its embargo time."""
        return self.briefing.review.published

    @property
    def chapter_list(self) -> list[tuple[float, str]]:
        """Chapters as (start in seconds of the published file, title) pairs."""
        return chapter_list(self.briefing, self.timeline)

    @property
    def files(self) -> tuple[str, ...]:
        """The keys of the episode's own published files (not its page, which is rendered each time)."""
        keys = (self.media_key, self.chapters_key, self.transcript_key, self.transcript_html_key)
        return tuple(key for key in keys if key)

    def record(self) -> dict[str, Any]:
        """The episode as the publish manifest keeps it."""
        fields = {name: getattr(self, name) for name in RECORD_FIELDS}
        return {"briefing": self.briefing.model_dump(mode="json"), "timeline": asdict(self.timeline), **fields}


def chapter_list(briefing: Briefing, timeline: Timeline) -> list[tuple[float, str]]:
    """A briefing's chapters as (start in seconds of the published file, title) pairs."""
    return [(timeline.place(chapter.start), chapter.title) for chapter in briefing.chapters]


def from_record(slug: str, record: Mapping[str, Any]) -> Episode | None:
    """The episode a manifest recorded, or None when the record is from before episodes were kept in full."""
    if "briefing" not in record or "guid" not in record:
        return None
    try:
        briefing = Briefing.model_validate(record["briefing"])
        fields: dict[str, Any] = {name: record.get(name) for name in RECORD_FIELDS}
        timeline = Timeline(**record.get("timeline", {}))
        return Episode(slug=slug, guid=str(record["guid"]), briefing=briefing, timeline=timeline, **fields)
    except (ValidationError, TypeError):
        return None


def episode_guid(show_id: uuid.UUID, slug: str) -> str:
    """A briefing's permanent GUID: derived from the show's id and the folder name, so it never changes
    when the metadata is edited or the recording re-encoded (Apple: apps treat a new GUID as a new episode)."""
    return str(uuid.uuid5(show_id, slug))


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 `podcast:guid`: UUIDv5 of the feed URL without scheme or trailing slash."""
    namespace = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(namespace, bare))
