"""Transcripts: VTT or SRT as captions, and an HTML version for apps that show text."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from briefings.transcript import Cue, read_cues, shifted
from tests.conftest import copy_example, run, run_json

BASE = "https://briefings.example.org/"
PODCAST = {"podcast": "https://podcastindex.org/namespace/1.0"}


def test_each_briefing_gets_captions_and_an_html_transcript(published: Path) -> None:
    output = published / "feed"
    channel = etree.parse(str(output / "feed.xml")).getroot().find("channel")
    assert channel is not None
    for item in channel.findall("item"):
        tags = [
            (tag.get("type"), tag.get("rel"), tag.get("url")) for tag in item.findall("podcast:transcript", PODCAST)
        ]
        assert [(kind, rel) for kind, rel, _ in tags] == [("text/vtt", "captions"), ("text/html", None)]
        vtt, page = (output / url.removeprefix(BASE) for _, _, url in tags)
        assert vtt.read_text().startswith("WEBVTT")
        document = html.parse(io.BytesIO(page.read_bytes())).getroot()
        title = item.findtext("title")
        assert document.findtext("head/title") == f"Transcript: {title}"
        cues = read_cues(vtt.read_text(), "text/vtt")
        assert [p.text_content() for p in document.iter("p")] == [cue.text for cue in cues]
        assert document.xpath("//time/text()")[:2] == ["0:00", "0:23"]
    # feedparser keeps only the last transcript tag: the HTML one, readable as text.
    entry = feedparser.parse((output / "feed.xml").read_bytes()).entries[0]
    assert entry.podcast_transcript["type"] == "text/html"


def test_srt_and_vtt_cues_with_speakers_and_entities() -> None:
    srt = "1\n00:00:01,500 --> 00:00:04,000\nHello &amp; welcome\n\n2\n01:02:03,000 --> 01:02:05,000\nBye\n"
    assert read_cues(srt, "application/x-subrip") == [Cue(1.5, None, "Hello & welcome"), Cue(3723.0, None, "Bye")]
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Dr Okafor>Ask <i>why</i>.\n"
    assert read_cues(vtt, "text/vtt") == [Cue(0.0, "Dr Okafor", "Ask why.")]


def test_an_unreadable_transcript_refuses_only_its_briefing(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    (workspace / "episodes" / "child-b" / "transcript.vtt").write_text("Child B transcript, typed as notes.\n")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 1
    assert (
        f"{workspace}/episodes/child-b/transcript.vtt: does not start with WEBVTT "
        "(fix: make `WEBVTT` the first line (a WebVTT file must start with it))"
    ) in result.stderr.splitlines()
    assert summary["episodes"] == ["child-a"]
    feed = (workspace / "feed" / "feed.xml").read_text()
    assert "Child A" in feed and "Child B" not in feed
    assert not (workspace / "feed" / "briefings" / "child-b").exists()
    assert not list((workspace / "feed" / "media").glob("child-b-*"))


def test_comma_decimals_in_webvtt_get_one_line_from_check_and_publish_alike(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vtt = workspace / "episodes" / "child-b" / "transcript.vtt"
    vtt.write_text(re.sub(r"(\d\d)\.(\d\d\d)", r"\1,\2", vtt.read_text()))
    monkeypatch.chdir(workspace)
    line = (
        "episodes/child-b/transcript.vtt:3: cue times have a comma before the milliseconds "
        "(`00:00:00,000 --> 00:00:22,611`); WebVTT needs a full stop (fix: replace the commas in the times with "
        "full stops, e.g. 00:00:23.411 (or, if it is SRT, name it .srt))"
    )
    checked = run(Path("."), "check")
    assert checked.exit_code == 1
    assert [found for found in checked.stdout.splitlines() if "child-b/" in found] == [line]
    shutil.rmtree(workspace / "feed")  # published from the start again: child-b never was
    published, summary = run_json(Path("."), "publish")
    assert published.exit_code == 1
    assert [found for found in published.stderr.splitlines() if "child-b/" in found] == [line]
    assert summary["episodes"] == ["child-a"]
    # SRT writes the comma: the same times are fine there.
    assert read_cues(re.sub(r"^WEBVTT\n\n", "", vtt.read_text()), "application/x-subrip")[0].start == 0.0


def test_control_characters_in_a_transcript_are_refused_not_copied_into_pages() -> None:
    for character in ("\x1b", "\x0b", "\x00", "\x85", "\u200b", "\ufeff"):
        with pytest.raises(ValueError, match=f"U\\+{ord(character):04X}"):
            read_cues(f"WEBVTT\n\n00:00.000 --> 00:02.000\nHello{character}\n", "text/vtt")
    assert read_cues("WEBVTT\n\n00:00.000 --> 00:02.000\nTabs\tand CRLF\r\n", "text/vtt") == [
        Cue(0.0, None, "Tabs and CRLF")
    ]
    assert read_cues("\ufeffWEBVTT\n\n00:00.000 --> 00:02.000\nA byte order mark opens the file\n", "text/vtt")


def test_shifted_moves_every_cue_time_and_keeps_everything_else() -> None:
    vtt = "WEBVTT\n\nNOTE a comment 00:00:01.000 --> 00:00:02.000 is not a cue\n\n1\n00:01.500 --> 00:04.000 align:start\n<v Helen>Hello\n\n59:59.900 --> 01:00:00.100\nLate\n"
    moved = shifted(vtt, lambda seconds: seconds + 2.5)
    assert moved == (
        "WEBVTT\n\nNOTE a comment 00:00:01.000 --> 00:00:02.000 is not a cue\n\n1\n00:04.000 --> 00:06.500 align:start\n"
        "<v Helen>Hello\n\n01:00:02.400 --> 01:00:02.600\nLate\n"
    )
    srt = "1\n00:00:01,000 --> 00:00:02,500\nOne\n"
    assert shifted(srt, lambda seconds: max(0.0, seconds - 1.2)) == "1\n00:00:00,000 --> 00:00:01,300\nOne\n"
