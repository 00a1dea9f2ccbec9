"""Trimmed silence and an intro sting move every chapter the same way: in the ID3 tags, the feed and the pages."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import podcastparser
import pytest
import yaml
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from pydub.generators import Sine

from briefings.episode import Timeline
from briefings.runner import find_ffmpeg
from briefings.transcript import parse
from tests.conftest import copy_example, ebur128, run, run_json

BASE = "https://briefings.example.org/"
PSC = {"psc": "http://podlove.org/simple-chapters"}
# child-a's chapters as its author marked them, in seconds of recording.opus.
MARKED = [0.0, 23.0, 32.0, 40.0]
INTRO = 3.0
LEAD = 2.0  # seconds of silence put before child-a's recording
PADDING = 0.25  # silence kept before the first sound (show.toml default)


@pytest.fixture(scope="module")
def stung(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example show with a 3 s intro sting, and child-a re-recorded with 2 s of silence first."""
    workspace = copy_example(tmp_path_factory.mktemp("stung") / "workspace")
    Sine(523).to_audio_segment(duration=INTRO * 1000, volume=-30).fade_out(400).export(
        workspace / "intro.wav", format="wav"
    )
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace("channels = 1\n", 'channels = 1\nintro = "intro.wav"\n'))
    folder = workspace / "episodes" / "child-a"
    subprocess.run(
        [
            find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={LEAD}",
            "-i", folder / "recording.opus", "-filter_complex", "[0:a][1:a]concat=n=2:v=0:a=1",
            folder / "late-start.flac",
        ],
        check=True,
    )  # fmt: skip
    (folder / "recording.opus").unlink()
    briefing = folder / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("recording: recording.opus", "recording: late-start.flac"))
    return workspace


@pytest.fixture(scope="module")
def built(stung: Path) -> tuple[Path, str]:
    """The stung workspace built with two jobs; returns it and what the build printed on stderr."""
    result = run(stung, "publish", "--jobs", "2")
    assert result.exit_code == 0, result.output
    return stung, result.stderr


def test_chapters_move_by_the_intro_minus_the_trimmed_lead(built: tuple[Path, str]) -> None:
    workspace, _ = built
    output = workspace / "feed"
    media = next((output / "media").glob("child-a-*.mp3"))
    tags = ID3(media)
    chapters = sorted(tags.getall("CHAP"), key=lambda frame: frame.start_time)
    starts = [frame.start_time / 1000 for frame in chapters]
    # The added silence ends at 2.0 s (the recording's own first 50 ms are quiet too) and 0.25 s of it is
    # kept: every chapter moves by the same 3.0 - 1.8 s, and the first starts right after the intro.
    shift = starts[1] - MARKED[1]
    assert shift == pytest.approx(INTRO - (LEAD - PADDING), abs=0.08)
    assert starts == [INTRO] + [round(start + shift, 3) for start in MARKED[1:]]
    assert [frame.end_time for frame in chapters[:-1]] == [frame.start_time for frame in chapters[1:]]
    assert chapters[-1].end_time == int(MP3(media).info.length * 1000)
    toc = tags.getall("CTOC")[0]
    assert toc.child_element_ids == [frame.element_id for frame in chapters]
    # The feed's Podlove chapters, the JSON chapters and the page all give the same times.
    feed = etree.fromstring((output / "feed.xml").read_bytes())
    item = feed.xpath("//item[contains(enclosure/@url, 'child-a')]")[0]
    psc = [chapter.get("start") for chapter in item.xpath("psc:chapters/psc:chapter", namespaces=PSC)]
    assert psc == [f"00:00:{start:06.3f}" for start in starts]
    json_chapters = json.loads((output / "briefings" / "child-a" / "chapters.json").read_text())["chapters"]
    assert [chapter["startTime"] for chapter in json_chapters] == starts
    page = (output / "briefings" / "child-a" / "index.html").read_text()
    listed = re.findall(r'class="chapter" data-start="([\d.]+)"', page)
    assert [float(start) for start in listed] == starts  # the chapter buttons seek to these
    # The transcript's times, buttons that play from there, are placed the same way.
    cues = [float(start) for start in re.findall(r'class="start" data-start="([\d.]+)"', page)]
    cues_written, _ = parse((workspace / "episodes" / "child-a" / "transcript.vtt").read_text(), "text/vtt", "")
    expected = [max(INTRO, start + shift) for start in (cue.start for cue in cues_written)]
    assert cues == pytest.approx(expected, abs=0.002)
    # So are the captions apps show: the published transcript's cues (the author's file is left as written).
    published, _ = parse((output / "briefings" / "child-a" / "transcript.vtt").read_text(), "text/vtt", "")
    assert [cue.start for cue in published] == pytest.approx(expected, abs=0.002)
    assert [cue.text for cue in published] == [cue.text for cue in cues_written]
    listed = re.findall(r'<span class="start">([\d:]+)</span> ', page.split('class="chapters"')[1].split("</ol>")[0])
    assert listed == [f"0:{int(start):02d}" for start in starts]
    parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO((output / "feed.xml").read_bytes()))
    episode = next(entry for entry in parsed["episodes"] if "child-a" in entry["link"])
    assert [chapter["start"] for chapter in episode["chapters"]] == [int(start) for start in starts]


def test_untrimmed_recording_moves_by_the_intro_alone(built: tuple[Path, str]) -> None:
    workspace, _ = built
    media = next((workspace / "feed" / "media").glob("child-b-*.mp3"))
    marked = [
        chapter["start"]
        for chapter in yaml.safe_load((workspace / "episodes/child-b/briefing.yaml").read_text())["chapters"]
    ]
    seconds = [int(minutes) * 60 + int(secs) for minutes, secs in (start.split(":") for start in marked)]
    starts = sorted(frame.start_time for frame in ID3(media).getall("CHAP"))
    assert starts == [round((INTRO + start) * 1000) for start in seconds]


def test_published_audio_holds_intro_and_recording_at_target(built: tuple[Path, str]) -> None:
    workspace, _ = built
    for media in (workspace / "feed" / "media").glob("*.mp3"):
        meter = ebur128(media)
        assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, (media.name, meter)
    media = next((workspace / "feed" / "media").glob("child-a-*.mp3"))
    # 47.9 s of recording after 2 s of silence: 1.75 s cut at the start, the trailing pause cut to 0.25 s.
    assert MP3(media).info.length == pytest.approx(INTRO + 47.9 + LEAD - (LEAD - PADDING) - 0.88, abs=0.1)


def test_parallel_build_reports_progress_per_briefing(built: tuple[Path, str]) -> None:
    _, stderr = built
    lines = stderr.splitlines()
    assert lines[0] == "processing 2 recording(s)"
    for slug in ("child-a", "child-b"):
        assert f"encoding: {slug}" in lines
        done = next(line for line in lines if line.startswith(f"encoded: {slug} ("))
        assert re.fullmatch(
            rf"encoded: {slug} \(-\d+\.\d LUFS, -\d+\.\d dBFS -> -1\d\.\d LUFS, -\d\.\d dBTP; gain \+\d+\.\d dB.*\)",
            done,
        ), done
        assert lines.index(f"encoding: {slug}") < lines.index(done)
    assert "trimmed 1.8 s of silence at the start" in stderr


def test_quiet_build_prints_no_progress_and_changed_stings_re_encode(stung: Path, built: tuple[Path, str]) -> None:
    intro = stung / "intro.wav"
    before = hashlib.sha256(intro.read_bytes()).hexdigest()
    Sine(784).to_audio_segment(duration=1500, volume=-20).export(intro, format="wav")
    assert hashlib.sha256(intro.read_bytes()).hexdigest() != before
    result, summary = run_json(stung, "-q", "build", "--jobs", "2")
    assert result.exit_code == 0, result.output
    # No progress, and the examples need no audible limiting: nothing at all on stderr.
    assert result.stderr == ""
    assert summary["encoded"] == 2
    media = next((stung / ".briefings" / "build" / "media").glob("child-b-*.mp3"))
    assert sorted(frame.start_time for frame in ID3(media).getall("CHAP"))[0] == 1500


def test_missing_sting_is_one_clear_error(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace("channels = 1\n", 'channels = 1\noutro = "stings/outro.wav"\n'))
    result = run(workspace, "build")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {show}: audio.outro: stings/outro.wav is not a file "
        f"(fix: put the sting at {workspace / 'stings' / 'outro.wav'} or remove `outro`)\n"
    )


@pytest.mark.parametrize(
    ("timeline", "marked", "placed"),
    [
        (Timeline(), 12.5, 12.5),
        (Timeline(trimmed_start=1.75), 12.5, 10.75),
        (Timeline(trimmed_start=1.75), 1.0, 0.0),
        (Timeline(trimmed_start=1.75, intro=3.0), 0.0, 3.0),
        (Timeline(trimmed_start=0.5, intro=2.0, kept=10.0), 30.0, 12.0),
        (Timeline(intro=2.0004), 1.0, 3.0),
    ],
)
def test_timeline_places_recording_times_in_the_published_file(
    timeline: Timeline, marked: float, placed: float
) -> None:
    assert timeline.place(marked) == placed
