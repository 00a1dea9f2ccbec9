"""The feeds as rendered (pure, from fixed episodes): golden files, their tags by XPath, and real parsers."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from briefings.feed import chapters_json, feed_specs, html_description, plain_description, render_feeds
from tests.conftest import REPO
from tests.feed_fixtures import ARTWORK_KEY, SHOW, briefing, episode, golden_episodes

GOLDEN = REPO / "tests" / "data" / "golden"
BASE = "https://podcast.westmarsh.example.org/briefings/"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "psc": "http://podlove.org/simple-chapters",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
FEEDS = [
    "feed.xml",
    "feeds/neglect.xml",
    "feeds/domestic-abuse.xml",
    "feeds/voice-of-the-child.xml",
    "feeds/exploitation.xml",
    "feeds/review-type/serious-case-review.xml",
    "feeds/review-type/local-child-safeguarding-practice-review.xml",
    "feeds/review-type/national-review.xml",
    "feeds/review-type/safeguarding-adults-review.xml",
    "feeds/review-type/domestic-homicide-review.xml",
]
TITLES = {
    "a": "Child A: the baby nobody saw",
    "b": "Child B: the voice of the child in a violent home",
    "c": "Zo\u00eb: exploitation that looked like friendship",
}


def golden(key: str) -> etree._Element:
    return etree.parse(str(GOLDEN / key)).getroot()


def xpath(root: etree._Element, path: str) -> list:
    return root.xpath(path, namespaces=NS)  # type: ignore[no-any-return]


def item(root: etree._Element, title: str) -> etree._Element:
    (found,) = xpath(root, f'channel/item[title="{title}"]')
    return found


def test_rendering_matches_the_golden_feeds() -> None:
    expected = {path.relative_to(GOLDEN).as_posix(): path.read_bytes() for path in GOLDEN.rglob("*") if path.is_file()}
    rendered = render_feeds(SHOW, golden_episodes(), ARTWORK_KEY)
    assert sorted(rendered) == sorted(expected)
    for key, data in rendered.items():
        assert data == expected[key], (
            f"{key} changed: if on purpose, run scripts/regenerate_golden.py and review the diff"
        )


def test_main_feed_keeps_the_newest_briefings_and_theme_and_type_feeds_keep_all() -> None:
    def titles(key: str) -> list[str]:
        return [str(title) for title in xpath(golden(key), "channel/item/title/text()")]

    a, b, c = TITLES["a"], TITLES["b"], TITLES["c"]
    assert titles("feed.xml") == [c, b]  # main_feed_items = 2: the oldest is left out
    assert titles("feeds/neglect.xml") == [c, a]
    assert titles("feeds/domestic-abuse.xml") == [b]
    assert titles("feeds/voice-of-the-child.xml") == [b]
    assert titles("feeds/exploitation.xml") == [c]
    assert titles("feeds/review-type/serious-case-review.xml") == [b]
    assert titles("feeds/review-type/local-child-safeguarding-practice-review.xml") == [c, a]


def test_a_theme_without_briefings_still_gets_a_feed_with_a_stable_address() -> None:
    rendered = render_feeds(SHOW, golden_episodes()[:1], ARTWORK_KEY)
    empty = etree.fromstring(rendered["feeds/exploitation.xml"])
    assert xpath(empty, "channel/item") == []
    assert xpath(empty, "channel/title/text()") == ["Westmarsh Practice Briefings: Exploitation"]
    # No lastBuildDate (feedgen would stamp the current time), so an unchanged show renders identical bytes.
    assert xpath(empty, "channel/lastBuildDate") == []
    assert rendered == render_feeds(SHOW, golden_episodes()[:1], ARTWORK_KEY)
    # So does every review type: withdrawing the last briefing of a type must not make its feed vanish.
    review_type = etree.fromstring(rendered["feeds/review-type/serious-case-review.xml"])
    assert xpath(review_type, "channel/item") == []


@pytest.mark.parametrize("key", FEEDS)
def test_every_feed_is_a_complete_podcast_of_its_own(key: str) -> None:
    channel = golden(key).find("channel")
    assert channel is not None
    url = BASE + key
    # Podcasting 2.0 guid: UUIDv5 of the feed URL without its scheme, in the namespace the spec gives.
    expected_guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), url.removeprefix("https://"))
    assert xpath(channel, "podcast:guid/text()") == [str(expected_guid)]
    assert xpath(channel, "atom:link[@rel='self']/@href") == [url]
    assert xpath(channel, "podcast:locked/text()") == ["yes"]
    assert xpath(channel, "podcast:locked/@owner") == ["briefings@westmarsh.example.org"]
    assert xpath(channel, "itunes:explicit/text()") == ["false"]
    assert xpath(channel, "itunes:image/@href") == [BASE + ARTWORK_KEY]
    assert xpath(channel, "itunes:category/@text") == ["Government"]
    assert xpath(channel, "itunes:owner/itunes:email/text()") == ["briefings@westmarsh.example.org"]
    assert xpath(channel, "itunes:author/text()") == ["Westmarsh editorial team"]
    assert xpath(channel, "language/text()") == ["en-GB"]
    assert xpath(channel, "copyright/text()") == ["\u00a9 Westmarsh Safeguarding Children Partnership"]
    assert xpath(channel, "link/text()") == [BASE]
    (description,) = xpath(channel, "description/text()")
    assert SHOW.description in description and len(description.encode()) <= 4000
    if key != "feed.xml":
        assert str(xpath(channel, "title/text()")[0]).startswith("Westmarsh Practice Briefings: ")


def test_feeds_have_distinct_titles_and_guids() -> None:
    titles = [str(xpath(golden(key), "channel/title/text()")[0]) for key in FEEDS]
    guids = [str(xpath(golden(key), "channel/podcast:guid/text()")[0]) for key in FEEDS]
    assert len(set(titles)) == len(titles) and len(set(guids)) == len(guids)


def test_items_carry_every_tag_apple_and_podcasting_2_want() -> None:
    child_b = item(golden("feed.xml"), TITLES["b"])
    assert xpath(child_b, "guid/@isPermaLink") == ["false"]
    assert xpath(child_b, "guid/text()") == [str(uuid.uuid5(SHOW.id, "child-b"))]
    assert xpath(child_b, "enclosure/@length") == ["593562"]
    assert xpath(child_b, "enclosure/@type") == ["audio/mpeg"]
    assert xpath(child_b, "pubDate/text()") == ["Thu, 04 Jun 2026 09:30:00 +0100"]
    assert xpath(child_b, "itunes:duration/text()") == ["43"]
    assert xpath(child_b, "itunes:episodeType/text()") == ["full"]
    assert xpath(child_b, "itunes:explicit/text()") == ["true"]
    assert xpath(child_b, "link/text()") == [BASE + "briefings/child-b/index.html"]
    assert xpath(child_b, "podcast:person/text()") == ["Sam Whitfield"]
    transcripts = [(t.get("url"), t.get("type"), t.get("rel")) for t in xpath(child_b, "podcast:transcript")]
    assert transcripts == [
        (BASE + "briefings/child-b/transcript.srt", "application/x-subrip", "captions"),
        (BASE + "briefings/child-b/transcript.html", "text/html", None),
    ]
    assert xpath(child_b, "podcast:chapters/@type") == ["application/json+chapters"]
    assert xpath(child_b, "podcast:chapters/@url") == [BASE + "briefings/child-b/chapters.json"]
    html = etree.fromstring(f"<div>{xpath(child_b, 'content:encoded/text()')[0]}</div>")
    assert html.xpath("ol/li/text()") == ["When a child tells you they are scared, act on it the same day."]
    assert html.xpath("p/a/@href") == ["https://northvale.example.org/scr/child-b.pdf"]
    assert "Serious case review of Child B" in "".join(html.itertext())
    child_a = item(golden("feeds/neglect.xml"), TITLES["a"])
    starts = [(c.get("start"), c.get("title")) for c in xpath(child_a, "psc:chapters/psc:chapter")]
    assert starts == [
        ("00:00:00.000", "Introduction"),
        ("00:00:23.500", "Missed appointments"),
        ("00:00:32.000", "Who lives in the home?"),
    ]
    assert xpath(child_a, "itunes:episode/text()") == ["1"]
    child_c = item(golden("feed.xml"), TITLES["c"])
    assert xpath(child_c, "podcast:transcript") == [] and xpath(child_c, "psc:chapters") == []


def test_opml_lists_every_feed_for_one_step_subscription() -> None:
    opml = golden("feeds.opml")
    assert opml.xpath("body/outline/@xmlUrl") == [BASE + key for key in FEEDS]
    assert opml.xpath("body/outline/@type") == ["rss"] * len(FEEDS)
    assert opml.xpath("body/outline/@text")[1] == "Westmarsh Practice Briefings: Neglect"


def test_json_chapters_follow_version_1_2() -> None:
    child_a = golden_episodes()[0]
    document = json.loads(chapters_json(child_a))
    assert document == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "title": "Introduction"},
            {"startTime": 23.5, "title": "Missed appointments"},
            {"startTime": 32.0, "title": "Who lives in the home?"},
        ],
    }


@pytest.mark.parametrize("key", FEEDS)
def test_podcastparser_reads_every_feed(key: str) -> None:
    root = golden(key)
    podcast = podcastparser.parse(BASE + key, io.BytesIO((GOLDEN / key).read_bytes()))
    assert podcast["title"] == xpath(root, "channel/title/text()")[0]
    assert podcast["cover_url"] == BASE + ARTWORK_KEY
    assert podcast["itunes_owner"] == {"name": "Briefings team", "email": "briefings@westmarsh.example.org"}
    assert podcast["itunes_categories"] == [["Government"]]
    assert podcast["explicit"] is False
    assert podcast["language"] == "en-GB"
    assert podcast["type"] == "episodic"
    by_slug = {item.slug: item for item in golden_episodes()}
    assert [episode["title"] for episode in podcast["episodes"]] == xpath(root, "channel/item/title/text()")
    for parsed in podcast["episodes"]:
        slug = parsed["link"].removeprefix(BASE + "briefings/").removesuffix("/index.html")
        expected = by_slug[slug]
        assert parsed["guid"] == expected.guid
        assert parsed["enclosures"] == [
            {"url": BASE + expected.media_key, "file_size": expected.media_size, "mime_type": "audio/mpeg"}
        ]
        assert parsed["total_time"] == round(expected.duration)
        assert parsed["itunes_author"] == expected.briefing.author.name
        assert parsed["explicit"] is expected.briefing.explicit
        assert parsed["type"] == "full"
        # podcastparser reads Podlove chapters, truncating starts to whole seconds.
        chapters = [{"start": int(start), "title": title} for start, title in expected.chapter_list]
        assert parsed.get("chapters", []) == chapters
        assert expected.briefing.key_lessons[0] in parsed["description"]
        assert f"<li>{expected.briefing.key_lessons[0]}" in parsed["description_html"].replace("&#39;", "'")


@pytest.mark.parametrize("key", FEEDS)
def test_feedparser_reads_every_feed(key: str) -> None:
    root = golden(key)
    feed = feedparser.parse((GOLDEN / key).read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == xpath(root, "channel/title/text()")[0]
    assert feed.feed.podcast_guid == xpath(root, "channel/podcast:guid/text()")[0]
    assert feed.feed.image.href == BASE + ARTWORK_KEY
    assert feed.feed.author_detail.email == "briefings@westmarsh.example.org"
    assert feed.feed.itunes_type == "episodic"
    assert feed.feed.rights == "\u00a9 Westmarsh Safeguarding Children Partnership"
    by_slug = {item.slug: item for item in golden_episodes()}
    assert [entry.title for entry in feed.entries] == xpath(root, "channel/item/title/text()")
    for entry in feed.entries:
        expected = by_slug[entry.link.removeprefix(BASE + "briefings/").removesuffix("/index.html")]
        assert entry.id == expected.guid
        assert [(e.href, e.length, e.type) for e in entry.enclosures] == [
            (BASE + expected.media_key, str(expected.media_size), "audio/mpeg")
        ]
        assert entry.itunes_duration == str(round(expected.duration))
        assert entry.itunes_episodetype == "full"
        # feedparser 6 maps only the deprecated "yes" to True: Apple's "true" and "false" both read as None.
        # The values themselves are checked with XPath and podcastparser above.
        assert entry.itunes_explicit is None
        assert entry.published_parsed[:6] == expected.published.astimezone(tz=None).utctimetuple()[:6]
        assert entry.podcast_person == expected.briefing.author.name
        if expected.transcript_html_key:
            # feedparser keeps the last transcript tag only: the HTML one.
            assert entry.podcast_transcript == {"url": BASE + expected.transcript_html_key, "type": "text/html"}
            assert entry.podcast_chapters["url"] == BASE + str(expected.chapters_key)
            titles = [chapter["title"] for chapter in entry.psc_chapters["chapters"]]
            assert titles == [title for _, title in expected.chapter_list]
            starts = [chapter["start_parsed"].total_seconds() for chapter in entry.psc_chapters["chapters"]]
            assert starts == [start for start, _ in expected.chapter_list]
        else:
            assert "podcast_transcript" not in entry and "psc_chapters" not in entry
        assert expected.briefing.key_lessons[-1].replace("'", "&#39;") in entry.content[0].value


def test_descriptions_fit_apple_limit_and_keep_every_lesson_whole() -> None:
    long = briefing(
        summary="Summary sentence that goes on. " * 64,
        key_lessons=[f"Lesson {number}: " + "keep the child in view " * 18 for number in range(1, 8)],
    )
    item = episode("child-l", long, 1000, 60.0)
    text = plain_description(item)
    assert len(text.encode()) <= 4000
    for lesson in long.key_lessons:
        assert lesson in text  # the summary was shortened instead
    assert text.startswith("Summary sentence that goes on.") and "\u2026\n\nKey lessons" in text
    assert text.endswith("Full report: https://westmarsh.example.org/reviews/child-a.pdf")
    html = html_description(item)
    assert len(html.encode()) <= 4000
    assert all(f"<li>{lesson}</li>" in html for lesson in long.key_lessons)
    assert '<a href="https://westmarsh.example.org/reviews/child-a.pdf">' in html


def test_descriptions_of_wide_characters_fit_by_bytes_not_characters() -> None:
    # 500 characters of a 4-byte character per lesson: 14,000 bytes of lessons must shrink to fit.
    wide = briefing(summary="\U0001f4da" * 2000, key_lessons=["\U0001f9d2" * 500] * 7)
    item = episode("child-w", wide, 1000, 60.0)
    for text in (plain_description(item), html_description(item)):
        assert len(text.encode()) <= 4000
        assert text.count("\u2026") == 8  # summary and all seven lessons shortened, each marked
        assert "https://westmarsh.example.org/reviews/child-a.pdf" in text


def test_feed_specs_name_each_feed_by_its_theme(tmp_path: Path) -> None:
    specs = {spec.key: spec for spec in feed_specs(SHOW, golden_episodes())}
    neglect = specs["feeds/neglect.xml"]
    assert neglect.title == "Westmarsh Practice Briefings: Neglect"
    assert neglect.description.startswith(
        "Briefings on the theme \u201cneglect\u201d from Westmarsh Practice Briefings."
    )
    assert (
        specs["feeds/review-type/serious-case-review.xml"].title == "Westmarsh Practice Briefings: Serious case reviews"
    )
