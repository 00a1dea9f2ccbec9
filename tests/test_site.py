"""The archive site: rendered pages and search index, then the site in headless Chromium over HTTP."""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import Stemmer
import yaml
from axe_playwright_python.sync_playwright import Axe
from lxml import etree, html
from playwright.sync_api import Browser, Page, expect

from briefings.config import load_show
from briefings.episode import Episode, episode_guid
from briefings.errors import BriefingsError
from briefings.feed import theme_feed_key
from briefings.frequent import FREQUENT, frequent_files, frequent_words
from briefings.layout import OPML_KEY
from briefings.runner import pagefind_indexing
from briefings.search import STOP_WORDS, Documents, document_address, search_bundle, search_words
from briefings.site import page_links, render_site, theme_page_key, transcript_paragraphs
from briefings.submission import Briefing, load_submissions
from tests.conftest import (
    DESKTOP,
    Problems,
    bundle_text,
    published_files,
    run_json,
    search_records,
    serving,
)

PHONE = {"width": 360, "height": 740}
CHILD_A = "Child A: the baby nobody saw"
CHILD_B = "Child B: the voice of the child in a violent home"
# What an attacker might put in a title: markup that runs if the page ever parses author text as HTML.
HOSTILE_TITLE = 'Child X: <script>window.injected = "script"</script><img src=x onerror="window.injected = \'img\'">'
HOSTILE_LESSON = "Escape </li></ol><script>window.injected = 'lesson'</script> everything."
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# --- Rendering (no browser) ---------------------------------------------------------------------------


def example_episodes(published: Path) -> list[Episode]:
    """The example workspace's briefings as Episodes, with the media the publish wrote."""
    show = load_show(published)
    episodes = []
    for submission in load_submissions(published, show):
        assert submission.briefing is not None
        media = next((published / "feed" / "media").glob(f"{submission.slug}-*.mp3"))
        episodes.append(episode(submission.slug, submission.briefing, f"media/{media.name}"))
    return episodes


def episode(slug: str, briefing: Briefing, media_key: str) -> Episode:
    """An Episode for `briefing`, as a build would make it."""
    show_id = load_show(Path(__file__).resolve().parent.parent).id
    return Episode(
        slug=slug,
        guid=episode_guid(show_id, slug),
        briefing=briefing,
        media_key=media_key,
        media_size=1000,
        duration=45.0,
        page_key=f"briefings/{slug}/index.html",
        transcript_key=f"briefings/{slug}/transcript.vtt",
        transcript_type="text/vtt",
    )


# A value past ASCII: its list's file name (the hex of its UTF-8) made alike by search.py and archive.js.
ACCENTED_PARTNERSHIP = "Ynys Môn Safeguarding Children Partnership"


def hostile_episodes(published: Path) -> tuple[list[Episode], dict[str, str]]:
    """A briefing whose title and lessons carry markup, and one whose transcript has accented words.

    submission.py refuses markup in briefing.yaml, so these are made past validation (`model_copy` does not
    validate): the pages must be safe even if a future change or another source lets such text through.
    """
    child_a, child_b = sorted(example_episodes(published), key=lambda found: found.slug)
    hostile = child_a.briefing.model_copy(
        update={"title": HOSTILE_TITLE, "key_lessons": [HOSTILE_LESSON, *child_a.briefing.key_lessons[1:]]}
    )
    review = child_b.briefing.review.model_copy(update={"partnership": ACCENTED_PARTNERSHIP})
    accented = child_b.briefing.model_copy(update={"title": "Child Y: accents in the transcript", "review": review})
    episodes = [episode("child-x", hostile, child_a.media_key), episode("child-y", accented, child_b.media_key)]
    transcripts = {
        "child-x": "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v Author>A <b>plain</b> transcript.\n",
        "child-y": "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nWe met at the Café Zoë, naïvely.\n",
    }
    return episodes, transcripts


def test_theme_pages_sit_beside_the_theme_feeds() -> None:
    assert theme_page_key("domestic abuse") == "themes/domestic-abuse/index.html"
    assert theme_feed_key("domestic abuse") == "feeds/domestic-abuse.xml"  # feed.py's, same slug


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (
            "WEBVTT\n\nNOTE a comment\n\n00:00.000 --> 00:02.500 align:start\n<v Dr Okafor>Fish &amp; chips,</v>\n"
            "<i>twice</i> &lt;3\n\n01:02:03.250 --> 01:02:05.000\nLater.\n",
            "text/vtt",
            [(0.0, "Fish & chips, twice <3"), (3723.25, "Later.")],
        ),
        (
            "1\r\n00:00:01,500 --> 00:00:03,000\r\nHello\r\nthere\r\n\r\n2\r\n00:00:04,000 --> 00:00:05,000\r\nBye\r\n",
            "application/x-subrip",
            [(1.5, "Hello there"), (4.0, "Bye")],
        ),
        ("First  paragraph\nwraps.\n\n\nSecond.", "text/plain", [(None, "First paragraph wraps."), (None, "Second.")]),
    ],
)
def test_transcripts_become_readable_paragraphs(text: str, kind: str, expected: list[tuple[float | None, str]]) -> None:
    assert transcript_paragraphs(text, kind) == expected


def test_page_links_keep_long_lists_short() -> None:
    assert page_links(1, 1) == [1]
    assert page_links(1, 40) == [1, 2, 3, None, 40]
    assert page_links(4, 40) == [1, 2, 3, 4, 5, 6, None, 40]  # no ellipsis standing for one page
    assert page_links(20, 40) == [1, None, 18, 19, 20, 21, 22, None, 40]


def test_search_words_match_what_the_browser_does() -> None:
    # archive.js lower-cases, drops combining marks and splits on anything but letters and digits.
    assert search_words("Café Zoë, naïvely; children\u2019s e-mail snake_case") == [
        "cafe", "zoe", "naively", "children", "s", "e", "mail", "snake", "case",
    ]  # fmt: skip


def test_markup_in_author_text_is_escaped_on_every_page(published: Path) -> None:
    episodes, transcripts = hostile_episodes(published)
    show = load_show(published)
    files = render_site(show, episodes, "feed.xml", transcripts)
    pages = {key: data.decode() for key, data in files.items() if key.endswith(".html")}
    shown_on = [key for key, text in pages.items() if "Child X: &lt;script&gt;window.injected" in text]
    assert set(shown_on) >= {"index.html", "briefings/child-x/index.html", "themes/neglect/index.html"}
    for key, text in pages.items():
        tree = html.fromstring(text)
        scripts = [script.get("src") for script in tree.iter("script")]
        if key == "submit/index.html":  # the submission page runs its own script (tests/test_submit_page.py)
            assert [source.split("?")[0] for source in scripts] == ["submit.js"]
        else:
            assert scripts == ["../" * key.count("/") + f"archive.js?v={script_version(files)}"], key
        assert not list(tree.iter("img")), key
        assert "onerror=" not in text.replace("onerror=&#34;", ""), key
    # The search index is data for textContent, not HTML: the title is kept exactly as written.
    assert HOSTILE_TITLE in [record["title"] for record in search_records(files)]
    assert "<v" not in files["briefings/child-x/index.html"].decode()  # WebVTT voice tags are not words


def script_version(files: dict[str, bytes]) -> str:
    """The version a page's link to archive.js carries."""
    index = files["index.html"].decode()
    start = index.index("archive.js?v=") + len("archive.js?v=")
    return index[start : index.index('"', start)]


def test_long_archives_are_paginated_and_every_briefing_is_listed(published: Path) -> None:
    show = load_show(published)
    episodes = example_episodes(published)
    files = render_site(show, episodes, "feed.xml", {}, page_size=1)
    first, second = html.fromstring(files["index.html"]), html.fromstring(files["page/2/index.html"])
    assert [h3.text_content() for h3 in first.cssselect("#all h3")] == [CHILD_B]
    assert [h3.text_content() for h3 in second.cssselect("#all h3")] == [CHILD_A]
    assert first.cssselect("a[rel=next]")[0].get("href") == "page/2/index.html"
    assert second.cssselect("a[rel=prev]")[0].get("href") == "../../index.html"
    assert second.cssselect("#all ol")[0].get("start") == "2"
    assert second.cssselect("link[rel=stylesheet]")[0].get("href").startswith("../../style.css?v=")
    assert len(second.cssselect("h1")) == 1


def test_theme_pages_come_in_pages_as_the_listing_does(published: Path) -> None:
    # A national archive has thousands of briefings on a theme: one page of them all would be megabytes.
    files = render_site(load_show(published), example_episodes(published), "feed.xml", {}, page_size=1)
    theme = "themes/information-sharing/"
    assert theme_page_key("information sharing", 2) == theme + "page/2/index.html"
    assert not [key for key in files if key.startswith(theme + "page/3/")]
    first, second = html.fromstring(files[theme + "index.html"]), html.fromstring(files[theme + "page/2/index.html"])
    assert [link.text_content() for link in first.cssselect(".by-briefing h2 a")] == [CHILD_B]
    assert [link.text_content() for link in second.cssselect(".by-briefing h2 a")] == [CHILD_A]
    assert second.cssselect(".by-briefing")[0].get("start") == "2"
    assert second.cssselect("h1")[0].text_content() == "Key lessons on information sharing, page 2 of 2"
    assert "all 2 briefings on this theme, newest first (briefing 2 on this page)" in second.text_content()
    pages = second.cssselect("nav.pages")[0]
    assert pages.get("aria-label") == "Pages of key lessons on information sharing"
    assert [link.get("href") for link in pages.cssselect("a")] == [
        "../../../../themes/information-sharing/index.html",  # Newer
        "../../../../themes/information-sharing/index.html",
        "../../../../themes/information-sharing/page/2/index.html",
    ]
    assert (
        first.cssselect("nav.pages a[rel=next]")[0].get("href") == "../../themes/information-sharing/page/2/index.html"
    )
    assert second.cssselect(".by-briefing h2 a")[0].get("href") == "../../../../briefings/child-a/index.html"
    assert second.cssselect("link[rel=stylesheet]")[0].get("href").startswith("../../../../style.css?v=")
    # A theme of one briefing has one page, without links to others.
    one = [key for key in files if key.startswith("themes/neglect/")]
    assert one == ["themes/neglect/index.html"] and b'class="pages"' not in files[one[0]]


def test_theme_pages_gather_lessons_newest_first_and_link_their_feed(published: Path) -> None:
    output = published / "feed"
    page = html.fromstring((output / "themes" / "information-sharing" / "index.html").read_bytes())
    assert page.cssselect("h1")[0].text_content() == "Key lessons on information sharing"
    assert [link.text_content() for link in page.cssselect(".by-briefing h2 a")] == [CHILD_B, CHILD_A]
    # Links name index.html: object stores (S3, R2) do not map a folder address to its index page.
    assert page.cssselect(".by-briefing h2 a")[1].get("href") == "../../briefings/child-a/index.html"
    lessons = [item.text_content() for item in page.cssselect(".by-briefing article")[1].cssselect(".lessons li")]
    assert lessons[0].startswith("Missed health appointments are information about the child")
    # "Subscribe" leads to the theme's subscribe page (its app buttons and QR code), not to raw XML.
    assert [link.get("href") for link in page.cssselect(".subscribe a")] == [
        "../../subscribe/information-sharing/index.html",
        "../../themes/index.html",
    ]
    # A theme no briefing is filed under yet still has its page and feed, at addresses that will not change.
    empty = html.fromstring((output / "themes" / "sexual-abuse" / "index.html").read_bytes())
    assert empty.cssselect(".by-briefing") == []
    assert "No briefings on sexual abuse have been published yet." in empty.text_content()
    themes = html.fromstring((output / "themes" / "index.html").read_bytes())
    row = themes.xpath("//tr[th/a[text()='sexual abuse']]")[0]
    assert [link.get("href") for link in row.iter("a")] == [
        "../themes/sexual-abuse/index.html",
        "../subscribe/sexual-abuse/index.html",
    ]


def test_every_feed_the_archive_links_is_published_and_in_the_opml(published: Path) -> None:
    output, base = published / "feed", "https://briefings.example.org/"
    linked = set()
    for page in output.rglob("*.html"):
        tree = html.fromstring(page.read_bytes())
        linked |= {href for href in tree.xpath("//a/@href") if href.startswith(base) and href.endswith(".xml")}
    assert {base + "feed.xml", base + "feeds/neglect.xml", base + "feeds/sexual-abuse.xml"} <= linked
    assert base + "feeds/review-type/serious-case-review.xml" in linked
    opml = {outline.get("xmlUrl") for outline in etree.parse(str(output / OPML_KEY)).getroot().iter("outline")}
    for url in linked:
        assert (output / url.removeprefix(base)).is_file(), url
        assert url in opml, url
    # The all-feeds OPML is offered for directories and tools, not on the pages practitioners start from: in a
    # podcast app it would bring every briefing several times.
    for page in ("subscribe/index.html", "themes/index.html"):
        tree = html.fromstring((output / page).read_bytes())
        assert tree.xpath("//a[text()='Every feed in one OPML file']/@href") == ["../" + OPML_KEY], page
        assert "for directories and tools" in tree.text_content(), page
    assert "opml" not in (output / "index.html").read_text().lower()


def test_preview_serves_the_archive_files_with_their_types(site: str) -> None:
    opml = requests.get(site + OPML_KEY, timeout=10)
    assert opml.headers["Content-Type"] == "text/x-opml; charset=utf-8"
    assert f'xmlUrl="{site}feeds/neglect.xml"' in opml.text  # the preview's own address, like the feed
    assert requests.get(site + "archive.js", timeout=10).headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert requests.get(site + "favicon.svg", timeout=10).headers["Content-Type"] == "image/svg+xml"
    script = requests.get(site + "pagefind/pagefind.js", timeout=10)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    entry = requests.get(site + "pagefind/pagefind-entry.json", timeout=10)
    assert entry.headers["Content-Type"] == "application/json"
    assert entry.json()["languages"]["en-gb"]["page_count"] == 2


def test_embargoed_briefing_is_never_in_the_search_index(workspace: Path, travel: Callable[[str], None]) -> None:
    future = workspace / "episodes" / "child-z"
    future.mkdir()
    data = yaml.safe_load((workspace / "episodes" / "child-a" / "briefing.yaml").read_text())
    data["title"] = "Child Z: under embargo"
    data["key_lessons"] = ["Zebrafish hatcheries need a named lead."]
    data["review"]["published"] = "2099-01-01T09:00:00+00:00"
    (future / "briefing.yaml").write_text(yaml.safe_dump(data))
    shutil.copy(workspace / "episodes" / "child-a" / "recording.opus", future)
    (future / "transcript.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nQuokkas and zebrafish.\n")

    result, _ = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    files = published_files(workspace / "feed")
    assert [record["slug"] for record in search_records(files)] == ["child-b", "child-a"]
    assert "lesson" in bundle_text(files, "index/")  # a word of the transcripts alone: they are indexed
    # Not in any file of the bundle: the records (what results show), the word index, filters and meta.
    text = bundle_text(files)
    assert "zebrafish" not in text and "quokka" not in text and "child z" not in text

    travel("2099-01-02T09:00:00+00:00")
    result, _ = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    files = published_files(workspace / "feed")
    records = search_records(files)
    assert records[0]["title"] == "Child Z: under embargo"
    assert "quokka" in bundle_text(files, "index/")


def test_an_unchanged_archive_gets_the_same_search_files(published: Path, tmp_path: Path) -> None:
    # Pagefind writes its filter and meta files in a different order from run to run; the build keeps the
    # bundle with a fingerprint of its input, so an unchanged archive publishes nothing new.
    show, episodes = load_show(published), example_episodes(published)
    cache = tmp_path / "search"

    def bundle(listed: list[Episode]) -> dict[str, bytes]:
        files = render_site(show, listed, "feed.xml", {}, search_cache=cache)
        return {key: data for key, data in files.items() if key.startswith("pagefind/")}

    first = bundle(episodes)
    assert "pagefind/pagefind.js" in first and "pagefind/pagefind-entry.json" in first
    # Kept as one file, not as the thousands of a national archive's bundle.
    assert sorted(path.name for path in cache.iterdir()) == ["bundle.zip", "fingerprint"]
    # Damaged (a disk that lost it): made again, not a failing build, and kept again.
    (cache / "bundle.zip").write_bytes(b"lost")
    again = bundle(episodes)
    assert sorted(key for key in again if key.startswith("pagefind/record/")) == sorted(
        key for key in first if key.startswith("pagefind/record/")
    )
    first = again
    assert bundle(episodes) == first
    # A changed briefing is a new index: its record (named by Pagefind's id for it) changes, the other's stays.
    retitled = episodes[0].briefing.model_copy(update={"title": "Child A: retitled"})
    changed = bundle([episode(episodes[0].slug, retitled, episodes[0].media_key), *episodes[1:]])
    assert changed != first
    records = [key for key in first if key.startswith("pagefind/record/")]
    assert len(records) == 2 and len(set(records) & set(changed)) == 1
    assert not [key for key in first if key.startswith("pagefind/fragment/")]  # Pagefind's own: never fetched


def test_each_filter_value_lists_its_briefings_newest_first(published: Path) -> None:
    # Filters chosen without words list briefings from these files, not from Pagefind (whose search without
    # words fetches its whole word index).
    show, episodes = load_show(published), example_episodes(published)
    long_name = "The Very Long Name of a Safeguarding Children Partnership for the Borough of " * 2
    review = episodes[0].briefing.review.model_copy(update={"partnership": long_name})
    renamed = episodes[0].briefing.model_copy(update={"review": review})
    files = render_site(
        show, [episode(episodes[0].slug, renamed, episodes[0].media_key), *episodes[1:]], "feed.xml", {}
    )
    records = {key.removeprefix("pagefind/record/").removesuffix(".json"): json.loads(data)
               for key, data in files.items() if key.startswith("pagefind/record/")}  # fmt: skip
    lists = {key: json.loads(data) for key, data in files.items() if key.startswith("pagefind/list/")}
    theme = "pagefind/list/theme/" + b"information sharing".hex() + ".json"
    (shown,) = lists[theme].values()
    assert [records[result]["title"] for result, _ in shown] == [CHILD_B, CHILD_A]  # newest first
    # Each with its time in UTC, as text that sorts as the times do (archive.js merges lists by it).
    assert [published for _, published in shown] == [
        datetime.fromisoformat(records[result]["published"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for result, _ in shown
    ]
    (kept,) = [
        held for key, held in lists.items() if key.startswith("pagefind/list/partnership/") and long_name in held
    ]
    assert [records[result]["partnership"] for result, _ in kept[long_name]] == [long_name]
    assert all(len(key.rsplit("/", 1)[1]) <= 125 for key in lists)  # a file name, however long the value
    for key, held in lists.items():
        name = key.split("/")[2]
        for value, entries in held.items():
            assert all(
                value in {found for kind, found in search_filters_of(records[result]) if kind == name}
                for result, _ in entries
            )


def search_filters_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """A record's filter values, as archive.js's filters name them."""
    return [("theme", theme) for theme in record["themes"]] + [
        ("type", record["type"]), ("region", record["region"]), ("year", record["published"][:4]),
        ("partnership", record["partnership"]),
    ]  # fmt: skip


def another_pagefind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Make the shell `script` the Pagefind indexing uses (the pagefind wheel finds its binary through
    PAGEFIND_BINARY_PATH): a real program failing as Pagefind could."""
    program = tmp_path / "pagefind"
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(program))


def test_a_kept_bundle_still_good_stops_pagefind(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pagefind is given each document as it is made, before the build knows the kept bundle is still good:
    # then it is stopped, not left to index the rest for nothing.
    show, episodes = load_show(published), example_episodes(published)
    cache = tmp_path / "search"
    first = render_site(show, episodes, "feed.xml", {}, search_cache=cache)
    let_finish = tmp_path / "let-finish"
    another_pagefind(tmp_path, monkeypatch, f"cat >/dev/null\ntouch '{let_finish}'")  # notes that it ran to its end
    assert render_site(show, episodes, "feed.xml", {}, search_cache=cache) == first
    assert not let_finish.exists()


def test_pagefind_failing_is_one_line_and_leaves_the_cache_as_it_was(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "search"
    render_site(load_show(published), example_episodes(published), "feed.xml", {}, search_cache=cache)
    before = sorted(path.relative_to(cache) for path in cache.rglob("*"))
    # A Pagefind that stops with an error.
    another_pagefind(tmp_path, monkeypatch, "echo 'Error: out of memory' >&2\necho 'Error: out of memory' >&2\nexit 3")
    with pytest.raises(BriefingsError) as failed:  # the archive with one briefing fewer: not the kept bundle
        render_site(load_show(published), example_episodes(published)[1:], "feed.xml", {}, search_cache=cache)
    message = str(failed.value)
    assert message == "pagefind: indexing the archive's search failed: it stopped (exit status 3) Error: out of memory"
    assert sorted(path.relative_to(cache) for path in cache.rglob("*")) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pagefind", "search"]


@pytest.mark.parametrize(
    ("script", "said"),
    [
        # Reads every request and answers nonsense.
        (
            "printf 'not base64!,'\ncat >/dev/null",
            "an answer it gave could not be read (fix: unset PAGEFIND_BINARY_PATH, or pip install -e .)",
        ),
        # Stops answering (its output closed) but goes on reading: waited for 5 s, then stopped.
        ("exec 1>&-\ncat >/dev/null", "it stopped answering"),
    ],
    ids=["nonsense", "silent"],
)
def test_pagefind_answering_what_is_not_an_answer_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, said: str
) -> None:
    another_pagefind(tmp_path, monkeypatch, script)
    with pytest.raises(BriefingsError) as failed, pagefind_indexing() as pagefind:
        pagefind.add("/a.html", '<html lang="en"><body>Words</body></html>')
        pagefind.finished()
    assert str(failed.value) == f"pagefind: indexing the archive's search failed: {said}"


def test_pagefind_given_a_document_with_nothing_to_index_leaves_it_out() -> None:
    nothing = '<html lang="en"><body data-pagefind-ignore="all"></body></html>'
    documents = Documents(
        {"a/index.html": nothing},
        {"a/index.html": b"{}"},
        {"a/index.html": [("year", "2026")]},
        {"a/index.html": ""},
        {},
    )
    with pagefind_indexing() as pagefind:
        pagefind.add(document_address("a/index.html"), nothing)
        with search_bundle(documents, pagefind) as bundle:
            files = bundle()
    assert "pagefind/pagefind.js" in files
    assert not [key for key in files if key.startswith(("pagefind/record/", "pagefind/list/"))]


def test_frequent_words_are_matched_as_pagefind_matches_them_once_there_are_enough_briefings() -> None:
    texts = [("Child A: neglect", "Missed appointments.")] * (FREQUENT - 1)
    assert frequent_words(texts, search_words, STOP_WORDS).words == {}  # too few briefings to need them
    found = frequent_words([*texts, ("Child B", "The neglected child.")], search_words, STOP_WORDS)
    size = FREQUENT // 8 + 1
    every, all_but_the_last = (1 << FREQUENT) - 1, (1 << (FREQUENT - 1)) - 1
    # "neglect" begins the stem of "neglected" (as in Pagefind: https://pagefind.app/docs/multilingual/).
    assert found.words["neglect"] == all_but_the_last.to_bytes(size, "little") + every.to_bytes(size, "little")
    assert found.words["child"] == every.to_bytes(size, "little") * 2
    assert set(found.words) == {"child", "neglect", "neglected"}  # "missed": in one briefing too few
    assert found.beginnings >= {"ch", "ne", "mi", "ap"} and "th" not in found.beginnings  # "the": a stop word
    keys = [f"{number}/index.html" for number in range(FREQUENT)]
    ids = {key: f"en_{number}" for number, key in enumerate(keys)}
    files = frequent_files(found, [("2026", keys)], {("year", "2026"): keys}, ids)
    folder = json.loads(files["common.json"])["folder"]
    assert (
        json.loads(files[folder + "words/6368.json"]) == ["child"]
        and json.loads(files[folder + "words/6d69.json"]) == []
    )
    assert json.loads(files[folder + "ids/2026.json"]) == list(ids.values())
    # A briefing Pagefind found nothing in has no place in the years' lists: then no bitsets at all.
    del ids[keys[3]]
    assert frequent_files(found, [("2026", keys)], {}, ids) == {"common.json": b'{"folder": null}'}


# --- In the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(published: Path) -> Iterator[str]:
    """The published example, served over HTTP on 127.0.0.1."""
    with serving(published) as base:
        yield base


@contextmanager
def serving_site(published: Path, folder: Path, files: dict[str, bytes]) -> Iterator[str]:
    """Serve a rendered archive (`files` by key) from `folder`, with the example's feed and media beside it."""
    for key, data in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)
    shutil.copy(published / "feed" / "feed.xml", folder)
    shutil.copytree(published / "feed" / "media", folder / "media")
    with serving(published, folder) as base:
        yield base


@pytest.fixture(scope="module")
def crafted(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site of hostile and accented briefings (rendered directly: validation would refuse them), served."""
    folder = tmp_path_factory.mktemp("crafted")
    episodes, transcripts = hostile_episodes(published)
    with serving_site(published, folder, render_site(load_show(published), episodes, "feed.xml", transcripts)) as base:
        yield base


@pytest.fixture(scope="module")
def many(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site of 45 briefings, 20 to a listing page, served."""
    folder = tmp_path_factory.mktemp("many")
    child_b = max(example_episodes(published), key=lambda found: found.slug)
    episodes = []
    for number in range(45):
        review = child_b.briefing.review.model_copy(
            update={"published": child_b.briefing.review.published.replace(day=1 + number % 28, month=1 + number // 28)}
        )
        briefing = child_b.briefing.model_copy(update={"title": f"Child {number}: a copy", "review": review})
        episodes.append(episode(f"child-{number}", briefing, child_b.media_key))
    files = render_site(load_show(published), episodes, "feed.xml", {}, page_size=20)
    with serving_site(published, folder, files) as base:
        yield base


@pytest.fixture(scope="module")
def national(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site of 2,000 briefings with transcripts of 1,200 spoken words each, served."""
    folder = tmp_path_factory.mktemp("national")
    show = load_show(published)
    child_b = max(example_episodes(published), key=lambda found: found.slug)
    generator = random.Random(13)
    syllables = [consonant + vowel for consonant in "bcdfghklmnprstvwy" for vowel in ("a", "e", "i", "o", "u", "ou")]
    vocabulary = sorted({"".join(generator.choices(syllables, k=generator.randint(1, 4))) for _ in range(6000)})
    # Zipf's law: a few words are spoken often, most rarely, as in speech.
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))

    def text(count: int) -> str:
        return " ".join(generator.choices(vocabulary, cum_weights=weights, k=count))

    episodes, transcripts = [], {}
    for number in range(2000):
        slug = f"child-{number:04d}"
        review = child_b.briefing.review.model_copy(
            update={
                "published": child_b.briefing.review.published - timedelta(days=number),
                "partnership": f"{text(2).title()} Safeguarding Children Partnership",
            }
        )
        briefing = child_b.briefing.model_copy(
            update={
                "title": f"Child {number}: {text(6)}",
                "summary": text(40),
                "key_lessons": [text(20) for _ in range(generator.randint(3, 5))],
                "themes": generator.sample(show.themes, generator.randint(1, 3)),
                "review": review,
            }
        )
        episodes.append(episode(slug, briefing, child_b.media_key))
        transcripts[slug] = f"WEBVTT\n\n00:00:00.000 --> 00:10:00.000\n{text(1200)}\n"
    files = render_site(show, episodes, "feed.xml", transcripts)
    with serving_site(published, folder, files) as base:
        yield base


def titles(page: Page, selector: str) -> list[str]:
    """The titles of the briefings listed under `selector`, as shown."""
    return [text.strip() for text in page.locator(f"{selector} h3").all_inner_texts()]


def listed(page: Page, selector: str, expected: list[str]) -> None:
    """Assert the briefings listed under `selector` are `expected`, waiting for the page's script to
    finish rendering them (a busy machine can be a moment behind a click)."""
    expect(page.locator(f"{selector} h3")).to_have_text(expected)


def search_ready(page: Page) -> None:
    """Wait until the search (Pagefind's script and WebAssembly) has loaded."""
    page.wait_for_selector("#search[data-loaded=all]", state="attached")


def test_index_lists_every_briefing_newest_first(page: Page, site: str) -> None:
    page.goto(site)
    assert page.title() == "Safeguarding Practice Briefings"
    listed(page, "#all", [CHILD_B, CHILD_A])
    assert page.locator("#all button.play").count() == 2
    assert page.get_attribute("html", "lang") == "en-GB"
    # Subscribing starts on the subscribe page (app buttons, QR code), never on raw XML, a dead end on a phone.
    assert page.get_by_role("link", name="Subscribe to every briefing").get_attribute("href") == "subscribe/index.html"
    page.get_by_role("link", name="Subscribe to a theme only").click()
    theme = page.get_by_role("link", name="Briefings on domestic abuse")
    assert theme.is_visible() and theme.get_attribute("href") == "../subscribe/domestic-abuse/index.html"


def test_search_finds_a_briefing_by_a_phrase_from_its_key_lessons(page: Page, site: str) -> None:
    page.goto(site)
    page.get_by_label("Search titles, summaries, key lessons and transcripts").fill("stays in one agency's records")
    search_ready(page)
    listed(page, "#results", [CHILD_A])
    assert page.locator("#all").is_hidden()
    assert page.inner_text("#search-status") == "1 briefing matches \u201cstays in one agency's records\u201d."
    # The search is in the address, so a manager can send the link; opening it shows the same results.
    assert page.url == site + "?q=stays+in+one+agency%27s+records"
    page.goto(page.url)
    search_ready(page)
    listed(page, "#results", [CHILD_A])
    # Words from the transcripts are searched too, and clearing brings the full list back.
    page.get_by_label("Search titles").fill("lesson")
    listed(page, "#results", [CHILD_B, CHILD_A])
    # Every word must be found: one no briefing has leaves nothing (Pagefind alone would ignore it).
    page.get_by_label("Search titles").fill("lesson zebrafish")
    listed(page, "#results", [])
    assert page.inner_text("#search-status") == "0 briefings match \u201clesson zebrafish\u201d."
    page.get_by_role("button", name="Clear").click()
    assert page.locator("#results").is_hidden() and titles(page, "#all") == [CHILD_B, CHILD_A]
    assert page.url == site


def test_filters_narrow_the_list(page: Page, site: str) -> None:
    page.goto(site)
    page.get_by_label("Theme").select_option("domestic abuse")  # from its list: Pagefind is not needed
    listed(page, "#results", [CHILD_B])
    assert page.inner_text("#search-status") == "1 briefing on domestic abuse."
    page.get_by_label("Theme").select_option("information sharing")
    listed(page, "#results", [CHILD_B, CHILD_A])
    page.get_by_label("Review type").select_option("local child safeguarding practice review")
    listed(page, "#results", [CHILD_A])
    page.get_by_label("Region").select_option("Yorkshire and the Humber")
    listed(page, "#results", [])
    assert page.inner_text("#search-status").startswith("0 briefings on information sharing")
    page.get_by_label("Region").select_option("")
    page.get_by_label("Review type").select_option("")
    page.get_by_label("Year").select_option("2026")
    page.get_by_label("Search titles").fill("child")
    listed(page, "#results", [CHILD_B, CHILD_A])
    expect(page).to_have_url(site + "?q=child&theme=information+sharing&year=2026")  # once the typist pauses
    # Some 150 partnerships in a central archive: each one's briefings, named as the sector shortens them.
    partnership = page.get_by_label("Partnership")
    assert partnership.evaluate("select => Array.from(select.options, o => o.text)") == [
        "All partnerships", "Northvale SCB (1)", "Westmarsh SCP (1)"
    ]  # fmt: skip
    partnership.select_option("Northvale Safeguarding Children Board")
    listed(page, "#results", [CHILD_B])
    assert page.inner_text("#search-status") == (
        "1 briefing matches \u201cchild\u201d on information sharing, published in 2026, "
        "by Northvale Safeguarding Children Board."
    )


def test_chapter_button_seeks_the_player(page: Page, site: str) -> None:
    page.goto(site + "briefings/child-a/")
    player = page.locator("#player")
    # The player loads the briefing's length with the page, so it shows 0:00 / 0:42 rather than 0:00 / 0:00.
    assert player.get_attribute("preload") == "metadata"
    page.wait_for_function("() => document.getElementById('player').duration > 30")
    assert player.evaluate("audio => audio.currentTime") == 0 and player.evaluate("audio => audio.paused")
    page.get_by_role("button", name="Play from 0:32 Who lives in the home?").click()
    page.wait_for_function("() => document.getElementById('player').currentTime >= 32")
    assert 32 <= player.evaluate("audio => audio.currentTime") < 40
    page.wait_for_selector("button.chapter[aria-current]")
    assert page.inner_text("button.chapter[aria-current]").endswith("Who lives in the home?")
    player.evaluate("audio => audio.pause()")


def focused(page: Page) -> str:
    """What has the keyboard focus: its tag, id or class, and text."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " const text = e.textContent.replace(/\\s+/g, ' ').trim();"
        " return `${e.tagName.toLowerCase()}#${e.id || e.className} ${text}`.slice(0, 100); }"
    )


def tab_to(page: Page, wanted: str, limit: int = 40) -> list[str]:
    """Press Tab until the focused element's description starts with `wanted`; every stop on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(focused(page))
        if stops[-1].startswith(wanted):
            return stops
    raise AssertionError(f"Tab never reached {wanted}: {stops}")


def test_keyboard_alone_reaches_search_filters_and_play(page: Page, site: str) -> None:
    page.goto(site)
    stops = tab_to(page, "button#play")
    assert stops[0] == "a#skip Skip to content"
    ids = [stop.split(" ")[0] for stop in stops]
    order = ["input#search-query", "select#filter-theme", "select#filter-type", "select#filter-region"]
    assert [ids.index(stop) for stop in order] == sorted(ids.index(stop) for stop in order)
    assert "select#filter-year" in ids
    assert stops[-1] == f"button#play Play {CHILD_B}"
    page.keyboard.press("Enter")
    page.wait_for_function("() => { const a = document.querySelector('#all audio'); return a && !a.paused; }")
    assert focused(page).startswith("audio#")
    page.locator("#all audio").evaluate("audio => audio.pause()")

    # Back up to the theme filter and choose with the arrow keys, as a keyboard user does.
    page.keyboard.press("Shift+Tab")
    while not focused(page).startswith("select#filter-theme"):
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")
    search_ready(page)
    listed(page, "#results", [CHILD_A])

    # On a briefing page, a chapter plays from the keyboard too.
    page.goto(site + "briefings/child-b/")
    tab_to(page, "button#chapter")
    page.keyboard.press("Tab")
    assert focused(page) == "button#chapter Play from 0:23 Act on what children tell you"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('player').currentTime >= 23")
    page.locator("#player").evaluate("audio => audio.pause()")


def test_a_script_in_a_title_shows_as_text_and_never_runs(page: Page, crafted: str) -> None:
    def check() -> None:
        assert page.evaluate("() => window.injected") is None
        assert page.locator("script").count() == 1  # archive.js, nothing else
        assert page.locator("img").count() == 0

    page.goto(crafted)
    check()
    listed(page, "#all", ["Child Y: accents in the transcript", HOSTILE_TITLE])
    assert page.locator("#all li:nth-child(2) .lessons li").first.inner_text() == HOSTILE_LESSON
    page.get_by_label("Search titles").fill("script window injected")
    search_ready(page)
    listed(page, "#results", [HOSTILE_TITLE])  # built by archive.js, as text too
    check()
    page.goto(crafted + "briefings/child-x/")
    assert page.inner_text("h1") == HOSTILE_TITLE
    assert page.inner_text(".transcript") == "0:00 A plain transcript."
    check()
    page.goto(crafted + "themes/neglect/")
    assert page.inner_text(".by-briefing h2") == HOSTILE_TITLE
    check()


def test_accented_words_in_transcripts_are_found_without_accents(page: Page, crafted: str) -> None:
    page.goto(crafted)
    page.get_by_label("Search titles").fill("cafe zoe naively")
    search_ready(page)
    listed(page, "#results", ["Child Y: accents in the transcript"])
    page.get_by_label("Search titles").fill("Café NAÏVELY")
    listed(page, "#results", ["Child Y: accents in the transcript"])


def test_a_filter_value_past_ascii_lists_its_briefings(page: Page, crafted: str) -> None:
    page.goto(crafted)
    page.get_by_label("Partnership").select_option(ACCENTED_PARTNERSHIP)
    listed(page, "#results", ["Child Y: accents in the transcript"])
    assert page.inner_text("#search-status") == f"1 briefing by {ACCENTED_PARTNERSHIP}."


def test_every_page_meets_wcag_22_aa_by_axe(page: Page, site: str) -> None:
    axe = Axe()
    for path in ("", "?q=child", "briefings/child-a/", "themes/", "themes/voice-of-the-child/"):
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            page.goto(site + path)
            if path.startswith("?"):
                search_ready(page)
            # axe takes seconds a page: the phone layout of the pages with controls is enough to add.
            if viewport == DESKTOP or path in ("", "briefings/child-a/"):
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
                assert results.violations_count == 0, (path, viewport, results.generate_report())
            assert page.locator("h1").count() == 1, path
            for landmark in ("banner", "main", "contentinfo"):
                assert page.get_by_role(landmark).count() == 1, (path, landmark)
            # Nothing wider than a 360 px phone: no sideways scrolling (WCAG 1.4.10 reflow).
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"], path
    page.goto(site)
    assert page.get_by_role("search").count() == 1
    for control in ("Search titles, summaries, key lessons and transcripts", "Theme", "Review type", "Region", "Year"):
        assert page.get_by_label(control, exact=True).count() == 1, control


def test_focus_is_visible(page: Page, site: str) -> None:
    page.goto(site)
    tab_to(page, "input#search-query")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    assert style[0] == "solid" and style[1] == "3px" and "255, 191, 71" in style[2]


def test_without_javascript_every_briefing_is_still_readable(browser: Browser, site: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(site)
    listed(page, "#all", [CHILD_B, CHILD_A])
    assert page.locator("#search").is_hidden()
    assert page.locator("#all audio[controls]").count() == 2
    assert "Missed health appointments are information about the child" in page.inner_text("#all")
    page.get_by_role("link", name="domestic abuse").first.click()
    assert page.inner_text("h1") == "Key lessons on domestic abuse"
    context.close()


def test_screenshots_of_index_and_briefing_at_desktop_and_phone_widths(page: Page, site: str, tmp_path: Path) -> None:
    shots = []
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for label, path in (("index", ""), ("search", "?q=child&theme=neglect"), ("briefing", "briefings/child-a/")):
            page.goto(site + path)
            if path.startswith("?"):
                search_ready(page)
            shot = tmp_path / f"{label}-{name}.png"
            page.screenshot(path=shot, full_page=True)
            shots.append(shot)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    for shot in shots:
        assert shot.stat().st_size > 10_000, shot  # a page was drawn, not a blank
    print(f"screenshots in {tmp_path}")


def test_no_console_errors_on_any_page(page: Page, site: str, problems: Problems) -> None:
    visited = 0
    for path in ("", "?q=neglect", "briefings/child-a/", "briefings/child-b/", "themes/", "themes/neglect/"):
        page.goto(site + path)
        page.wait_for_load_state("networkidle")
        visited += 1
    assert visited == 6 and list(problems) == []


def test_every_page_carries_the_content_security_policy_and_it_blocks_inline_script(
    browser: Browser, site: str, published: Path
) -> None:
    # The submission page's policy also lets it play its recording and upload it (tests/test_submit_page.py).
    pages = sorted(set((published / "feed").rglob("*.html")) - {published / "feed" / "submit" / "index.html"})
    assert "briefings/child-a/transcript.html" in [str(path.relative_to(published / "feed")) for path in pages]
    policies = {
        str(path): html.parse(str(path)).getroot().xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
        for path in pages
    }
    assert {str(policy) for found in policies.values() for policy in found} == {
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
        "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'"
    }
    assert all(len(found) == 1 for found in policies.values()), policies
    # And Chromium enforces it: a script written into the page (as an injection would be) does not run.
    context = browser.new_context()
    page = context.new_page()
    for path in ("briefings/child-a/", "briefings/child-a/transcript.html"):
        page.goto(site + path)
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
            " document.head.append(s); }"
        )
        assert page.evaluate("() => window.ran") is None, path
    context.close()


def test_long_lists_come_in_pages_and_results_in_batches(page: Page, many: str) -> None:
    page.goto(many)
    newest = [f"Child {number}: a copy" for number in range(44, -1, -1)]
    listed(page, "#all", newest[:20])
    pages = page.get_by_role("navigation", name="Pages of briefings")
    links = [" ".join(text.split()) for text in pages.get_by_role("link").all_text_contents()]
    assert links == ["Page 1", "Page 2", "Page 3", "Older briefings"]
    assert pages.get_by_role("link", name="Page 1").get_attribute("aria-current") == "page"
    pages.get_by_role("link", name="Older briefings").click()
    expect(page).to_have_url(many + "page/2/index.html")
    listed(page, "#all", newest[20:40])
    # The search on any page covers every briefing, 20 results at a time.
    page.get_by_label("Search titles").fill("copy")
    search_ready(page)
    listed(page, "#results", newest[:20])
    more = page.get_by_role("button", name="Show more results (25 more)")
    more.focus()
    page.keyboard.press("Enter")
    listed(page, "#results", newest[:40])
    assert focused(page) == f"a# {newest[20]}"  # the keyboard carries on from the first new result
    page.get_by_role("button", name="Show more results (5 more)").click()
    listed(page, "#results", newest)
    assert page.get_by_role("button", name="Show more results").is_hidden()


def test_the_search_loads_when_a_person_reaches_it(page: Page, site: str) -> None:
    # Not with the page (it stays small), nor at the first query: when the box or a filter is reached.
    for reach in (
        lambda: page.get_by_label("Search titles").focus(),
        lambda: page.locator("#more-filters summary").click(),
    ):
        page.goto(site)
        page.wait_for_timeout(300)
        assert page.get_attribute("#search", "data-loaded") is None
        reach()
        search_ready(page)
        assert page.inner_text("#search-status") == ""  # loaded, and nothing searched yet


def test_typing_fetches_no_index_part_for_half_typed_words(page: Page, national: str) -> None:
    # Searching at every key would fetch the parts of the word index for "n", "ne", "neg"...: the search
    # waits for the typist to pause, and fetches one part for the word typed.
    page.goto(national)
    page.get_by_label("Search titles").click()
    search_ready(page)
    page.keyboard.type("neglect", delay=100)
    expect(page.locator("#search-status")).to_contain_text("\u201cneglect\u201d")
    parts = page.evaluate(
        "() => performance.getEntriesByType('resource').filter(entry => entry.name.includes('.pf_index')).length"
    )
    assert parts == 1


def test_a_first_search_of_a_large_archive_fetches_little(page: Page, national: str) -> None:
    # Issue 13: at most 300 KB for a first search (scripts/bench_search.py measures 10,000 briefings), as a
    # person searches: the box clicked (the search loads), the word typed key by key. Pagefind runs in the
    # page (no worker), so the page's resource timings see every byte it fetches.
    page.set_viewport_size(PHONE)
    page.goto(national)
    loaded = page.evaluate("() => performance.getEntriesByType('resource').length")
    page.get_by_label("Search titles").click()
    page.keyboard.type("child", delay=150)
    search_ready(page)
    expect(page.locator("#search-status")).to_have_text("2000 briefings match \u201cchild\u201d.")
    expect(page.locator("#results h3")).to_have_count(20)
    assert page.get_by_role("button", name="Show more results (1980 more)").is_visible()
    fetched = page.evaluate(
        "(loaded) => performance.getEntriesByType('resource').slice(loaded)"
        ".map(entry => [entry.name, entry.transferSize])",
        loaded,
    )
    names = [name.split("?")[0].removeprefix(national) for name, _ in fetched]
    assert "pagefind/pagefind.js" in names and sum(name.startswith("pagefind/record/") for name in names) == 20
    assert all(size > 0 for _, size in fetched), fetched  # sizes are measured, not hidden by the browser
    total = sum(size for _, size in fetched)
    assert total < 300_000, (total, fetched)
    print(f"first search of 2,000 briefings: {total:,} bytes in {len(fetched)} files")


def pagefind_counts(page: Page, queries: list[tuple[str, dict[str, str]]]) -> list[int]:
    """How many results Pagefind itself gives each (query, filters), run in the page."""
    return page.evaluate(
        """async (queries) => {
          // The module archive.js imported (at the address the page gives), Pagefind in the page.
          const pagefind = await import(new URL(document.getElementById('search').dataset.search, document.baseURI).href);
          const counts = [];
          for (const [query, filters] of queries) counts.push((await pagefind.search(query, { filters })).results.length);
          return counts;
        }""",
        [list(query) for query in queries],
    )


def test_a_search_of_frequent_words_finds_what_pagefind_finds_without_asking_it(page: Page, national: str) -> None:
    # Pagefind's time grows with the square of its matches (a second for "child" at 10,000 briefings):
    # a query whose every word is in 500 or more briefings is answered from the bundle's bitsets
    # (briefings/frequent.py), matching as Pagefind does: stems, and words the stem begins.
    folder = national + "pagefind/" + requests.get(national + "pagefind/common.json", timeout=10).json()["folder"]
    frequent = [
        word
        for start in ("b", "ba", "bo", "de", "ko")
        for word in requests.get(f"{folder}words/{start.encode().hex()}.json", timeout=10).json()
    ]
    # Short words begin many others ("ba" begins "bake" ...), a long one few; "child" is in every title.
    chosen = ["child", *sorted(frequent, key=len)[:2], max(frequent, key=len)]
    assert "child" in requests.get(f"{folder}words/{b'ch'.hex()}.json", timeout=10).json()
    page.goto(national)
    page.get_by_label("Search titles").click()
    search_ready(page)
    status = page.locator("#search-status")
    both = " ".join(chosen[1:3])
    queries = [(word, {}) for word in chosen] + [("child", {"theme": "neglect"}), (both, {}), (f'"{both}"', {})]
    counted = []
    for query, filters in queries:
        page.get_by_label("Theme").select_option(filters.get("theme", ""))
        page.get_by_label("Search titles").fill(query)
        page.keyboard.press("Enter")
        expect(status).to_contain_text(f"\u201c{query}\u201d")
        counted.append(int(status.inner_text().split(" ")[0]))
        if " " not in query:
            # Pagefind searched none of them: it fetched no part of its word index, no filter file. (A word
            # typed whole, as the first of two, has its part fetched ahead, for a query with another word.)
            fetched = page.evaluate("() => performance.getEntriesByType('resource').map(entry => entry.name)")
            assert [name for name in fetched if ".pf_index" in name or ".pf_filter" in name] == [], fetched
    assert counted[0] == 2000 and counted == pagefind_counts(page, queries), counted
    # Those with the words in the title, a key lesson or a theme first, then the rest, each newest first.
    page.get_by_label("Theme").select_option("")
    page.get_by_label("Search titles").fill(chosen[-1])
    page.keyboard.press("Enter")
    expect(page.locator("#results h3")).to_have_count(20)
    shown = page.locator("#results article").evaluate_all(
        "articles => articles.map(article => [article.querySelector('time').getAttribute('datetime'),"
        " Array.from(article.querySelectorAll('h3, .lessons li, dd:last-of-type'), part => part.textContent).join(' ')])"
    )
    stem = Stemmer.Stemmer("english").stemWord
    heavy = [any(stem(word).startswith(stem(chosen[-1])) for word in search_words(text)) for _, text in shown]
    assert heavy == sorted(heavy, reverse=True)
    for tier in (True, False):
        dates = [date for (date, _), weighty in zip(shown, heavy, strict=True) if weighty is tier]
        assert dates == sorted(dates, reverse=True)


def test_a_filter_chosen_without_words_fetches_its_list_not_the_word_index(page: Page, national: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(national)
    loaded = page.evaluate("() => performance.getEntriesByType('resource').length")
    page.locator("#more-filters summary").click()
    search_ready(page)
    partnership = page.get_by_label("Partnership")
    value = partnership.evaluate("select => select.options[1].value")
    partnership.select_option(value)
    status = page.locator("#search-status")
    expect(status).to_contain_text(f"by {value}.")
    count = int(status.inner_text().split(" ")[0])
    page.get_by_label("Theme").select_option("neglect")
    expect(status).to_contain_text(f"on neglect, by {value}.")
    dates = page.locator("#results time").evaluate_all("times => times.map(time => time.getAttribute('datetime'))")
    assert dates == sorted(dates, reverse=True) and 0 < len(dates) <= count
    # As many as the briefings both lists hold.
    by_partnership, by_theme = (
        requests.get(f"{national}pagefind/list/{name}/{chosen.encode().hex()}.json", timeout=10).json()[chosen]
        for name, chosen in (("partnership", value), ("theme", "neglect"))
    )
    both = len({result for result, _ in by_partnership} & {result for result, _ in by_theme})
    assert 0 < both < count and status.inner_text().startswith(f"{both} briefing")
    fetched = page.evaluate(
        "(loaded) => performance.getEntriesByType('resource').slice(loaded).map(entry => [entry.name, entry.transferSize])",
        loaded,
    )
    names = [name.removeprefix(national) for name, _ in fetched]
    assert [name for name in names if ".pf_index" in name] == [], names  # Pagefind would fetch all of them
    assert sum(name.startswith("pagefind/list/") for name in names) == 2  # each fetched once
    assert sum(size for _, size in fetched) < 300_000


def test_a_shared_link_to_a_filter_lists_its_briefings_without_loading_pagefind(page: Page, national: str) -> None:
    page.goto(national + "?theme=neglect")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ briefings on neglect\.$"))
    expect(page.locator("#results h3")).to_have_count(20)
    names = page.evaluate("() => performance.getEntriesByType('resource').map(entry => entry.name)")
    assert [name for name in names if "pagefind.js" in name or ".pf_" in name or "wasm" in name] == [], names
    # Words then need Pagefind, which loads for them.
    page.get_by_label("Search titles").fill("child")
    expect(page.locator("#search-status")).to_contain_text("match \u201cchild\u201d on neglect.")


# --- Subscribing, and the archive on a phone ----------------------------------------------------------

FEED = "https://briefings.example.org/feed.xml"
NEGLECT_FEED = "https://briefings.example.org/feeds/neglect.xml"


def app_buttons(feed: str, title: str) -> dict[str, str]:
    """What each app button must open for `feed`, written out from each app's documented link."""
    bare = feed.removeprefix("https://")
    encoded = feed.replace(":", "%3A").replace("/", "%2F")
    return {
        "Apple Podcasts": f"podcasts://{bare}",
        "Pocket Casts": f"pktc://subscribe/{bare}",
        "AntennaPod": f"https://antennapod.org/deeplink/subscribe?url={encoded}&title={title}",
        "Overcast": f"overcast://x-callback-url/add?url={encoded}",
        "Podcast Addict": f"podcastaddict://{bare}",
        "Castro": f"castros://subscribe/{bare}",
        "Another podcast app": f"podcast://{bare}",
    }


@pytest.mark.parametrize(
    ("path", "feed", "title"),
    [
        ("subscribe/", FEED, "Safeguarding%20Practice%20Briefings"),
        ("subscribe/neglect/", NEGLECT_FEED, "Safeguarding%20Practice%20Briefings%3A%20Neglect"),
    ],
)
def test_subscribe_page_opens_each_app_on_its_feed(page: Page, site: str, path: str, feed: str, title: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site + path)
    buttons = page.get_by_role("list", name="Open it in your podcast app").get_by_role("link")
    shown = {link.inner_text(): link.get_attribute("href") for link in buttons.all()}
    assert shown == app_buttons(feed, title)
    # The address itself, for any other app (the preview serves pages with its own address in place of base_url).
    served = feed.replace("https://briefings.example.org/", site)
    assert page.locator("#feed-address").inner_text() == served
    assert page.get_by_text("A podcast app brings each new briefing to your phone").is_visible()


def test_subscribe_page_qr_code_decodes_to_the_feed_address(browser: Browser, site: str, tmp_path: Path) -> None:
    # Drawn by the browser from the inline SVG, read back by a real decoder (zbarimg, Debian's zbar-tools).
    context = browser.new_context(viewport=DESKTOP, device_scale_factor=2)
    page = context.new_page()
    for path, feed in (("subscribe/", FEED), ("subscribe/neglect/", NEGLECT_FEED)):
        page.goto(site + path)
        code = page.get_by_role("img", name="QR code of the address above")
        shot = tmp_path / f"qr-{path.count('/')}.png"
        code.screenshot(path=shot)
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(shot)], capture_output=True, text=True, check=True)
        assert decoded.stdout.strip() == feed, path
    assert page.locator("img").count() == 0  # drawn inline: no image request, no third party
    context.close()


def test_copy_button_copies_the_address(browser: Browser, site: str) -> None:
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.rstrip("/"))
    page = context.new_page()
    page.goto(site + "subscribe/neglect/")
    page.get_by_role("button", name="Copy the address").click()
    expect(page.get_by_role("status")).to_have_text("Copied: now paste it into your podcast app.")
    assert page.evaluate("() => navigator.clipboard.readText()") == site + "feeds/neglect.xml"
    context.close()


def test_subscribe_pages_meet_wcag_22_aa_at_desktop_and_phone_widths(page: Page, site: str, tmp_path: Path) -> None:
    axe = Axe()
    for path in ("subscribe/", "subscribe/neglect/"):
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(site + path)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
            assert results.violations_count == 0, (path, viewport, results.generate_report())
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"], path
            shot = tmp_path / f"subscribe-{path.count('/')}-{name}.png"
            page.screenshot(path=shot, full_page=True)
            assert shot.stat().st_size > 10_000, shot
    print(f"screenshots in {tmp_path}")


def test_every_subscribe_on_the_site_leads_to_a_subscribe_page(published: Path) -> None:
    output = published / "feed"
    for path in output.rglob("*.html"):
        tree = html.fromstring(path.read_bytes())
        for link in tree.iter("a"):
            if link.text_content().strip().lower().startswith("subscribe"):
                target = (path.parent / link.get("href").split("#")[0]).resolve()
                assert target.relative_to(output.resolve()).parts[0] == "subscribe", (str(path), link.get("href"))
    pages = {str(path.relative_to(output)) for path in output.glob("subscribe/**/index.html")}
    assert {"subscribe/index.html", "subscribe/neglect/index.html", "subscribe/sexual-abuse/index.html"} <= pages


def target_kind(page: Path, href: str, output: Path) -> str:
    """What sort of page or file a link on `page` leads to: a feed, a theme's page, a subscribe page..."""
    path = href.split("#")[0].split("?")[0]
    if not path:
        return "this page"
    if path.endswith((".xml", ".opml")):
        return "feed file"
    if "://" in path:
        return "another site"
    parts = (page.parent / path).resolve().relative_to(output.resolve()).parts
    return "listing" if len(parts) == 1 or parts[0] == "page" else parts[0]


def test_one_link_text_leads_to_one_kind_of_page(published: Path) -> None:
    # A practitioner who has learned that "neglect" opens the theme's key lessons must never land on raw XML.
    kinds: dict[str, set[str]] = {}
    output = published / "feed"
    for path in output.rglob("*.html"):
        tree = html.fromstring(path.read_bytes())
        for hidden in tree.cssselect(".visually-hidden"):
            hidden.drop_tree()
        for link in tree.iter("a"):
            text = " ".join(link.text_content().split())
            kinds.setdefault(text, set()).add(target_kind(path, link.get("href"), output))
    assert kinds["neglect"] == {"themes"}
    assert kinds["Briefings on neglect"] == {"subscribe"}
    assert {text: found for text, found in kinds.items() if len(found) > 1} == {}


def test_on_a_phone_the_first_briefing_is_on_the_first_screen(page: Page, site: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site)
    first = page.locator("#all h3").first.bounding_box()
    assert first is not None and first["y"] + first["height"] <= PHONE["height"], first
    # The filters wait behind one line; opened, each choice shows whole (the review types' were cut off).
    page.get_by_text("Filter by theme, type, region, year…").click()
    cut = page.evaluate(
        "() => Array.from(document.querySelectorAll('.filters select')).flatMap(select => {"
        " const style = getComputedStyle(select), pen = document.createElement('canvas').getContext('2d');"
        " pen.font = style.font;"
        " const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 24;"
        " return Array.from(select.options).filter(o => pen.measureText(o.text).width > room).map(o => o.text); })"
    )
    assert cut == []
    assert page.get_by_label("Review type").evaluate("select => select.options[1].text") == "Local review, LCSPR (1)"
    # On a wider screen the filters are open from the start.
    page.set_viewport_size(DESKTOP)
    page.goto(site)
    assert page.get_by_label("Review type").is_visible()


def test_transcript_times_play_the_briefing_from_there(page: Page, site: str) -> None:
    page.goto(site + "briefings/child-b/")
    times = page.locator(".transcript button.start")
    assert times.count() > 2
    third = times.nth(2)
    start = float(third.get_attribute("data-start") or "")
    assert start > 5 and third.get_attribute("aria-label") == f"Play from {third.inner_text()}"
    third.click()
    page.wait_for_function(f"() => document.getElementById('player').currentTime >= {start}")
    assert not page.locator("#player").evaluate("audio => audio.paused")
    page.locator("#player").evaluate("audio => audio.pause()")
