"""Render the podcast feed: RSS 2.0 with Apple's itunes tags, Podcasting 2.0 and Podlove chapters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from jinja2 import Environment, PackageLoader, select_autoescape

from briefings import __version__
from briefings.config import Show
from briefings.episode import Episode, podcast_guid

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
# Apple's limit for channel and item descriptions.
MAX_DESCRIPTION_BYTES = 4000

_templates = Environment(loader=PackageLoader("briefings"), autoescape=select_autoescape(default=True))


def _true_false(value: bool) -> str:
    # Apple's current spec wants "true"/"false"; feedgen 1.0 only writes the deprecated "yes"/"no".
    return "true" if value else "false"


class ShowExtension(BaseExtension):  # type: ignore[misc]
    """Channel tags feedgen lacks: itunes:explicit true/false and the Podcasting 2.0 namespace."""

    def __init__(self) -> None:
        self.explicit = False
        self.guid = ""
        self.locked_owner = ""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "psc": PSC_NS}

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = _true_false(self.explicit)
        xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        # podcast:locked asks other hosts not to import the show; owner is the email that may unlock it.
        xml_elem(f"{{{PODCAST_NS}}}locked", channel, owner=self.locked_owner).text = "yes"
        return feed


class EpisodeExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item tags feedgen lacks: itunes:explicit, transcripts, chapters (JSON and Podlove), person."""

    def __init__(self) -> None:
        self.explicit = False
        self.chapters: Sequence[tuple[float, str]] = ()
        self.chapters_url = ""
        self.transcript: tuple[str, str] | None = None
        self.person = ""

    def extend_rss(self, entry: Any) -> Any:
        xml_elem(f"{{{ITUNES_NS}}}explicit", entry).text = _true_false(self.explicit)
        if self.transcript:
            url, kind = self.transcript
            attributes = {"url": url, "type": kind}
            if kind in ("text/vtt", "application/x-subrip"):
                attributes["rel"] = "captions"
            xml_elem(f"{{{PODCAST_NS}}}transcript", entry, **attributes)
        if self.chapters_url:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry, url=self.chapters_url, type="application/json+chapters")
        # The author presents the briefing: "host" in the Podcasting 2.0 person taxonomy.
        xml_elem(f"{{{PODCAST_NS}}}person", entry, role="host", group="cast").text = self.person
        if self.chapters:
            # Podlove Simple Chapters: what gPodder and podcastparser read.
            psc = xml_elem(f"{{{PSC_NS}}}chapters", entry, version="1.2")
            for start, title in self.chapters:
                xml_elem(f"{{{PSC_NS}}}chapter", psc, start=npt(start), title=title)
        return entry


def npt(seconds: float) -> str:
    """A Normal Play Time (hh:mm:ss.mmm) as Podlove Simple Chapters use."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"


def plain_description(episode: Episode) -> str:
    """The summary and key lessons as plain text, within Apple's 4000-byte limit."""
    briefing = episode.briefing
    lessons = "\n".join(f"{number}. {lesson}" for number, lesson in enumerate(briefing.key_lessons, 1))
    text = f"{briefing.summary}\n\nKey lessons for all professionals:\n{lessons}\n\nFull report: {briefing.review.report_url}"
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_DESCRIPTION_BYTES:
        return text
    return encoded[: MAX_DESCRIPTION_BYTES - 3].decode("utf-8", errors="ignore") + "..."


def chapters_json(episode: Episode) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    chapters = [{"startTime": start, "title": title} for start, title in episode.chapter_list]
    return json.dumps({"version": "1.2.0", "chapters": chapters}, ensure_ascii=False, indent=2).encode("utf-8")


def render_feed(show: Show, episodes: Sequence[Episode], artwork_key: str, feed_key: str = "feed.xml") -> bytes:
    """The RSS feed of `episodes` (newest first) as UTF-8 bytes."""
    base = show.url
    feed_url = base + feed_key
    generator = FeedGenerator()
    generator.load_extension("podcast")
    generator.register_extension("briefings", ShowExtension, EpisodeExtension)
    generator.title(show.title)
    generator.description(show.description)
    # feedgen uses the last non-self link as the channel's <link>: the archive's home page.
    generator.link(href=feed_url, rel="self")
    generator.link(href=base, rel="alternate")
    generator.language(show.language)
    generator.generator("briefings", __version__)
    if show.copyright:
        generator.copyright(show.copyright)
    generator.image(base + artwork_key, title=show.title, link=base)
    generator.podcast.itunes_image(base + artwork_key)
    generator.podcast.itunes_author(show.author)
    generator.podcast.itunes_category(show.category)
    generator.podcast.itunes_owner(name=show.owner.name, email=show.owner.email)
    generator.podcast.itunes_type("episodic")
    generator.podcast.itunes_summary(show.description)
    generator.briefings.explicit = show.explicit
    generator.briefings.guid = podcast_guid(feed_url)
    generator.briefings.locked_owner = show.owner.email
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    # lastBuildDate defaults to now; a fixed value keeps an unchanged feed byte-identical, so
    # publishing nothing new uploads nothing.
    if ordered:
        generator.lastBuildDate(ordered[0].published)
    # feedgen adds entries to the top, so add oldest first to get newest first.
    for episode in reversed(ordered):
        briefing = episode.briefing
        entry = generator.add_entry()
        entry.guid(episode.guid, permalink=False)
        entry.title(briefing.title)
        entry.link(href=base + episode.page_key)
        entry.description(plain_description(episode))
        entry.content(_templates.get_template("feed_item.html").render(episode=episode), type="CDATA")
        entry.enclosure(base + episode.media_key, str(episode.media_size), "audio/mpeg")
        entry.pubDate(episode.published)
        entry.podcast.itunes_duration(round(episode.duration))
        entry.podcast.itunes_author(briefing.author.name)
        entry.podcast.itunes_episode_type("full")
        if briefing.episode:
            entry.podcast.itunes_episode(briefing.episode)
        entry.podcast.itunes_summary(plain_description(episode))
        extension = entry.briefings
        extension.explicit = briefing.explicit
        extension.chapters = episode.chapter_list
        extension.chapters_url = base + episode.chapters_key if episode.chapters_key else ""
        if episode.transcript_key and episode.transcript_type:
            extension.transcript = (base + episode.transcript_key, episode.transcript_type)
        extension.person = briefing.author.name
    return bytes(generator.rss_str(pretty=True))
