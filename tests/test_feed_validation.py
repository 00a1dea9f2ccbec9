"""`briefings validate` and the check every publish runs: feeds judged the way directories judge them."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import requests
from PIL import Image

from briefings.errors import Severity
from briefings.feed_validation import FeedValidator
from briefings.resolver import StorageResolver
from briefings.storage import LocalStorage
from tests.conftest import run, serving

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BASE = "https://podcast.example.org/"


def without(workspace: Path, text: str) -> str:
    """Messages as a user in the workspace would read them: paths relative to it."""
    return text.replace(str(workspace) + "/", "")


def test_published_workspace_passes_every_check(published: Path) -> None:
    result = run(published, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "15 feed(s) valid: 10 item(s), 0 error(s), 0 warning(s).\n"


def test_a_published_feed_file_is_checked_against_its_folder(published: Path) -> None:
    result = run(published, "validate", str(published / "feed" / "feeds" / "neglect.xml"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 feed(s) valid: 1 item(s), 0 error(s), 0 warning(s).\n"


def test_broken_files_are_reported_once_each_with_line_and_fix(workspace: Path) -> None:
    output = workspace / "feed"
    media = next((output / "media").glob("child-a-*.mp3"))
    size = media.stat().st_size  # what the feed's enclosure says
    media.write_bytes(media.read_bytes()[:1000])
    (output / "briefings" / "child-b" / "chapters.json").write_text('{"version": "1.2.0", "chapters": [{"x": 1}]}')
    (output / "briefings" / "child-a" / "transcript.html").unlink()
    (output / "briefings" / "child-b" / "transcript.vtt").write_text("this is not a caption file\n")
    artwork = next(output.glob("artwork-*.jpg"))
    Image.new("RGB", (1400, 1200), (10, 20, 30)).save(artwork, format="JPEG")
    result = run(workspace, "validate")
    assert result.exit_code == 1
    base = "https://briefings.example.org/"
    assert without(workspace, result.stderr).splitlines() == [
        "checking 15 feed(s) in feed/",
        f"feed/feed.xml:20: itunes:image: {base}{artwork.name}: artwork is 1400x1200 pixels; Apple Podcasts "
        "requires a square image (fix: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)",
        f"feed/feed.xml:72: item[1] podcast:transcript: {base}briefings/child-b/transcript.vtt is not a readable "
        "WebVTT file (fix: publish a well-formed transcript)",
        f"feed/feed.xml:74: item[1] podcast:chapters: {base}briefings/child-b/chapters.json chapter 1 has no "
        "startTime in seconds (fix: publish JSON chapters 1.2: {version, chapters: [{startTime}]})",
        f"feed/feed.xml:119: item[2] enclosure: length is {size} bytes, "
        f"but {base}media/{media.name} is 1000 bytes (fix: publish again so the feed and the file agree; length "
        "must be the file's exact size)",
        f"feed/feed.xml:134: item[2] podcast:transcript: {base}briefings/child-a/transcript.html is not in feed/ "
        "(fix: publish the file there, or remove the tag)",
    ]
    assert result.stdout == "15 feed(s) invalid: 10 item(s), 5 error(s), 0 warning(s).\n"


def test_validate_json_for_scripts(published: Path) -> None:
    result = run(published, "validate", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["valid"] is True
    main = next(feed for feed in document["feeds"] if feed["feed"].endswith("feed/feed.xml"))
    assert main == {"feed": main["feed"], "items": 2, "errors": 0, "warnings": 0, "problems": []}


def test_validate_over_http_heads_every_enclosure(workspace: Path) -> None:
    with serving(workspace) as base:
        good = run(workspace, "validate", base + "feed.xml")
        assert good.exit_code == 0, good.output
        assert good.stdout == "1 feed(s) valid: 2 item(s), 0 error(s), 0 warning(s).\n"
        media = sorted((workspace / "feed" / "media").glob("*.mp3"))
        size = media[0].stat().st_size  # what the feed's enclosure says
        media[0].write_bytes(b"\xff\xfb" * 100)  # the server now gives another Content-Length
        media[1].unlink()
        assert requests.head(f"{base}media/{media[1].name}", timeout=10).status_code == 404
        bad = run(workspace, "validate", base + "feed.xml")
    assert bad.exit_code == 1
    lines = bad.stderr.splitlines()
    assert lines[0] == f"fetching {base}feed.xml"
    assert any(
        line.endswith(f"item[2] enclosure: length is {size} bytes, but {base}media/{media[0].name} is 200 bytes "
        "(fix: publish again so the feed and the file agree; length must be the file's exact size)")
        for line in lines
    )  # fmt: skip
    assert any(
        line.endswith(f"item[1] enclosure: {base}media/{media[1].name} answers HEAD with HTTP 404, not 200 "
        "(fix: publish the audio there; apps download it with HEAD and GET)")
        for line in lines
    )  # fmt: skip


def test_validate_names_a_missing_feed_and_an_unreachable_one(tmp_path: Path, published: Path) -> None:
    missing = run(published, "validate", "no-such-feed.xml")
    assert missing.exit_code == 2
    assert missing.stderr == (
        "Error: no-such-feed.xml: no such file, and not an http(s) address (fix: give a feed's file or URL)\n"
    )
    unpublished = tmp_path / "new"
    assert run(tmp_path, "init", str(unpublished)).exit_code == 0
    nothing = run(unpublished, "validate")
    assert nothing.exit_code == 1
    assert nothing.stderr == (
        f"Error: {unpublished}/feed/feed.xml: nothing published yet "
        "(fix: run `briefings publish` first, or give the FEED to check)\n"
    )
    with serving(published) as base:
        gone = run(published, "validate", base + "feeds/no-such-theme.xml")
    assert gone.exit_code == 1
    assert gone.stderr.splitlines()[-1] == (
        f"Error: {base}feeds/no-such-theme.xml: answers GET with HTTP 404, not 200 (fix: check the address)"
    )


def test_a_new_show_id_keeps_published_guids_and_valid_feeds(workspace: Path) -> None:
    # GUIDs derive from the show's id, but once published the destination's manifest keeps them for life:
    # changing the id must neither change a GUID (apps would list the briefing twice) nor fail the feed check.
    feed = workspace / "feed" / "feed.xml"
    guids = sorted(entry.id for entry in feedparser.parse(feed.read_bytes()).entries)
    show = workspace / "show.toml"
    show.write_text(
        show.read_text().replace("dc387b0d-0894-4f7b-aefb-c35fa1bbf249", "11111111-2222-4333-8444-555555555555")
    )
    result = run(workspace, "publish", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["feed_problems"] == []
    assert sorted(entry.id for entry in feedparser.parse(feed.read_bytes()).entries) == guids


def test_publish_reports_feed_checks_in_its_summary(workspace: Path) -> None:
    result = run(workspace, "publish", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["feed_problems"] == []
    assert len(summary["feeds"]) == 15  # main, 9 themes, 5 review types
    assert "https://briefings.example.org/feeds/neglect.xml" in summary["feeds"]


def write_site(root: Path) -> None:
    """A small published folder whose files break the rules in known ways."""
    (root / "media").mkdir(parents=True)
    (root / "media" / "one.mp3").write_bytes(b"\xff\xfb" * 500)
    (root / "media" / "two.mp3").write_bytes(b"\xff\xfb" * 300)
    buffer = io.BytesIO()
    Image.new("RGBA", (1400, 1400), (0, 0, 0, 0)).save(buffer, format="PNG")
    (root / "art.png").write_bytes(buffer.getvalue())
    (root / "chapters.json").write_text(
        '{"version": "1.2.0", "chapters": [{"startTime": 30, "title": "B"}, {"startTime": 10, "title": "A"}]}'
    )
    (root / "captions.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n")


BAD_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
  xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:psc="http://podlove.org/simple-chapters">
<channel>
<title>Bad show</title>
<description>{"x" * 4001}</description>
<language>English</language>
<itunes:image href="{BASE}art.png"/>
<itunes:category text="Goverment"/>
<itunes:explicit>yes</itunes:explicit>
<podcast:guid>not-a-uuid</podcast:guid>
<item>
<title>One</title>
<guid>episode-1</guid>
<enclosure url="{BASE}media/one.mp3" length="999" type="audio/mpeg"/>
<pubDate>Mon, 12 Mar 2026 10:00:00 +0000</pubDate>
<itunes:duration>1:2:3:4</itunes:duration>
<podcast:chapters url="{BASE}chapters.json" type="application/json"/>
<podcast:transcript url="{BASE}captions.vtt" type="text/vtt" rel="captions"/>
<podcast:transcript url="{BASE}missing.html" type="text/html"/>
</item>
<item>
<title></title>
<guid isPermaLink="false">episode-1</guid>
<enclosure url="{BASE}media/two.mp3" length="" type="audio/wav"/>
<pubDate>Sun, 01 Aug 2027 10:00:00 +0000</pubDate>
<psc:chapters version="1.2"><psc:chapter start="00:01:00" title="Late"/><psc:chapter start="00:00:10" title=""/></psc:chapters>
</item>
<item>
<guid isPermaLink="false">episode-3</guid>
<enclosure url="{BASE}media/one.mp3" length="1000" type="audio/mpeg"/>
<pubDate>yesterday</pubDate>
</item>
</channel>
</rss>
"""


def test_every_directory_rule_is_checked_and_reported_at_once(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_site(root)
    validator = FeedValidator(StorageResolver(BASE, LocalStorage(root)), NOW)
    report = validator.validate("bad.xml", BAD_FEED.encode())
    found = [(p.line, p.field, p.message, p.severity is Severity.WARNING) for p in report.problems]
    assert found == [
        (4, "link", "is missing", True),
        (4, "itunes:author", "is missing", True),
        (4, "itunes:owner/itunes:email", "is missing", True),
        (4, "copyright", "is missing", True),
        (4, "atom:link", 'has no rel="self" link', True),
        (4, "podcast:locked", "is missing", True),
        (6, "description", "is 4001 bytes; Apple Podcasts allows 4000", False),
        (7, "language", "`English` is not an ISO 639 language code", False),
        (
            8,
            "itunes:image",
            f"{BASE}art.png: artwork has an alpha channel (transparency); "
            "Apple Podcasts requires RGB without transparency",
            False,
        ),
        (9, "itunes:category", '"Goverment" is not an Apple Podcasts category', False),
        (10, "itunes:explicit", "is `yes`, which Apple has deprecated", True),
        (11, "podcast:guid", "`not-a-uuid` is not a UUID", False),
        (12, "item[1] description", "is missing", True),
        (14, "item[1] guid", "is not a web address, but isPermaLink is true (the default)", False),
        (15, "item[1] enclosure", f"length is 999 bytes, but {BASE}media/one.mp3 is 1000 bytes", False),
        (16, "item[1] pubDate", "`Mon, 12 Mar 2026 10:00:00 +0000` names the wrong day: that date is a Thu", False),
        (17, "item[1] itunes:duration", "`1:2:3:4` is not a duration", False),
        (18, "item[1] podcast:chapters", "type is `application/json`", False),
        (
            18,
            "item[1] podcast:chapters",
            f"{BASE}chapters.json chapter 2 starts before chapter 1; chapters must be in order",
            False,
        ),
        (20, "item[1] podcast:transcript", f"{BASE}missing.html is not in {root}/", False),
        (22, "item[2] title", "is missing or empty", False),
        (22, "item[2] itunes:duration", "is missing", True),
        (22, "item[2] description", "is missing", True),
        (24, "item[2] guid", "`episode-1` is also the GUID of item[1]", False),
        (25, "item[2] enclosure", "type `audio/wav`: not a type Apple Podcasts plays", False),
        (25, "item[2] enclosure", "length `` is not the file's size in bytes", False),
        (
            26,
            "item[2] pubDate",
            "`Sun, 01 Aug 2027 10:00:00 +0000` is in the future, so apps hide the episode or list it out of order",
            False,
        ),
        (27, "item[2] psc:chapters", "chapter 2 starts before chapter 1", False),
        (27, "item[2] psc:chapters", "chapter 2 has no title", False),
        (29, "item[3] title", "is missing or empty", False),
        (29, "item[3] itunes:duration", "is missing", True),
        (29, "item[3] description", "is missing", True),
        (31, "item[3] enclosure", f"{BASE}media/one.mp3 is also the enclosure of item[1]", False),
        (32, "item[3] pubDate", "`yesterday` is not an RFC 2822 date", False),
    ]
    assert report.items == 3 and report.errors == 22


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_shows_own_feed_online_is_compared_with_the_publish_manifest(workspace: Path) -> None:
    # Publish for an address this machine serves, so the feed online is the workspace's own.
    port = free_port()
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace("https://briefings.example.org/", f"http://127.0.0.1:{port}/"))
    assert run(workspace, "publish").exit_code == 0
    manifest_path = workspace / "feed" / ".briefings" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    recorded = manifest["episodes"]["child-a"]["guid"]
    manifest["episodes"]["child-a"]["guid"] = "00000000-0000-4000-8000-000000000000"
    manifest_path.write_text(json.dumps(manifest))
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings", "-C", str(workspace), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("Serving ")
        result = run(workspace, "validate", f"http://127.0.0.1:{port}/feed.xml")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"http://127.0.0.1:{port}/feed.xml:115: item[2] guid: is {recorded}, but child-a was first published with "
        "GUID 00000000-0000-4000-8000-000000000000 (fix: restore the show's `id` in show.toml, from which GUIDs "
        "derive; apps take a new GUID for a new episode)"
    )
