"""Render the podcast feeds: RSS 2.0 with Apple's itunes tags, Podcasting 2.0 and Podlove chapters (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree

from briefings import __version__
from briefings.config import MAX_DESCRIPTION_BYTES, Show, url_slug
from briefings.episode import Episode, podcast_guid
from briefings.layout import FEED_KEY, OPML_KEY
from briefings.namespace import (
    CATALOGUE_KEY,
    NAMESPACE,
    PREFIX,
    THEME_DOMAIN,
    add_item,
    add_show,
    render_catalogue,
)
from briefings.submission import Briefing, ReviewType
from briefings.timecode import timestamp
from briefings.transcript import HTML_TYPE, TIMED_TYPES

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
ELLIPSIS = "\u2026"
# When a description is too long, the summary is shortened first, but not below this many bytes.
FIRST_FLOOR_BYTES = 400

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
        self.undated = False
        self.hubs: Sequence[str] = ()
        self.publisher = ""
        self.catalogue_url = ""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "psc": PSC_NS, PREFIX: NAMESPACE}

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        if self.undated:
            # feedgen stamps lastBuildDate with the current time; a feed without briefings has no date of its
            # own, and leaving it out (it is optional in RSS 2.0) keeps the feed byte-identical between runs.
            for element in channel.findall("lastBuildDate"):
                channel.remove(element)
        xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = _true_false(self.explicit)
        xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        # podcast:locked asks other hosts not to import the show; owner is the email that may unlock it.
        xml_elem(f"{{{PODCAST_NS}}}locked", channel, owner=self.locked_owner).text = "yes"
        # WebSub discovery (https://www.w3.org/TR/websub/#discovery): the hubs beside rel="self", the
        # address a subscriber uses; a hub named here is pinged after every change (briefings.push).
        for hub in self.hubs:
            xml_elem(f"{{{ATOM_NS}}}link", channel, rel="hub", href=hub)
        add_show(channel, self.publisher, self.catalogue_url)
        return feed


class EpisodeExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item tags feedgen lacks: itunes:explicit, transcripts, chapters (JSON and Podlove), person, location,
    and the review behind the briefing (briefings.namespace)."""

    def __init__(self) -> None:
        self.explicit = False
        self.chapters: Sequence[tuple[float, str]] = ()
        self.chapters_url = ""
        self.transcripts: list[tuple[str, str]] = []
        self.person = ""
        self.briefing: Briefing | None = None

    def extend_rss(self, entry: Any) -> Any:
        xml_elem(f"{{{ITUNES_NS}}}explicit", entry).text = _true_false(self.explicit)
        for url, kind in self.transcripts:
            attributes = {"url": url, "type": kind}
            # Podcasting 2.0 transcript tag: rel="captions" marks timed text apps can show as captions.
            if kind in TIMED_TYPES:
                attributes["rel"] = "captions"
            xml_elem(f"{{{PODCAST_NS}}}transcript", entry, **attributes)
        if self.chapters_url:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry, url=self.chapters_url, type="application/json+chapters")
        # The author presents the briefing. The spec's defaults (role "host", group "cast") say exactly that,
        # and without attributes feedparser keeps the name (it drops the text of tags that have attributes).
        xml_elem(f"{{{PODCAST_NS}}}person", entry).text = self.person
        if self.briefing is not None:
            # Podcasting 2.0 location: a place's name alone is allowed; the region the review's partnership serves.
            xml_elem(f"{{{PODCAST_NS}}}location", entry).text = self.briefing.review.region
            add_item(entry, self.briefing)
        if self.chapters:
            # Podlove Simple Chapters: what gPodder and podcastparser read.
            psc = xml_elem(f"{{{PSC_NS}}}chapters", entry, version="1.2")
            for start, title in self.chapters:
                xml_elem(f"{{{PSC_NS}}}chapter", psc, start=timestamp(start), title=title)
        return entry


def shorten(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8, ending in an ellipsis when cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - len(ELLIPSIS.encode("utf-8"))
    if room <= 0:
        return ""
    return encoded[:room].decode("utf-8", errors="ignore").rstrip() + ELLIPSIS


def _capped(parts: Sequence[str], cap: int, which: Collection[int]) -> list[str]:
    return [shorten(part, cap) if index in which else part for index, part in enumerate(parts)]


def _largest_cap(
    parts: Sequence[str], render: Callable[[list[str]], str], limit: int, which: Collection[int], floor: int
) -> list[str]:
    """`parts` with those in `which` cut to the largest common size (at least `floor` bytes) that fits."""
    low, high = floor, max((len(parts[index].encode("utf-8")) for index in which), default=floor)
    if len(render(_capped(parts, low, which)).encode("utf-8")) > limit:
        return _capped(parts, low, which)
    while low < high:  # binary search: the rendered size only grows with the cap
        middle = (low + high + 1) // 2
        if len(render(_capped(parts, middle, which)).encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    return _capped(parts, low, which)


def fit(
    texts: Sequence[str],
    render: Callable[[list[str]], str],
    limit: int = MAX_DESCRIPTION_BYTES,
    first: Collection[int] = (),
) -> str:
    """`render(texts)` within `limit` UTF-8 bytes (Apple's limit), shortening texts until it fits.

    The texts at the indexes in `first` (the summary) are shortened first, down to a few sentences;
    then every text is cut to one common length, so each key lesson keeps its beginning.
    """
    parts = list(texts)
    if len(render(parts).encode("utf-8")) <= limit:
        return render(parts)
    if first:
        parts = _largest_cap(parts, render, limit, first, FIRST_FLOOR_BYTES)
        if len(render(parts).encode("utf-8")) <= limit:
            return render(parts)
    # If even empty texts do not fit, this returns the shortest possible; `briefings validate` reports it.
    return render(_largest_cap(parts, render, limit, range(len(parts)), 0))


def plain_description(episode: Episode) -> str:
    """The summary and key lessons as plain text, within Apple's 4000-byte limit."""
    briefing = episode.briefing
    report = str(briefing.review.report_url)

    def render(parts: list[str]) -> str:
        summary, *lessons = parts
        numbered = "\n".join(f"{number}. {lesson}" for number, lesson in enumerate(lessons, 1))
        return f"{summary}\n\nKey lessons for all professionals:\n{numbered}\n\nFull report: {report}"

    return fit([briefing.summary, *briefing.key_lessons], render, first=[0])


def html_description(episode: Episode) -> str:
    """The `content:encoded` HTML: summary, key lessons as a list, the review's details and the report link."""
    briefing, review = episode.briefing, episode.briefing.review
    template = _templates.get_template("feed_item.html")
    lessons = len(briefing.key_lessons)

    def render(parts: list[str]) -> str:
        summary, subject, partnership, region, author_name, author_role = parts[:6]
        return template.render(
            summary=summary,
            lessons=parts[6 : 6 + lessons],
            review_type=review.type.value,
            subject=subject,
            partnership=partnership,
            region=region,
            author_name=author_name,
            author_role=author_role,
            report_url=str(review.report_url),
        )

    texts = [briefing.summary, review.subject, review.partnership, review.region]
    return fit([*texts, briefing.author.name, briefing.author.role, *briefing.key_lessons], render, first=[0])


def chapters_json(episode: Episode) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    chapters = [{"startTime": start, "title": title} for start, title in episode.chapter_list]
    return json.dumps({"version": "1.2.0", "chapters": chapters}, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass(frozen=True)
class FeedSpec:
    """One feed to publish: where it goes, what it is called, and its briefings (newest first)."""

    key: str
    title: str
    description: str
    episodes: tuple[Episode, ...]


def theme_feed_key(theme: str) -> str:
    """Where a theme's feed is published, e.g. `feeds/domestic-abuse.xml`."""
    return f"feeds/{url_slug(theme)}.xml"


def review_type_feed_key(review_type: ReviewType) -> str:
    """Where a review type's feed is published, e.g. `feeds/review-type/serious-case-review.xml`."""
    return f"feeds/review-type/{url_slug(review_type.value)}.xml"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def feed_specs(show: Show, episodes: Sequence[Episode]) -> list[FeedSpec]:
    """Every feed of the show: the main feed, one per theme, and one per review type.

    The main feed keeps only the newest `feeds.main_feed_items` briefings so that apps load it quickly,
    and each theme and review-type feed the newest `feeds.theme_feed_items` (more than a local show ever
    has on one theme; a national archive has thousands); the archive and the catalogue list every one.
    """
    ordered = tuple(sorted(episodes, key=lambda episode: episode.published, reverse=True))
    specs = [FeedSpec(FEED_KEY, show.title, show.description, ordered[: show.feeds.main_feed_items])]

    def described(what: str) -> str:
        return fit([what, show.description], lambda parts: f"{parts[0]} {parts[1]}", first=[1])

    # One feed for every theme in show.toml and every review type, even before its first briefing (or
    # after its last is withdrawn), so a subscribed address never stops answering.
    cap = show.feeds.theme_feed_items
    for theme in show.themes:
        chosen = tuple(episode for episode in ordered if theme in episode.briefing.themes)[:cap]
        title = theme_feed_title(show, theme)
        what = f"Briefings on the theme \u201c{theme}\u201d from {show.title}."
        specs.append(FeedSpec(theme_feed_key(theme), title, described(what), chosen))
    for review_type in ReviewType:
        chosen = tuple(episode for episode in ordered if episode.briefing.review.type is review_type)[:cap]
        title = f"{show.title}: {_capitalised(review_type.value)}s"
        what = f"Briefings on every {review_type.value} from {show.title}."
        specs.append(FeedSpec(review_type_feed_key(review_type), title, described(what), chosen))
    return specs


def render_feed(
    show: Show,
    episodes: Sequence[Episode],
    artwork_key: str,
    feed_key: str = FEED_KEY,
    *,
    title: str | None = None,
    description: str | None = None,
    entries: dict[str, FeedEntry] | None = None,
) -> bytes:
    """The RSS feed of `episodes` (newest first) as UTF-8 bytes; a complete podcast of its own.

    `entries` keeps each episode's item (by slug) for the next feed that lists it: an item is the same in
    every feed, and a national archive's briefing is in several feeds of thousands of items.
    """
    base = show.url
    feed_url = base + feed_key
    title = title or show.title
    description = description or show.description
    generator = FeedGenerator()
    generator.load_extension("podcast")
    generator.register_extension("briefings", ShowExtension, EpisodeExtension)
    generator.title(title)
    generator.description(description)
    # feedgen uses the last non-self link as the channel's <link>: the archive's home page.
    generator.link(href=feed_url, rel="self")
    generator.link(href=base, rel="alternate")
    generator.language(show.language)
    generator.generator("briefings", __version__)
    if show.copyright:
        generator.copyright(show.copyright)
    generator.image(base + artwork_key, title=title, link=base)
    generator.podcast.itunes_image(base + artwork_key)
    generator.podcast.itunes_author(show.author)
    generator.podcast.itunes_category(show.category)
    generator.podcast.itunes_owner(name=show.owner.name, email=show.owner.email)
    generator.podcast.itunes_type("episodic")
    generator.podcast.itunes_summary(description)
    generator.briefings.explicit = show.explicit
    # Each feed is its own podcast: its podcast:guid derives from its own address (Podcasting 2.0 guid tag).
    generator.briefings.guid = podcast_guid(feed_url)
    generator.briefings.locked_owner = show.owner.email
    generator.briefings.hubs = [str(hub) for hub in show.notify.websub_hubs]
    generator.briefings.publisher = show.publisher_name
    generator.briefings.catalogue_url = base + CATALOGUE_KEY
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    # lastBuildDate defaults to now; a fixed value keeps an unchanged feed byte-identical, so
    # publishing nothing new uploads nothing.
    if ordered:
        generator.lastBuildDate(ordered[0].published)
    generator.briefings.undated = not ordered
    # feedgen adds entries to the top, so add oldest first to get newest first.
    for episode in reversed(ordered):
        if entries is not None and episode.slug in entries:
            generator.add_entry(entries[episode.slug])  # its extensions are loaded already: feedgen keeps them
            continue
        briefing = episode.briefing
        entry = generator.add_entry()
        if entries is not None:
            entries[episode.slug] = entry
        entry.guid(episode.guid, permalink=False)
        entry.title(briefing.title)
        entry.link(href=base + episode.page_key)
        description_text = plain_description(episode)
        entry.description(description_text)
        entry.content(html_description(episode), type="CDATA")
        entry.enclosure(episode.media_url(base), str(episode.media_size), episode.media_type)
        entry.pubDate(episode.published)
        entry.podcast.itunes_duration(round(episode.duration))
        entry.podcast.itunes_author(briefing.author.name)
        entry.podcast.itunes_episode_type("full")
        if briefing.episode:
            entry.podcast.itunes_episode(briefing.episode)
        entry.podcast.itunes_summary(description_text)
        extension = entry.briefings
        extension.explicit = briefing.explicit
        extension.chapters = episode.chapter_list
        extension.chapters_url = base + episode.chapters_key if episode.chapters_key else ""
        transcripts = []
        if episode.transcript_key and episode.transcript_type:
            transcripts.append((base + episode.transcript_key, episode.transcript_type))
        if episode.transcript_html_key:
            transcripts.append((base + episode.transcript_html_key, HTML_TYPE))
        extension.transcripts = transcripts
        extension.person = briefing.author.name
        extension.briefing = briefing
        for theme in briefing.themes:
            entry.category(term=theme, scheme=THEME_DOMAIN)
    return bytes(generator.rss_str(pretty=True))


def theme_feed_title(show: Show, theme: str) -> str:
    """The title of a theme's feed: "Safeguarding Practice Briefings: Neglect"."""
    return f"{show.title}: {_capitalised(theme)}"


def render_opml(show: Show, specs: Sequence[FeedSpec]) -> bytes:
    """An OPML 2.0 subscription list of every feed, which podcast apps import in one step."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"{show.title}: every feed"
    etree.SubElement(head, "ownerName").text = show.owner.name
    etree.SubElement(head, "ownerEmail").text = show.owner.email
    body = etree.SubElement(opml, "body")
    for spec in specs:
        attributes = {"type": "rss", "text": spec.title, "title": spec.title, "xmlUrl": show.url + spec.key}
        etree.SubElement(body, "outline", {**attributes, "htmlUrl": show.url})
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_feeds(
    show: Show, episodes: Sequence[Episode], artwork_key: str, withdrawn: Mapping[str, str] | None = None
) -> dict[str, bytes]:
    """Every feed of the show, the OPML list of them, and the catalogue of every briefing (with a tombstone
    for each in `withdrawn`, slug -> GUID), keyed by their path in the output."""
    specs = feed_specs(show, episodes)
    entries: dict[str, FeedEntry] = {}
    rendered = {
        spec.key: render_feed(
            show, spec.episodes, artwork_key, spec.key, title=spec.title, description=spec.description, entries=entries
        )
        for spec in specs
    }
    rendered[OPML_KEY] = render_opml(show, specs)
    feeds_of: dict[str, list[str]] = {}
    for spec in specs:
        for episode in spec.episodes:
            feeds_of.setdefault(episode.slug, []).append(show.url + spec.key)
    rendered[CATALOGUE_KEY] = render_catalogue(
        show.url, show.url + FEED_KEY, show.title, show.publisher_name, episodes, feeds_of, withdrawn or {}
    )
    return rendered
