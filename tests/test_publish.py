"""End to end through the CLI: the example workspace becomes a feed real podcast parsers read."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import feedparser
import podcastparser
import pytest
import yaml
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from briefings import inputs
from briefings.config import load_show
from briefings.inputs import DigestCache, workspace_fingerprint
from briefings.runner import find_ffmpeg
from tests.conftest import REPO, copy_example, ebur128, run, run_json

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NAMESPACES = {
    "itunes": ITUNES,
    "podcast": "https://podcastindex.org/namespace/1.0",
    "psc": "http://podlove.org/simple-chapters",
}
BASE = "https://briefings.example.org/"


def local(output: Path, url: str) -> Path:
    """The published file a feed URL names."""
    assert url.startswith(BASE), url
    return output / url.removeprefix(BASE)


def parse_podcast(feed: Path) -> dict:
    return podcastparser.parse(BASE + "feed.xml", io.BytesIO(feed.read_bytes()))


def test_podcastparser_reads_every_briefing_with_exact_enclosures(published: Path) -> None:
    output = published / "feed"
    podcast = parse_podcast(output / "feed.xml")
    assert podcast["title"] == "Safeguarding Practice Briefings"
    assert [episode["title"] for episode in podcast["episodes"]] == [
        "Child B: the voice of the child in a violent home",
        "Child A: the baby nobody saw",
    ]
    for episode in podcast["episodes"]:
        (enclosure,) = episode["enclosures"]
        media = local(output, enclosure["url"])
        assert enclosure["file_size"] == media.stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert 40 <= episode["total_time"] <= 50
        titles = [chapter["title"] for chapter in episode["chapters"]]
        assert len(titles) == 4 and titles[0] == "Introduction"
        assert "Key lessons for all professionals" in episode["description"]


def test_feedparser_reads_itunes_fields_guids_and_dates(published: Path) -> None:
    feed = feedparser.parse((published / "feed" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.language == "en-GB"
    assert feed.feed.author_detail.email == "briefings@example.org"
    assert feed.feed.image.href == BASE + "artwork-" + feed.feed.image.href.split("artwork-")[1]
    guids = [entry.id for entry in feed.entries]
    assert len(set(guids)) == 2
    child_a = next(entry for entry in feed.entries if entry.title.startswith("Child A"))
    assert child_a.published_parsed[:5] == (2026, 3, 12, 10, 0)
    assert "Missed health appointments are information about the child" in child_a.summary
    assert child_a.itunes_duration.isdigit()


def test_channel_has_the_tags_apple_requires(published: Path) -> None:
    channel = etree.parse(str(published / "feed" / "feed.xml")).getroot().find("channel")
    for path in (
        "title",
        "description",
        "language",
        "link",
        "itunes:image",
        "itunes:category",
        "itunes:explicit",
        "itunes:owner/itunes:email",
        "itunes:author",
    ):
        assert channel.find(path, NAMESPACES) is not None, path
    assert channel.findtext("itunes:explicit", namespaces=NAMESPACES) == "false"
    for item in channel.findall("item"):
        assert item.find("guid").get("isPermaLink") == "false"
        assert item.findtext("itunes:explicit", namespaces=NAMESPACES) == "false"
        assert item.find("podcast:transcript", NAMESPACES).get("type") == "text/vtt"
        assert len(item.findall("psc:chapters/psc:chapter", NAMESPACES)) == 4


def test_every_episode_measures_podcast_loudness(published: Path) -> None:
    media = sorted((published / "feed" / "media").glob("*.mp3"))
    assert len(media) == 2
    for path in media:
        meter = ebur128(path)
        assert abs(meter.integrated - -16.0) <= 1.0, (path.name, meter)
        assert meter.true_peak <= -1.0, (path.name, meter)


def test_episode_files_carry_id3_tags_art_and_chapters(published: Path) -> None:
    path = next((published / "feed" / "media").glob("child-a-*.mp3"))
    tags = ID3(path)
    assert tags.version == (2, 3, 0)
    assert str(tags["TIT2"]) == "Child A: the baby nobody saw"
    assert str(tags["TPE1"]) == "Dr Helen Okafor"
    assert str(tags["TALB"]) == "Safeguarding Practice Briefings"
    assert str(tags["TCON"]) == "Podcast"
    assert tags.getall("APIC")[0].data == (published / "artwork.jpg").read_bytes()
    chapters = sorted(tags.getall("CHAP"), key=lambda frame: frame.start_time)
    assert [frame.start_time for frame in chapters] == [0, 23000, 32000, 40000]
    assert str(chapters[1].sub_frames["TIT2"]) == "Missed appointments are about the child"
    assert tags.getall("CTOC")[0].child_element_ids == [frame.element_id for frame in chapters]


def test_aac_show_publishes_m4a_with_tags_art_and_chapters(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace('format = "mp3"', 'format = "aac"'))
    result = run(workspace, "publish")
    assert result.exit_code == 0, result.output
    output = workspace / "feed"
    episodes = {episode["title"]: episode for episode in parse_podcast(output / "feed.xml")["episodes"]}
    enclosure = episodes["Child A: the baby nobody saw"]["enclosures"][0]
    assert enclosure["mime_type"] == "audio/x-m4a"
    path = local(output, enclosure["url"])
    assert path.suffix == ".m4a" and enclosure["file_size"] == path.stat().st_size
    meter = ebur128(path)
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter
    parsed = feedparser.parse((output / "feed.xml").read_bytes())
    assert {entry.enclosures[0].type for entry in parsed.entries} == {"audio/x-m4a"}
    media = MP4(path)
    assert media.tags is not None
    assert media.tags["\xa9nam"] == ["Child A: the baby nobody saw"]
    assert media.tags["\xa9ART"] == ["Dr Helen Okafor"]
    assert bytes(media.tags["covr"][0]) == (workspace / "artwork.jpg").read_bytes()
    assert [(chapter.start, chapter.title) for chapter in media.chapters or []] == [
        (0.0, "Introduction"), (23.0, "Missed appointments are about the child"),
        (32.0, "Who lives in the home?"), (40.0, "Share your worry"),
    ]  # fmt: skip


def test_second_publish_encodes_and_writes_nothing(workspace: Path) -> None:
    output = workspace / "feed"
    before = {path: path.stat().st_mtime_ns for path in output.rglob("*") if path.is_file()}
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["encoded"] == 0
    assert summary["written"] == []
    assert {path: path.stat().st_mtime_ns for path in output.rglob("*") if path.is_file()} == before


def test_a_rebuild_that_changes_no_output_writes_nothing(workspace: Path) -> None:
    # A comment in show.toml makes the build run again. Pagefind writes its filter and meta files in a
    # different order on each run; the search comes from the build's cache while its input is unchanged,
    # so the rebuilt archive is byte for byte the published one and nothing is uploaded.
    show = workspace / "show.toml"
    show.write_text(show.read_text() + "\n# a comment changes no output\n")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert "processing 2 recording(s)" in result.stderr  # built again, not skipped as unchanged
    assert summary["written"] == [] and summary["deleted"] == []
    assert (workspace / ".briefings" / "cache" / "search" / "fingerprint").is_file()


def test_originals_are_never_changed(published: Path) -> None:
    for recording in ("child-a/recording.opus", "child-b/recording.flac"):
        original = hashlib.sha256((REPO / "episodes" / recording).read_bytes()).hexdigest()
        assert hashlib.sha256((published / "episodes" / recording).read_bytes()).hexdigest() == original


def test_metadata_edit_keeps_the_guid_and_replaces_the_old_media(workspace: Path) -> None:
    feed = workspace / "feed" / "feed.xml"
    guids_before = {entry.title[:7]: entry.id for entry in feedparser.parse(feed.read_bytes()).entries}
    old_media = next((workspace / "feed" / "media").glob("child-a-*.mp3"))
    briefing = workspace / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(
        briefing.read_text().replace('title: "Child A: the baby nobody saw"', 'title: "Child A: the baby no one saw"')
    )
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["encoded"] == 0  # a title change re-tags, it does not re-encode
    entries = feedparser.parse(feed.read_bytes()).entries
    assert {entry.title[:7]: entry.id for entry in entries} == guids_before
    assert "Child A: the baby no one saw" in [entry.title for entry in entries]
    assert not old_media.exists()
    assert old_media.name.removesuffix(".mp3") not in feed.read_text()


def test_embargoed_briefing_leaves_no_trace_until_its_time(workspace: Path, travel: Callable[[str], None]) -> None:
    add_embargoed(workspace)
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["embargoed"] == {"child-z": "2099-01-01T09:00:00+00:00"}
    for path in (workspace / "feed").rglob("*"):
        assert "child-z" not in path.name
        if path.is_file():
            data = path.read_bytes()
            assert b"Child Z" not in data and "Child Z".encode("utf-16-le") not in data, path

    travel("2099-01-01T09:00:00+00:00")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert "child-z" in summary["episodes"]
    assert "Child Z: embargoed until the press briefing" in (workspace / "feed" / "feed.xml").read_text()


def add_embargoed(workspace: Path) -> None:
    """child-z: child-a's recording under a new title, embargoed until 2099."""
    future = workspace / "episodes" / "child-z"
    future.mkdir()
    data = yaml.safe_load((workspace / "episodes" / "child-a" / "briefing.yaml").read_text())
    data["title"] = "Child Z: embargoed until the press briefing"
    data["review"]["published"] = "2099-01-01T09:00:00+00:00"
    (future / "briefing.yaml").write_text(yaml.safe_dump(data))
    for name in ("recording.opus", "transcript.vtt"):
        (future / name).write_bytes((workspace / "episodes" / "child-a" / name).read_bytes())


def published_files(workspace: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (workspace / "feed").rglob("*") if path.is_file()}


def test_briefings_now_only_rehearses_and_leaves_nothing_staged(workspace: Path) -> None:
    add_embargoed(workspace)
    assert run(workspace, "publish").exit_code == 0
    before = published_files(workspace)
    rehearsal = {"BRIEFINGS_NOW": "2099-01-01T09:00:00+00:00"}
    refusal = (
        "Error: BRIEFINGS_NOW=2099-01-01T09:00:00+00:00: only `publish --dry-run`, `withdraw --dry-run` and "
        "`status` rehearse at another time; this command uses the real time (fix: unset BRIEFINGS_NOW, or add "
        "--dry-run)\n"
    )
    for command in (["publish"], ["withdraw", "child-a"], ["build"], ["validate"]):
        result = run(workspace, *command, env=rehearsal)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", refusal), command
    assert published_files(workspace) == before  # the embargo held

    dry, summary = run_json(workspace, "publish", "--dry-run", env=rehearsal)
    assert dry.exit_code == 0, dry.output
    assert "child-z" in summary["episodes"]
    # The rehearsal staged child-z's pages and audio to plan with, and cleared them.
    assert not (workspace / ".briefings" / "build").exists()
    status = run(workspace, "status", env=rehearsal)
    assert "child-z  draft " in status.stdout
    assert published_files(workspace) == before
    # The next real publish (nothing changed: not even a build) still leaves nothing of child-z.
    again, summary = run_json(workspace, "publish")
    assert again.exit_code == 0 and summary["written"] == [], again.output
    for path in (workspace / ".briefings").rglob("*"):
        if path.is_file() and "cache" not in path.parts:
            assert b"Child Z" not in path.read_bytes() and "child-z" not in path.name, path


def test_a_quiet_publish_with_nothing_changed_prints_nothing(workspace: Path, tmp_path: Path) -> None:
    # A briefing whose folder is gone stays live as last published, with a warning on every build.
    shutil.move(workspace / "episodes" / "child-b", tmp_path / "child-b")
    loud = run(workspace, "publish")
    assert loud.exit_code == 0 and "episodes/child-b: not published from this workspace now" in loud.stderr
    briefing = workspace / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "# a comment changes the folder, not what is published\n")
    for _ in range(2):  # the first builds and writes nothing; the second finds nothing changed and stops early
        result = run(workspace, "-q", "publish")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    shutil.move(tmp_path / "child-b", workspace / "episodes" / "child-b")
    (workspace / "episodes" / "child-a" / "briefing.yaml").write_text(
        (workspace / "episodes" / "child-a" / "briefing.yaml").read_text().replace("the baby nobody", "the baby no one")
    )
    changed = run(workspace, "-q", "publish")
    assert changed.exit_code == 0 and changed.stdout.startswith("Published 2 briefing(s)"), changed.output


def test_withdraw_refuses_what_is_not_published_and_an_empty_name(workspace: Path) -> None:
    add_embargoed(workspace)
    assert run(workspace, "publish").exit_code == 0
    manifest = (workspace / "feed" / ".briefings" / "manifest.json").read_bytes()
    result = run(workspace, "withdraw", "child-z")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: child-z: not published at {workspace}/feed/, nothing to withdraw (fix: to keep it from being published, move "
        "episodes/child-z/ out of the workspace or set its `published` time later)\n"
    )
    empty = run(workspace, "withdraw", "")
    assert (empty.exit_code, empty.stderr) == (
        2,
        "Error: '': not a briefing's name (fix: give the name of its folder in episodes/)\n",
    )
    assert (workspace / "feed" / ".briefings" / "manifest.json").read_bytes() == manifest
    assert run(workspace, "withdraw", "child-a").exit_code == 0
    twice = run(workspace, "withdraw", "child-a")
    assert (twice.exit_code, twice.stdout) == (1, "")
    assert twice.stderr.startswith(
        f"Error: child-a: already withdrawn at {workspace}/feed/, nothing to withdraw (fix: "
    )
    assert b"child-z" not in (workspace / "feed" / ".briefings" / "manifest.json").read_bytes()


def test_archive_index_lists_every_briefing_with_a_player(published: Path) -> None:
    page = (published / "feed" / "index.html").read_text()
    for slug, title in (
        ("child-a", "Child A: the baby nobody saw"),
        ("child-b", "Child B: the voice of the child in a violent home"),
    ):
        assert title in page
        media = next((published / "feed" / "media").glob(f"{slug}-*.mp3"))
        assert f'src="media/{media.name}"' in page
    assert page.index("Child B") < page.index("Child A")  # newest first


def test_commands_offer_only_options_they_use(workspace: Path) -> None:
    for command, option in (("status", "--acl"), ("withdraw", "--jobs")):
        result = run(workspace, command, *(["child-a"] if command == "withdraw" else []), option, "2")
        assert result.exit_code == 2 and f"No such option '{option}'" in result.stderr, result.output
        assert option not in run(workspace, command, "--help").stdout


def test_a_limiter_warning_is_said_when_the_recording_is_encoded_not_on_every_run(workspace: Path) -> None:
    # A whisper with loud clicks: reaching -16 LUFS drives the clicks far into the limiter.
    folder = workspace / "episodes" / "child-a"
    subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i",
         "aevalsrc=exprs='0.004*sin(2*PI*200*t)+0.9*lt(mod(t,2),0.0005)':s=44100:d=50", folder / "recording.wav"],
        check=True,
    )  # fmt: skip
    briefing = folder / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("recording: recording.opus", "recording: recording.wav"))

    def limiter_warnings() -> list[str]:
        result = run(workspace, "publish")
        assert result.exit_code == 0, result.output
        return [line for line in result.stderr.splitlines() if "dB of peak limiting" in line]

    (warning,) = limiter_warnings()  # encoded now
    assert warning.startswith(f"warning: {folder / 'recording.wav'}: reaching -16 LUFS needs ")
    assert limiter_warnings() == []  # nothing changed: a cron job's run says nothing about it
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby no one saw"))
    assert limiter_warnings() == []  # rebuilt, but the recording comes from the cache: no news
    # The cache keeps the warning as data; an entry cached when warnings were text still reads.
    cached = [
        path for path in (workspace / ".briefings" / "cache" / "audio").glob("*.json") if "limiting" in path.read_text()
    ]
    (facts,) = cached
    data = json.loads(facts.read_text())
    (kept,) = data["warnings"]
    assert (kept["file"], kept["severity"]) == (str(folder / "recording.wav"), "warning")
    assert kept["message"].startswith("reaching -16 LUFS needs ") and kept["fix"].startswith("soften the loudest")
    facts.write_text(json.dumps(data | {"warnings": [warning.removeprefix("warning: ")]}))
    briefing.write_text(briefing.read_text().replace("the baby no one saw", "the baby nobody saw"))
    assert limiter_warnings() == []


def test_a_new_pagefind_alone_makes_the_next_publish_build_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The search bundle is Pagefind's output: upgrading it (pip install -U pagefind) must not leave the
    # old bundle published because nothing else changed.
    workspace = copy_example(tmp_path / "workspace")
    show = load_show(workspace)
    before = workspace_fingerprint(workspace, show, DigestCache(workspace))
    assert workspace_fingerprint(workspace, show, DigestCache(workspace)) == before
    monkeypatch.setattr(inputs, "pagefind_version", lambda: "99.0.0")
    assert workspace_fingerprint(workspace, show, DigestCache(workspace)) != before
