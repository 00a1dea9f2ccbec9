"""The `briefings` RSS namespace, version 1.0, and the show's catalogue: the review behind each briefing,
machine-readable, so that a harvester (`briefings harvest` of a central show, or any aggregator) loses
nothing. Existing tags carry what they can: RSS `category` (with THEME_DOMAIN) the themes,
`podcast:location` the region, `podcast:person` the author; this namespace the rest. The README documents
every element ("Being harvested"); a change that breaks a reader gets a new URI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from briefings.episode import Episode, podcast_guid
from briefings.submission import MAX_KEY_LESSONS, Briefing, ReviewType

# Placeholder until the project has a domain of its own: a namespace URI is a name, never fetched.
NAMESPACE = "https://briefings.example.org/namespace/1.0"
PREFIX = "briefings"
# RSS 2.0 `category domain`: the taxonomy a category's text comes from; this one is the show's themes.
THEME_DOMAIN = NAMESPACE + "#theme"
CATALOGUE_KEY = "catalogue.json"
CATALOGUE_VERSION = "1.0"


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def add_show(channel: etree._Element, publisher: str, catalogue_url: str) -> None:
    """The channel's elements: who publishes the show, and where its complete catalogue is."""
    etree.SubElement(channel, _tag("publisher")).text = publisher
    etree.SubElement(channel, _tag("catalogue"), url=catalogue_url, type="application/json")


# The review's elements in an item, and the catalogue field each holds.
REVIEW_ELEMENTS = (
    ("reviewType", "type"),
    ("subject", "subject"),
    ("partnership", "partnership"),
    ("region", "region"),
    ("reviewPublished", "published"),
    ("report", "report"),
)


def review_values(briefing: Briefing) -> dict[str, str]:
    """The review behind a briefing as the namespace and the catalogue write it."""
    review = briefing.review
    return {
        "type": review.type.value,
        "subject": review.subject,
        "partnership": review.partnership,
        "region": review.region,
        "published": review.published.isoformat(),
        "report": str(review.report_url),
    }


def add_item(item: etree._Element, briefing: Briefing) -> None:
    """An item's elements: the review behind the briefing and its key lessons, in order."""
    values = review_values(briefing)
    for name, field in REVIEW_ELEMENTS:
        etree.SubElement(item, _tag(name)).text = values[field]
    for lesson in briefing.key_lessons:
        etree.SubElement(item, _tag("lesson")).text = lesson


def read_item(item: etree._Element) -> dict[str, Any]:
    """What an item's namespace elements and theme categories say, as its catalogue entry's `review`,
    `lessons` and `themes` (text stripped; empty where an element is missing)."""

    def text(element: etree._Element | None) -> str:
        return (element.text or "").strip() if element is not None else ""

    return {
        "review": {field: text(item.find(_tag(name))) for name, field in REVIEW_ELEMENTS},
        "lessons": [text(element) for element in item.findall(_tag("lesson"))],
        "themes": [text(category) for category in item.findall("category") if category.get("domain") == THEME_DOMAIN],
    }


def channel_problems(channel: etree._Element) -> list[tuple[etree._Element, str, str, str]]:
    """What is missing in the channel's namespace elements, as (element, tag, problem, fix)."""
    problems = []
    publisher = channel.find(_tag("publisher"))
    if publisher is None or not (publisher.text or "").strip():
        problems.append((channel, f"{PREFIX}:publisher", "is missing or empty", "set publisher in show.toml"))
    catalogue = channel.find(_tag("catalogue"))
    if catalogue is None or not catalogue.get("url", "").startswith(("https://", "http://")):
        problems.append(
            (channel, f"{PREFIX}:catalogue", "does not give the catalogue's address", "publish again with briefings")
        )
    return problems


def item_problems(item: etree._Element) -> list[tuple[etree._Element, str, str, str]]:
    """What is missing or wrong in an item's namespace elements, as (element, tag, problem, fix)."""
    problems = []
    found = read_item(item)
    review = found["review"]
    for name, field in REVIEW_ELEMENTS:
        if not review[field]:
            problems.append((item, f"{PREFIX}:{name}", "is missing or empty", "harvesters need it: publish again"))
    if review["type"] and review["type"] not in {kind.value for kind in ReviewType}:
        problems.append(
            (item, f"{PREFIX}:reviewType", f"`{review['type']}` is not a review type", "use one the README lists")
        )
    published = review["published"]
    if published:
        try:
            moment = datetime.fromisoformat(published)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            problems.append(
                (item, f"{PREFIX}:reviewPublished", f"`{published}` is not a date and time with a zone",
                 "write it as ISO 8601, e.g. 2026-03-12T10:00:00+00:00")
            )  # fmt: skip
    report = review["report"]
    if report and not report.startswith("https://"):
        problems.append((item, f"{PREFIX}:report", f"`{report}` is not an https address", "link the report by https"))
    lessons = [lesson for lesson in found["lessons"] if lesson]
    if not 1 <= len(lessons) <= MAX_KEY_LESSONS:
        problems.append(
            (item, f"{PREFIX}:lesson", f"{len(lessons)} key lessons; a briefing has 1 to {MAX_KEY_LESSONS}",
             "publish again from a briefing.yaml that check passes")
        )  # fmt: skip
    return problems


def declares(root: etree._Element) -> bool:
    """Whether a feed uses this namespace (a podcast that is not a briefings show does not)."""
    return NAMESPACE in root.nsmap.values()


def render_catalogue(
    show_url: str,
    feed_url: str,
    title: str,
    publisher: str,
    episodes: Sequence[Episode],
    feeds_of: Mapping[str, Sequence[str]],
    withdrawn: Mapping[str, str],
) -> bytes:
    """The catalogue of every published briefing (newest first) with its metadata and the URLs of the feeds
    that list it (`feeds_of`: slug -> feed URLs), and a tombstone for each withdrawn one (`withdrawn`:
    slug -> GUID). Deterministic: the same briefings give the same bytes, so it is uploaded only on a change."""
    ordered = sorted(episodes, key=lambda episode: (episode.published, episode.slug), reverse=True)
    catalogue: dict[str, Any] = {
        "version": CATALOGUE_VERSION,
        "namespace": NAMESPACE,
        "show": {
            "title": title,
            "url": show_url,
            "feed": feed_url,
            "guid": podcast_guid(feed_url),
            "publisher": publisher,
        },
        "briefings": [_entry(show_url, episode, feeds_of.get(episode.slug, ())) for episode in ordered],
        "withdrawn": [{"guid": guid, "slug": slug} for slug, guid in sorted(withdrawn.items())],
    }
    # Compact: at 10,000 briefings an indented catalogue is larger, and json's indenting encoder is far slower.
    return json.dumps(catalogue, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _entry(base: str, episode: Episode, feeds: Sequence[str]) -> dict[str, Any]:
    briefing = episode.briefing
    transcript = None
    if episode.transcript_key and episode.transcript_type:
        transcript = {"url": base + episode.transcript_key, "type": episode.transcript_type}
    return {
        "guid": episode.guid,
        "slug": episode.slug,
        "title": briefing.title,
        "summary": briefing.summary,
        "published": episode.published.isoformat(),
        "page": base + episode.page_key,
        "audio": {
            "url": episode.media_url(base),
            "type": episode.media_type,
            "length": episode.media_size,
            "duration": round(episode.duration),
        },
        "author": {"name": briefing.author.name, "role": briefing.author.role},
        "review": review_values(briefing),
        "lessons": list(briefing.key_lessons),
        "themes": list(briefing.themes),
        "chapters": base + episode.chapters_key if episode.chapters_key else None,
        "transcript": transcript,
        "feeds": list(feeds),
    }
