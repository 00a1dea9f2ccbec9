"""Property: any text the schemas accept, in any text field, renders to feeds that real parsers read back."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from typing import Any

import feedparser
import podcastparser
import pydantic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from briefings.config import Show
from briefings.feed import plain_description, render_feeds, review_type_feed_key, theme_feed_key
from briefings.namespace import NAMESPACE, THEME_DOMAIN
from briefings.namespace import item_problems as namespace_problems
from briefings.submission import Briefing, ReviewType
from tests.feed_fixtures import ARTWORK_KEY, episode

# Every character the schemas accept: all of Unicode but surrogates (not text) and the control characters
# XML 1.0 cannot carry, which show.toml and briefing.yaml refuse with a clear message.
REFUSED = "".join(
    chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xFFFE, 0xFFFF]
)
characters = st.characters(exclude_categories=["Cs"], exclude_characters=REFUSED)
text = st.text(characters, min_size=1, max_size=40)
long_text = st.text(characters, min_size=1, max_size=400)


def squashed(value: str) -> str:
    """podcastparser's documented normalisation of titles: runs of whitespace become one space."""
    return re.sub(r"\s+", " ", value.strip())


def squashed_not_newlines(value: str) -> str:
    """podcastparser's normalisation of descriptions: whitespace runs other than line ends become one space."""
    return re.sub(r"[^\S\r\n]+", " ", value.strip())


def as_html_reads(value: str) -> str:
    """Text as an HTML parser gives it back: HTML turns every CR and CRLF into LF (HTML, input preprocessing)."""
    return re.sub(r"\r\n?", "\n", value)


def mojibake(value: str) -> bool:
    """Text feedparser "repairs": all Latin-1, yet valid UTF-8 as bytes (feedparser mixin.py re-decodes it as
    UTF-8, taking it for double-encoded text). Such text is mojibake already and cannot round-trip there."""
    try:
        return value.encode("latin-1").decode("utf-8") != value
    except UnicodeError:
        return False


def valid(model: type[pydantic.BaseModel], data: dict[str, Any], **context: Any) -> Any:
    """The model, or a rejected example when the schema refuses the text (as it would refuse the file)."""
    try:
        return model.model_validate(data, context=context or None)
    except pydantic.ValidationError:
        assume(False)


@st.composite
def shows_and_briefings(draw: st.DrawFn) -> tuple[Show, Briefing]:
    theme = draw(text)
    show = valid(
        Show,
        {
            "id": "0f6e6d1a-3c1e-4a53-9d7b-5b0c9e7b2a10",
            "title": draw(text),
            "description": draw(long_text),
            "author": draw(text),
            "owner": {"name": draw(text), "email": "team@example.org"},
            "copyright": draw(text),
            "base_url": "https://podcast.example.org/",
            "themes": [theme],
        },
    )
    chapter_titles = draw(st.lists(text, min_size=0, max_size=3))
    briefing = valid(
        Briefing,
        {
            "title": draw(text),
            "summary": draw(long_text),
            "review": {
                "type": "SCR",
                "subject": draw(text),
                "partnership": draw(text),
                "region": draw(text),
                "report_url": "https://example.org/report.pdf",
                "published": "2026-03-12T10:00:00+00:00",
            },
            "author": {"name": draw(text), "role": draw(text)},
            "key_lessons": draw(st.lists(text, min_size=1, max_size=3)),
            "themes": [theme],
            "chapters": [
                {"start": f"00:{10 * index:02d}", "title": title} for index, title in enumerate(chapter_titles)
            ],
            "recording": "recording.opus",
        },
        themes=show.themes,
    )
    return show, briefing


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(shows_and_briefings())
def test_any_accepted_text_round_trips_through_feedparser_and_podcastparser(drawn: tuple[Show, Briefing]) -> None:
    show, briefing = drawn
    item = episode("child-x", briefing, 4242, 61.0, show=show, chapters_key="briefings/child-x/chapters.json")
    feeds = render_feeds(show, [item], ARTWORK_KEY)
    theme_key = theme_feed_key(show.themes[0])
    review_types = {review_type_feed_key(review_type) for review_type in ReviewType}
    assert set(feeds) == {"feed.xml", theme_key, "feeds.opml", "catalogue.json", *review_types}
    description = plain_description(item)
    texts = [
        *(str(value) for value in (show.title, show.description, show.author, show.owner.name, show.copyright)),
        *show.themes,
        channel_title(show, theme_key),  # capitalising the theme can make text that reads as mojibake
        briefing.title,
        briefing.summary,
        briefing.review.subject,
        briefing.review.partnership,
        briefing.review.region,
        briefing.author.name,
        briefing.author.role,
        *briefing.key_lessons,
        *(chapter.title for chapter in briefing.chapters),
    ]
    for key in ("feed.xml", theme_key):
        data = feeds[key]
        etree.fromstring(data)  # well-formed XML whatever the text
        if not any(mojibake(value) for value in texts):
            check_feedparser(data, key, show, briefing, description)
        check_podcastparser(data, key, show, briefing, description)
    check_harvestable(feeds, briefing)
    if len((briefing.summary + "".join(briefing.key_lessons)).encode()) < 3000:
        # Nothing needed shortening: the summary and every lesson are in the description whole.
        assert briefing.summary in description and all(lesson in description for lesson in briefing.key_lessons)


def check_harvestable(feeds: dict[str, bytes], briefing: Briefing) -> None:
    """The review's metadata comes back exactly from the feed's namespace elements and from the catalogue."""
    review = briefing.review
    item = etree.fromstring(feeds["feed.xml"]).find("channel/item")
    assert item is not None

    def texts(name: str) -> list[str | None]:
        return [element.text for element in item.findall(f"{{{NAMESPACE}}}{name}")]

    assert texts("lesson") == briefing.key_lessons
    assert [texts(name) for name in ("reviewType", "subject", "partnership", "region", "report")] == [
        [review.type.value],
        [review.subject],
        [review.partnership],
        [review.region],
        [str(review.report_url)],
    ]
    assert datetime.fromisoformat(texts("reviewPublished")[0] or "") == review.published
    themes = [category.text for category in item.findall("category") if category.get("domain") == THEME_DOMAIN]
    assert themes == briefing.themes
    assert namespace_problems(item) == []
    [entry] = json.loads(feeds["catalogue.json"])["briefings"]
    assert (entry["title"], entry["summary"], entry["lessons"], entry["themes"]) == (
        briefing.title, briefing.summary, briefing.key_lessons, briefing.themes
    )  # fmt: skip
    assert entry["review"]["partnership"] == review.partnership and entry["review"]["subject"] == review.subject


def channel_title(show: Show, key: str) -> str:
    theme = show.themes[0]
    return show.title if key == "feed.xml" else f"{show.title}: {theme[:1].upper()}{theme[1:]}"


def check_feedparser(data: bytes, key: str, show: Show, briefing: Briefing, description: str) -> None:
    """feedparser gives back every text exactly (descriptions as HTML, which it declares them to be)."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    entry = parsed.entries[0]
    assert parsed.feed.title == channel_title(show, key)
    assert parsed.feed.get("rights", "") == show.copyright
    assert parsed.feed.author_detail.name == show.owner.name
    assert entry.title == briefing.title
    assert entry.author == briefing.author.name
    assert entry.podcast_person == briefing.author.name
    # feedparser hands descriptions over as HTML (type text/html): as HTML reads, they are the text again.
    assert html.fromstring(f"<div>{entry.summary}</div>").text_content() == as_html_reads(description)
    content = html.fromstring(entry.content[0].value)
    words = content.text_content()
    review, author = briefing.review, briefing.author
    for part in (review.subject, review.partnership, review.region, author.name, author.role):
        assert as_html_reads(part) in words
    assert [li.text_content() for li in content.iter("li")] == [as_html_reads(x) for x in briefing.key_lessons]
    chapters = entry.get("psc_chapters", {}).get("chapters", [])
    assert [chapter["title"] for chapter in chapters] == [chapter.title for chapter in briefing.chapters]


def check_podcastparser(data: bytes, key: str, show: Show, briefing: Briefing, description: str) -> None:
    """podcastparser gives back every text, with its documented whitespace squashing."""
    podcast = podcastparser.parse(show.url + key, io.BytesIO(data))
    assert podcast["title"] == squashed(channel_title(show, key))
    assert podcast["itunes_owner"]["name"] == squashed(show.owner.name)
    (parsed_episode,) = podcast["episodes"]
    assert parsed_episode["title"] == squashed(briefing.title)
    assert parsed_episode["itunes_author"] == squashed(briefing.author.name)
    assert parsed_episode["description"] == squashed_not_newlines(description)
    titles = [chapter["title"] for chapter in parsed_episode.get("chapters", [])]
    assert titles == [chapter.title for chapter in briefing.chapters]  # chapter titles are kept as they are
