"""`briefings check` on a corpus of bad submissions: each gets its exact one-line message and exit 1."""

from __future__ import annotations

import hashlib
import io
import json
import pkgutil
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from briefings.runner import find_ffmpeg
from tests.conftest import REPO, copy_example, run, run_json

BASE = (REPO / "episodes" / "child-a" / "briefing.yaml").read_text()


def ffmpeg(*arguments: str) -> None:
    subprocess.run([find_ffmpeg(), "-y", "-loglevel", "error", *arguments], check=True)


def tone(seconds: float, volume_db: float = -20) -> str:
    """An lavfi source: a tone with syllable-like bursts and pauses, `seconds` long."""
    amplitude = 10 ** (volume_db / 20)
    # volume evaluates its expression once per frame, not per sample: quick to render. The sine
    # source plays at 1/8 of full scale, so scale by 8 to make `amplitude` relative to full scale.
    envelope = f"{amplitude * 8}*(0.5+0.5*sin(2*PI*4*t))*gt(sin(2*PI*0.4*t),-0.3)"
    return f"sine=frequency=180:sample_rate=44100:duration={seconds},volume=eval=frame:volume='{envelope}'"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Recordings with one thing wrong each, generated with ffmpeg."""
    folder = tmp_path_factory.mktemp("audio")
    made = {
        "short": folder / "short.opus",
        "silent": folder / "silent.wav",
        "quiet": folder / "quiet.wav",
        "clipped": folder / "clipped.wav",
        "over": folder / "over.wav",
        "gap": folder / "gap.flac",
        "low-rate": folder / "low-rate.wav",
        "six-channels": folder / "six.flac",
        "long": folder / "long.opus",
        "blip": folder / "blip.wav",
        "video-only": folder / "video-only.mp4",
    }
    ffmpeg("-f", "lavfi", "-i", tone(12), "-c:a", "libopus", str(made["short"]))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "40", str(made["silent"]))
    ffmpeg("-f", "lavfi", "-i", tone(40, -52), str(made["quiet"]))
    ffmpeg("-f", "lavfi", "-i", tone(40, 0), "-af", "volume=10dB", "-c:a", "pcm_s16le", str(made["clipped"]))
    # Floating point keeps what goes over full scale: no run of samples stuck at the top, just too loud.
    ffmpeg("-f", "lavfi", "-i", tone(40, 0), "-af", "volume=4dB", "-c:a", "pcm_f32le", str(made["over"]))
    gap = f"{tone(40)},volume=enable='between(t,15,23)':volume=0"
    ffmpeg("-f", "lavfi", "-i", gap, str(made["gap"]))
    ffmpeg("-f", "lavfi", "-i", tone(40), "-ar", "8000", str(made["low-rate"]))
    ffmpeg("-f", "lavfi", "-i", tone(40), "-ac", "6", str(made["six-channels"]))
    long = "sine=frequency=180:sample_rate=8000:duration=1260"  # a plain tone: quick to make; only its length matters
    ffmpeg("-f", "lavfi", "-i", long, "-c:a", "libopus", "-b:a", "12k", str(made["long"]))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.1", str(made["blip"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=2:size=64x64:rate=10", "-c:v", "mpeg4", str(made["video-only"]))
    return made


@dataclass(frozen=True)
class Case:
    """One bad submission: how to make it from the valid Child A example, and the line check prints."""

    slug: str
    make: Callable[[Path, dict[str, Path]], None]
    expected: str


def edit(old: str, new: str) -> Callable[[Path, dict[str, Path]], None]:
    """Replace text in the example's briefing.yaml."""
    assert old in BASE, old

    def make(folder: Path, audio: dict[str, Path]) -> None:
        (folder / "briefing.yaml").write_text(BASE.replace(old, new))

    return make


def recording(
    name: str, source: str | None = None, data: bytes | None = None
) -> Callable[[Path, dict[str, Path]], None]:
    """Replace the recording with a generated one, or with raw bytes, under `name`."""

    def make(folder: Path, audio: dict[str, Path]) -> None:
        (folder / "recording.opus").unlink()
        if data is not None:
            (folder / name).write_bytes(data)
        else:
            assert source is not None
            shutil.copy(audio[source], folder / name)
        (folder / "briefing.yaml").write_text(BASE.replace("recording: recording.opus", f"recording: {name}"))

    return make


def write(text: bytes) -> Callable[[Path, dict[str, Path]], None]:
    def make(folder: Path, audio: dict[str, Path]) -> None:
        (folder / "briefing.yaml").write_bytes(text)

    return make


def truncated(folder: Path, audio: dict[str, Path]) -> None:
    whole = (REPO / "episodes" / "child-b" / "recording.flac").read_bytes()
    (folder / "recording.opus").unlink()
    (folder / "recording.flac").write_bytes(whole[: len(whole) // 4])
    (folder / "briefing.yaml").write_text(BASE.replace("recording: recording.opus", "recording: recording.flac"))


def symlink_out(folder: Path, audio: dict[str, Path]) -> None:
    (folder / "recording.opus").unlink()
    (folder / "recording.opus").symlink_to(REPO / "episodes" / "child-b" / "recording.flac")


def transcript(name: str, edit: Callable[[str], str]) -> Callable[[Path, dict[str, Path]], None]:
    """Replace the transcript with the example's, edited, under `name`."""

    def make(folder: Path, audio: dict[str, Path]) -> None:
        text = (folder / "transcript.vtt").read_text(encoding="utf-8")
        (folder / "transcript.vtt").unlink()
        (folder / name).write_text(edit(text), encoding="utf-8")
        (folder / "briefing.yaml").write_text(BASE.replace("transcript: transcript.vtt", f"transcript: {name}"))

    return make


def huge(folder: Path, audio: dict[str, Path]) -> None:
    with (folder / "briefing.yaml").open("w") as out:
        out.write(BASE)
        out.write("# padding\n" * 5_000_000)


def no_briefing(folder: Path, audio: dict[str, Path]) -> None:
    (folder / "briefing.yaml").unlink()


def symlinked_folder(folder: Path, audio: dict[str, Path]) -> None:
    """The episode folder is a link to a folder outside the workspace."""
    elsewhere = folder.parent.parent.parent / f"elsewhere-{folder.name}"
    shutil.move(folder, elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)


def briefing_links_out(folder: Path, audio: dict[str, Path]) -> None:
    """briefing.yaml is a link to a file outside the workspace."""
    elsewhere = folder.parent.parent.parent / f"elsewhere-{folder.name}.yaml"
    shutil.move(folder / "briefing.yaml", elsewhere)
    (folder / "briefing.yaml").symlink_to(elsewhere)


def invisible(character: str) -> Callable[[Path, dict[str, Path]], None]:
    """The review's subject with `character` (written as a YAML escape) inside it."""
    return edit("  subject: Child A", f'  subject: "Child{character}A"')


Y = "episodes/{slug}/briefing.yaml"
INVISIBLE_LINE = (
    f"{Y}:9: review.subject: contains invisible control characters (fix: retype the text or paste it as plain text)"
)
T = "episodes/{slug}/transcript"
CASES = [
    Case(
        "transcript-comma-decimals",
        transcript("transcript.vtt", lambda text: re.sub(r"(\d\d)\.(\d\d\d)", r"\1,\2", text)),
        f"{T}.vtt:3: cue times have a comma before the milliseconds (`00:00:00,000 --> 00:00:22,896`); WebVTT needs a full stop (fix: replace the commas in the times with full stops, e.g. 00:00:23.411 (or, if it is SRT, name it .srt))",
    ),
    Case(
        "transcript-escape-code",
        transcript("transcript.vtt", lambda text: text.replace("Lesson 1.", "Lesson 1.\x1b]0;pwned\x07")),
        f"{T}.vtt:7: contains an invisible control character (U+001B) (fix: delete it (it may be a terminal code pasted with the text) and save the file again)",
    ),
    Case(
        "transcript-nul",
        transcript("transcript.txt", lambda text: "Child A.\n\nLesson 1.\x00\n"),
        f"{T}.txt:3: contains an invisible control character (U+0000) (fix: delete it (it may be a terminal code pasted with the text) and save the file again)",
    ),
    Case(
        "transcript-zero-width-space",
        transcript("transcript.vtt", lambda text: text.replace("Lesson 1.", "Lesson\u200b1.")),
        f"{T}.vtt:7: contains an invisible control character (U+200B) (fix: delete it (it may be a terminal code pasted with the text) and save the file again)",
    ),
    Case(
        "transcript-c1-control",
        transcript("transcript.vtt", lambda text: text.replace("Lesson 1.", "Lesson 1.\x9b")),
        f"{T}.vtt:7: contains an invisible control character (U+009B) (fix: delete it (it may be a terminal code pasted with the text) and save the file again)",
    ),
    Case(
        "transcript-vertical-tab",
        transcript("transcript.srt", lambda text: "1\n00:00:01,000 --> 00:00:04,000\nChild A.\x0b\n"),
        f"{T}.srt:3: contains an invisible control character (U+000B) (fix: delete it (it may be a terminal code pasted with the text) and save the file again)",
    ),
    Case(
        "transcript-cue-backwards",
        transcript(
            "transcript.vtt",
            lambda text: text.replace("00:00:23.696 --> 00:00:32.109", "00:00:32.109 --> 00:00:23.696"),
        ),
        f"{T}.vtt:6: a cue ends before it starts (fix: correct the cue's times)",
    ),
    Case(
        "transcript-minute-60",
        transcript("transcript.vtt", lambda text: text.replace("00:00:23.696", "00:60:23.696")),
        f"{T}.vtt:6: cue timing `00:60:23.696 --> 00:00:32.109` is not valid (fix: write it as 00:01:02.500 --> 00:01:05.000)",
    ),
    Case(
        "not-audio",
        recording("recording.mp3", data=b"%PDF-1.7\n" + b"report text " * 2000),
        "episodes/not-audio/recording.mp3: is not a readable audio recording (Invalid data found when processing input) (fix: export it again as WAV, FLAC, MP3 or M4A)",
    ),
    Case(
        "empty-recording",
        recording("recording.wav", data=b""),
        "episodes/empty-recording/recording.wav: is empty (0 bytes) (fix: copy or export the recording again)",
    ),
    Case(
        "truncated",
        truncated,
        "episodes/truncated/recording.flac: is cut short: it stops at 0:09 of 0:42 (fix: copy or export the whole file again)",
    ),
    Case(
        "silent",
        recording("recording.wav", "silent"),
        "episodes/silent/recording.wav: is silent (fix: check the microphone is selected and record again)",
    ),
    Case(
        "too-short",
        recording("recording.opus", "short"),
        "episodes/too-short/recording.opus: is only 12 seconds long (fix: a briefing needs at least 30 seconds)",
    ),
    Case(
        # Too short for a loudness meter (EBU R128 needs 400 ms), so it measures like silence; it is not.
        "blip",
        recording("recording.wav", "blip"),
        "episodes/blip/recording.wav: is only 0.1 seconds long (fix: a briefing needs at least 30 seconds)",
    ),
    Case(
        "video-only",
        recording("recording.mp4", "video-only"),
        "episodes/video-only/recording.mp4: has no audio track (fix: choose the file with the sound, or export the audio alone as WAV, FLAC, MP3 or M4A)",
    ),
    Case(
        "wrong-extension",
        recording("recording.mp3", "gap"),
        "episodes/wrong-extension/recording.mp3: is named .mp3 but holds FLAC audio (fix: rename it to recording.flac)",
    ),
    Case(
        "chapter-past-end",
        edit('start: "00:40"', 'start: "05:00"'),
        f"{Y}:32: chapters[4].start: starts at 5:00, after the recording ends (0:47) (fix: correct the start time, or remove the chapter)",
    ),
    Case(
        "chapters-out-of-order",
        edit('start: "00:23"', 'start: "00:35"'),
        f"{Y}:25: chapters: are not in order of start time (fix: list chapters from the start of the recording)",
    ),
    Case(
        "chapter-bad-time",
        edit('start: "00:23"', 'start: "1h20"'),
        f'{Y}:28: chapters[2].start: is not a time in the recording (fix: write mm:ss or hh:mm:ss, e.g. "04:30")',
    ),
    Case(
        "yaml-syntax",
        edit("  subject: Child A\n", "  subject: Child A\n    partnership: oops\n"),
        f"{Y}:10: YAML syntax error: mapping values are not allowed here (fix: check the indentation and quote text containing a colon)",
    ),
    Case(
        "yaml-unquoted-colon",
        edit('title: "Child A: the baby nobody saw"', "title: Child A: the baby nobody saw"),
        f"{Y}:2: YAML syntax error: mapping values are not allowed here (fix: check the indentation and quote text containing a colon)",
    ),
    Case(
        "lessons-not-a-list",
        edit("key_lessons:\n  - Missed", "key_lessons: Missed"),
        f"{Y}:17: key_lessons: must be a list (fix: write each item on its own line starting with `- `)",
    ),
    Case(
        "explicit-maybe",
        edit("recording: recording.opus", "explicit: maybe\nrecording: recording.opus"),
        f"{Y}:34: explicit: must be true or false (fix: write true or false)",
    ),
    Case(
        "missing-title",
        edit('title: "Child A: the baby nobody saw"\n', ""),
        f"{Y}:2: title: is missing (fix: add `title:`)",
    ),
    Case(
        "missing-partnership",
        edit("  partnership: Westmarsh Safeguarding Children Partnership\n", ""),
        f"{Y}:7: review.partnership: is missing (fix: add `partnership:`)",
    ),
    Case(
        "typo-field",
        edit("key_lessons:", "key_lesons:"),
        f"{Y}:17: key_lesons: unknown field `key_lesons` (fix: did you mean `key_lessons`?)",
    ),
    Case(
        "typo-nested-field",
        edit("  region: North West", "  regoin: North West"),
        f"{Y}:11: review.regoin: unknown field `regoin` (fix: did you mean `region`?)",
    ),
    Case(
        "date-without-timezone",
        edit("published: 2026-03-12T10:00:00+00:00", "published: 2026-03-12T10:00:00"),
        f"{Y}:13: review.published: has no timezone (fix: add one, e.g. 2026-03-12T10:00:00+00:00 for 10am UK winter time)",
    ),
    Case(
        "impossible-date",
        edit("published: 2026-03-12T10:00:00+00:00", "published: 2026-02-30T10:00:00+00:00"),
        f"{Y}:13: review.published: is not a date that exists (fix: check the day and the month (e.g. there is no 30 February))",
    ),
    Case(
        "url-without-scheme",
        edit("report_url: https://westmarsh-scp", "report_url: westmarsh-scp"),
        f"{Y}:12: review.report_url: is not a web address (fix: give the full address starting with https://)",
    ),
    Case(
        "url-javascript",
        edit(
            "report_url: https://westmarsh-scp.example.org/reviews/child-a-full-report.pdf",
            'report_url: "javascript:alert(1)"',
        ),
        f"{Y}:12: review.report_url: is not a web address (fix: give the full address starting with https://)",
    ),
    Case(
        "url-plain-http",
        edit("report_url: https://westmarsh-scp", "report_url: http://westmarsh-scp"),
        f"{Y}:12: review.report_url: is not an https:// address (fix: give the full address starting with https://)",
    ),
    Case(
        "not-utf8",
        write(BASE.replace("Dr Helen Okafor", "Dr Helen Okafor £").encode("latin-1")),
        f"{Y}: is not UTF-8 text (fix: save it as UTF-8 (in most editors: Save As, encoding UTF-8))",
    ),
    Case(
        "control-character",
        edit("  subject: Child A", '  subject: "Child A\\x07"'),
        f"{Y}:9: review.subject: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case(
        "raw-control-character",
        write(BASE.replace("Child A was", "Child A\x1b was").encode()),
        f"{Y}:4: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case(
        "html-in-title",
        edit('title: "Child A: the baby nobody saw"', 'title: "Child A: <b>the baby</b> nobody saw"'),
        f"{Y}:2: title: contains HTML markup (fix: write plain text; the archive and feed format it)",
    ),
    Case(
        "script-in-lesson",
        edit("  - If you are worried", "  - <script>alert(1)</script> If you are worried"),
        f"{Y}:20: key_lessons[3]: contains HTML markup (fix: write plain text; the archive and feed format it)",
    ),
    Case(
        "recording-escapes-folder",
        edit("recording: recording.opus", "recording: ../child-b/recording.flac"),
        f"{Y}: recording: `../child-b/recording.flac` is outside the episode folder (fix: put the file in episodes/recording-escapes-folder/ and give just its name)",
    ),
    Case(
        "symlink-out-of-folder",
        symlink_out,
        f"{Y}: recording: `recording.opus` is outside the episode folder (fix: put the file in episodes/symlink-out-of-folder/ and give just its name)",
    ),
    Case(
        "huge-yaml", huge, f"{Y}: is 48 MiB, far too big for a briefing (fix: keep only the briefing's metadata in it)"
    ),
    Case(
        "too-many-lessons",
        edit("themes:", "  - a\n  - b\n  - c\n  - d\n  - e\nthemes:"),
        f"{Y}:17: key_lessons: has more than 7 (fix: keep only the most important ones)",
    ),
    Case(
        "no-lessons",
        edit("key_lessons:\n  - Missed", "key_lessons: []\nx_unused:\n  - Missed"),
        f"{Y}:17: key_lessons: is empty (fix: add at least one item, each on its own line starting with `- `)",
    ),
    Case(
        "unknown-theme",
        edit("  - neglect\n", "  - negelct\n"),
        f"{Y}:22: themes[1]: `negelct` is not one of the show's themes (fix: use one of: neglect, domestic abuse, parental mental health, substance misuse, information sharing, professional curiosity, voice of the child, sexual abuse, exploitation; or ask the producer to add it to show.toml)",
    ),
    Case(
        "unknown-review-type",
        edit("type: local child safeguarding practice review", "type: case review"),
        f"{Y}:8: review.type: must be 'serious case review', 'local child safeguarding practice review', 'national review', 'safeguarding adults review' or 'domestic homicide review' (fix: use one of the values listed)",
    ),
    Case(
        "Bad Folder Name",
        lambda folder, audio: None,
        "episodes/Bad Folder Name: folder name must be lowercase letters, digits and hyphens (fix: rename the folder to `bad-folder-name`)",
    ),
    Case(
        "missing-transcript-file",
        edit("transcript: transcript.vtt", "transcript: transcript-final.vtt"),
        f"{Y}: transcript: `transcript-final.vtt` does not exist (fix: copy the file into episodes/missing-transcript-file/ or correct the name)",
    ),
    Case(
        "withdraw-before-published",
        edit("recording: recording.opus", "withdraw_after: 2025-01-01\nrecording: recording.opus"),
        f"{Y}:34: withdraw_after: is on or before the publication date (fix: give a later date, or remove it)",
    ),
    Case(
        "no-briefing",
        no_briefing,
        f"{Y}: no briefing.yaml in this episode folder (fix: run `briefings new no-briefing --recording FILE`)",
    ),
    Case(
        "empty-yaml",
        write(b""),
        f"{Y}: does not describe a briefing (fix: start from the template: run `briefings new`)",
    ),
    Case(
        "yaml-list",
        write(b"- title: Child A\n"),
        f"{Y}: does not describe a briefing (fix: start from the template: run `briefings new`)",
    ),
    Case(
        "duplicate-key",
        edit("review:", 'title: "Child A again"\nreview:'),
        f"{Y}:7: `title` is given twice (fix: keep only one `title:`)",
    ),
    Case(
        "yaml-sequence-key",
        write(BASE.encode() + b"? [a, b]\n: 1\n"),
        f"{Y}:36: a key is a list or a mapping, not a field name (fix: write each field as `name: value`)",
    ),
    Case(
        "yaml-mapping-key",
        write(BASE.encode() + b"{a: 1}: x\n"),
        f"{Y}:36: a key is a list or a mapping, not a field name (fix: write each field as `name: value`)",
    ),
    Case(
        "yaml-invisible-key",
        write(BASE.encode() + b'"key\\u202e": x\n'),
        f"{Y}:36: a field name contains invisible control characters (fix: retype the name as in the template)",
    ),
    Case(
        "yaml-deep-lists",
        write(BASE.encode() + b"extra: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"),
        f"{Y}:36: is nested more than 20 levels deep (fix: a briefing needs only a few levels: start from the template (`briefings new`))",
    ),
    Case(
        "yaml-deep-mappings",
        write(BASE.encode() + b"extra: " + b"{a: " * 20_000 + b"1" + b"}" * 20_000 + b"\n"),
        f"{Y}:36: is nested more than 20 levels deep (fix: a briefing needs only a few levels: start from the template (`briefings new`))",
    ),
    Case(
        "chapter-infinite",
        edit('start: "00:40"', "start: .inf"),
        f'{Y}:32: chapters[4].start: is not a time in the recording (fix: write mm:ss or hh:mm:ss, e.g. "04:30")',
    ),
    Case(
        "chapter-nan",
        edit('start: "00:40"', "start: .nan"),
        f'{Y}:32: chapters[4].start: is not a time in the recording (fix: write mm:ss or hh:mm:ss, e.g. "04:30")',
    ),
    Case(
        "chapter-huge-number",
        edit('start: "00:40"', "start: " + "9" * 400),
        f'{Y}:32: chapters[4].start: is not a time in the recording (fix: write mm:ss or hh:mm:ss, e.g. "04:30")',
    ),
    Case("lone-surrogate", invisible("\\ud800"), INVISIBLE_LINE),
    Case(
        "lone-surrogate-in-lesson",
        edit("  - If you are worried, share it.", '  - "If you are worried\\udfff, share it."\n  - Then'),
        f"{Y}:20: key_lessons[3]: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case(
        "lone-surrogate-in-recording-name",
        edit("recording: recording.opus", 'recording: "recording.opus\\ud800"'),
        f"{Y}:34: recording: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case(
        "lone-surrogate-in-report-url",
        edit(
            "report_url: https://westmarsh-scp.example.org/reviews/child-a-full-report.pdf",
            'report_url: "https://westmarsh-scp.example.org/\\ud800"',
        ),
        f"{Y}:12: review.report_url: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case(
        "zero-width-space-in-report-url",
        edit(
            "report_url: https://westmarsh-scp.example.org/reviews/child-a-full-report.pdf",
            'report_url: "https://westmarsh-scp.example.org/child\\u200ba.pdf"',
        ),
        f"{Y}:12: review.report_url: contains invisible control characters (fix: retype the text or paste it as plain text)",
    ),
    Case("right-to-left-override", invisible("\\u202e"), INVISIBLE_LINE),
    Case("zero-width-space", invisible("\\u200b"), INVISIBLE_LINE),
    Case("c1-control", invisible("\\x9b"), INVISIBLE_LINE),
    Case("zero-width-non-joiner", invisible("\\u200c"), INVISIBLE_LINE),
    Case("zero-width-joiner", invisible("\\u200d"), INVISIBLE_LINE),
    Case("word-joiner", invisible("\\u2060"), INVISIBLE_LINE),
    Case("byte-order-mark-in-text", invisible("\\ufeff"), INVISIBLE_LINE),
    Case(
        "symlinked-folder",
        symlinked_folder,
        "episodes/symlinked-folder: is a link to another folder (fix: move the folder itself into episodes/)",
    ),
    Case(
        "briefing-links-outside",
        briefing_links_out,
        f"{Y}: is a link to a file outside the episode folder (fix: copy the file itself into episodes/briefing-links-outside/)",
    ),
    Case(
        "title-too-long",
        edit('title: "Child A: the baby nobody saw"', 'title: "' + "Child A " * 26 + '"'),
        f"{Y}:2: title: is longer than 200 characters (fix: shorten it)",
    ),
    Case(
        "published-year-one",
        edit("published: 2026-03-12T10:00:00+00:00", "published: 0001-01-01T00:00:00+01:00"),
        f"{Y}:13: review.published: is in the year 1 (fix: give the date the review was published, e.g. 2026-03-12T10:00:00+00:00)",
    ),
    Case(
        "published-epoch",
        edit("published: 2026-03-12T10:00:00+00:00", "published: 1773309600"),
        f"{Y}:13: review.published: is a number, not a date (fix: write it as in the template, e.g. 2026-03-12T10:00:00+00:00)",
    ),
    Case(
        "published-year-9999",
        edit("published: 2026-03-12T10:00:00+00:00", "published: 9999-12-31T23:00:00-05:00"),
        f"{Y}:13: review.published: is in the year 9999 (fix: give the date the review was published, e.g. 2026-03-12T10:00:00+00:00)",
    ),
    Case(
        "withdraw-after-epoch",
        edit("recording: recording.opus", "withdraw_after: 1900000000\nrecording: recording.opus"),
        f"{Y}:34: withdraw_after: is a number, not a date (fix: write it as in the template, e.g. 2027-03-12)",
    ),
    Case(
        "episode-32-digits",
        edit("recording: recording.opus", "episode: " + "1" * 32 + "\nrecording: recording.opus"),
        f"{Y}:34: episode: must be less than or equal to 99999 (fix: see the template for the expected form)",
    ),
    Case(
        "report-url-password",
        edit("report_url: https://westmarsh", "report_url: https://reviewer:secret@westmarsh"),
        f"{Y}:12: review.report_url: contains a user name or password (fix: remove the `name:password@` part)",
    ),
    Case(
        "theme-capitalised",
        edit("  - neglect\n", "  - Neglect\n"),
        f"{Y}:22: themes[1]: `Neglect` is not one of the show's themes (fix: did you mean `neglect`?)",
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, audio: dict[str, Path]) -> Path:
    """A workspace with every bad submission beside the two good examples."""
    workspace = copy_example(tmp_path_factory.mktemp("corpus") / "workspace")
    for case in CASES:
        folder = workspace / "episodes" / case.slug
        shutil.copytree(workspace / "episodes" / "child-a", folder)
        case.make(folder, audio)
    return workspace


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.slug for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.slug for case in CASES])
def test_each_bad_submission_gets_its_exact_message(corpus: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    slug = case.slug if " " not in case.slug else None
    result = run(Path("."), "check", *([slug] if slug else []))
    lines = result.stdout.splitlines()
    print("\n".join(lines))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert case.expected.format(slug=case.slug) in lines
    # A misspelt field is one problem, not also "missing": the unknown-field line says which was meant.
    assert not [line for line in lines if line.endswith("is missing (fix: add `key_lessons:`)")]


WARNINGS = [
    (
        "quiet",
        "recording.wav",
        "is very quiet (-61 LUFS): raising it will make background noise audible (fix: record closer to the microphone, or turn up the input level)",
    ),
    (
        "clipped",
        "recording.wav",
        "is clipped (distorted where it was too loud) (fix: record again with the input level lower)",
    ),
    (
        "over",
        "recording.wav",
        "is clipped (distorted where it was too loud) (fix: record again with the input level lower)",
    ),
    (
        "gap",
        "recording.flac",
        "has 8 seconds of silence at 0:14 (fix: check for a drop-out there, or shorten the pause)",
    ),
    (
        "low-rate",
        "recording.wav",
        "has a low sample rate (8000 Hz), which sounds muffled (fix: record at 44100 or 48000 Hz if you can)",
    ),
    (
        "six-channels",
        "recording.flac",
        "has 6 channels; it will be mixed down to mono (fix: export it as mono or stereo to hear what listeners will)",
    ),
    (
        "long",
        "recording.opus",
        "is 21 minutes long; practitioners have little time (fix: keep briefings under 20 minutes: a few key lessons, with the detail in the report)",
    ),
]


@pytest.mark.parametrize(("source", "name", "expected"), WARNINGS, ids=[case[0] for case in WARNINGS])
def test_recording_warnings_advise_but_do_not_fail(
    tmp_path: Path, audio: dict[str, Path], source: str, name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = copy_example(tmp_path / "workspace")
    folder = workspace / "episodes" / "child-a"
    recording(name, source)(folder, audio)
    last_chapter = '  - start: "00:40"\n    title: Share your worry\n'  # the generated recordings last 40 s
    (folder / "briefing.yaml").write_text((folder / "briefing.yaml").read_text().replace(last_chapter, ""))
    monkeypatch.chdir(workspace)
    result = run(Path("."), "check", "child-a")
    assert result.exit_code == 0, result.output
    assert f"warning: episodes/child-a/{name}: {expected}" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith("Checked 1 briefing(s): 0 error(s)")


def test_missing_transcript_is_a_warning_and_json_lists_it(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("transcript: transcript.vtt\n", ""))
    result, report = run_json(workspace, "check")
    assert result.exit_code == 0
    child_b = next(item for item in report if item["slug"] == "child-b")
    assert child_b["valid"] is True
    (problem,) = child_b["problems"]
    assert problem["severity"] == "warning" and problem["field"] == "transcript"
    assert problem["fix"].endswith("`briefings transcribe child-b` makes a draft")


def test_publishing_a_corpus_of_bad_submissions_changes_nothing_published(corpus: Path) -> None:
    clean = run(corpus, "publish")  # the first publish writes the two good briefings
    assert clean.exit_code == 1
    output = corpus / "feed"
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in output.rglob("*") if path.is_file()}
    result, summary = run_json(corpus, "publish")
    assert result.exit_code == 1
    assert sorted(summary["episodes"]) == ["child-a", "child-b"]
    assert summary["written"] == []
    assert {
        path: hashlib.sha256(path.read_bytes()).hexdigest() for path in output.rglob("*") if path.is_file()
    } == before
    published = " ".join(str(path) for path in output.rglob("*"))
    for case in CASES:
        assert f"/{case.slug}" not in published
    assert "Traceback" not in result.output


def test_new_creates_a_submission_that_check_explains(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    original = REPO / "episodes" / "child-b" / "recording.flac"
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    result = run(workspace, "new", "child-e", "--recording", str(original))
    assert result.exit_code == 0, result.output
    folder = workspace / "episodes" / "child-e"
    assert (folder / "recording.flac").read_bytes() == original.read_bytes()
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before
    text = (folder / "briefing.yaml").read_text()
    assert "# The recording is 0:42 long." in text
    assert '  - start: "0:00"\n    title: ""' in text
    checked = run(workspace, "check", "child-e")
    assert checked.exit_code == 1
    assert "episodes/child-e/briefing.yaml:6: title: is empty (fix: fill it in)" in [
        line.split(str(workspace) + "/")[-1] for line in checked.stdout.splitlines()
    ]
    again = run(workspace, "new", "child-e", "--recording", str(original))
    assert again.exit_code == 1
    assert again.stderr.endswith(
        "episodes/child-e: already exists (fix: choose another name, or edit " + str(folder / "briefing.yaml") + ")\n"
    )
    assert run(workspace, "new", "Child E", "--recording", str(original)).exit_code == 2
    not_audio = tmp_path / "minutes.m4a"
    not_audio.write_text("minutes of the panel\n" * 100)
    refused = run(workspace, "new", "child-f", "--recording", str(not_audio))
    assert refused.exit_code == 1 and not (workspace / "episodes" / "child-f").exists()


# --- Show-level settings: `check` refuses exactly what `publish` refuses, before anything is written ---------


def image(size: tuple[int, int], mode: str = "RGB", image_format: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=image_format)
    return buffer.getvalue()


def artwork(data: bytes | None) -> Callable[[Path], None]:
    """Replace the show's artwork.jpg with `data`, or with a folder when None."""

    def make(workspace: Path) -> None:
        (workspace / "artwork.jpg").unlink()
        if data is None:
            (workspace / "artwork.jpg").mkdir()
        else:
            (workspace / "artwork.jpg").write_bytes(data)

    return make


def show_setting(old: str, new: str, files: dict[str, bytes] | None = None) -> Callable[[Path], None]:
    """Edit show.toml, adding `files` to the workspace."""

    def make(workspace: Path) -> None:
        for name, data in (files or {}).items():
            (workspace / name).write_bytes(data)
        path = workspace / "show.toml"
        assert old in path.read_text(), old
        path.write_text(path.read_text().replace(old, new))

    return make


def no_artwork(workspace: Path) -> None:
    (workspace / "artwork.jpg").unlink()


def silent_intro(workspace: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "3", str(workspace / "intro.wav"))
    show_setting('# intro = "stings/intro.wav"', 'intro = "intro.wav"')(workspace)


NOT_AUDIO = b"%PDF-1.7\n" + b"report text " * 300
S = "show.toml: audio.{name}: {value}"
SHOW_CASES = {
    "artwork-missing": (no_artwork, None),
    "artwork-100px": (artwork(image((100, 100))), None),
    "artwork-not-square": (artwork(image((1400, 1500))), None),
    "artwork-cmyk": (artwork(image((1400, 1400), "CMYK")), None),
    "artwork-rgba": (artwork(image((1400, 1400), "RGBA", "PNG")), None),
    "artwork-empty": (artwork(b""), None),
    "artwork-renamed-pdf": (artwork(NOT_AUDIO), None),
    "artwork-folder": (artwork(None), None),
    "bad-language": (
        show_setting('language = "en-GB"', 'language = "English (UK)"'),
        "show.toml: language: `English (UK)` is not a language code (fix: use an ISO 639 code, e.g. en-GB)",
    ),
    "intro-missing": (
        show_setting('# intro = "stings/intro.wav"', 'intro = "stings/intro.wav"'),
        "show.toml: audio.intro: stings/intro.wav is not a file (fix: put the sting at stings/intro.wav or remove `intro`)",
    ),
    "intro-not-audio": (
        show_setting('# intro = "stings/intro.wav"', 'intro = "intro.wav"', {"intro.wav": NOT_AUDIO}),
        "show.toml: audio.intro: intro.wav: is not a readable audio recording (Invalid data found when processing input) (fix: export it again as WAV or FLAC, or remove `intro`)",
    ),
    "intro-dev-zero": (
        show_setting('# intro = "stings/intro.wav"', 'intro = "/dev/zero"'),
        "show.toml: audio.intro: /dev/zero is not a file (fix: put the sting at /dev/zero or remove `intro`)",
    ),
    "intro-silent": (
        silent_intro,
        "show.toml: audio.intro: intro.wav is silent (fix: choose another file, or remove `intro`)",
    ),
    "outro-missing": (
        show_setting('# outro = "stings/outro.wav"', 'outro = "outro.flac"'),
        "show.toml: audio.outro: outro.flac is not a file (fix: put the sting at outro.flac or remove `outro`)",
    ),
    "outro-not-audio": (
        show_setting('# outro = "stings/outro.wav"', 'outro = "outro.wav"', {"outro.wav": NOT_AUDIO}),
        "show.toml: audio.outro: outro.wav: is not a readable audio recording (Invalid data found when processing input) (fix: export it again as WAV or FLAC, or remove `outro`)",
    ),
    "outro-dev-zero": (
        show_setting('# outro = "stings/outro.wav"', 'outro = "/dev/zero"'),
        "show.toml: audio.outro: /dev/zero is not a file (fix: put the sting at /dev/zero or remove `outro`)",
    ),
}


def verdict(workspace: Path, command: str) -> tuple[int, set[str]]:
    """A command's exit code and the briefings it refuses (every one, when the show itself is refused)."""
    result = run(workspace, command, "--json")  # an exception would fail the test: never a traceback
    assert "Traceback" not in result.output
    folders = {folder.name for folder in (workspace / "episodes").iterdir() if folder.is_dir()}
    if not result.stdout:  # the show itself was refused: nothing is checked or published
        assert result.exit_code == 1 and result.stderr.startswith("Error: "), result.output
        return result.exit_code, folders
    report = json.loads(result.stdout)
    if command == "check":
        return result.exit_code, {item["slug"] for item in report if not item["valid"]}
    return result.exit_code, folders - set(report["episodes"]) - set(report["embargoed"])


@pytest.mark.parametrize("name", SHOW_CASES)
def test_a_bad_show_setting_is_refused_by_check_as_by_publish_before_anything_is_written(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, expected = SHOW_CASES[name]
    workspace = copy_example(tmp_path / "workspace")
    make(workspace)
    monkeypatch.chdir(workspace)
    checked = run(Path("."), "check")
    published = run(Path("."), "publish")
    assert checked.exit_code == published.exit_code == 1
    assert checked.stdout == ""
    assert checked.stderr == published.stderr
    (line,) = checked.stderr.splitlines()
    assert line.startswith("Error: artwork.jpg: " if expected is None else f"Error: {expected}")
    assert "Traceback" not in checked.output + published.output
    assert not (workspace / "feed").exists()  # refused before anything was written, not an empty feed


def test_check_accepts_a_sting_that_is_audio(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    shutil.copy(REPO / "episodes" / "child-b" / "recording.flac", workspace / "intro.flac")
    show_setting('# intro = "stings/intro.wav"', 'intro = "intro.flac"')(workspace)
    result = run(workspace, "check")
    assert result.exit_code == 0, result.output


def test_check_and_publish_agree_on_every_case_of_the_corpus(corpus: Path) -> None:
    # Every case in CASES (added to the corpus workspace automatically) and the two good examples.
    checked = verdict(corpus, "check")
    assert checked == verdict(corpus, "publish")
    assert checked[1] == {case.slug for case in CASES}


@pytest.mark.parametrize("name", SHOW_CASES)
def test_check_and_publish_agree_on_every_show_setting_case(tmp_path: Path, name: str) -> None:
    workspace = copy_example(tmp_path / "workspace")
    SHOW_CASES[name][0](workspace)
    assert verdict(workspace, "check") == verdict(workspace, "publish") == (1, {"child-a", "child-b"})


# --- One briefing's unexpected failure (a bug) refuses that briefing, never the run --------------------------

STAGES = [
    ("reading briefing.yaml", "briefings.check:load_submission"),
    ("checking its recording and transcript", "briefings.check:check_submission"),
    ("encoding its recording", "briefings.audio_cache:AudioCache.process"),
    # After its MP3 is staged: what was staged for it must go too.
    ("rendering its files", "briefings.build:duration"),
    ("rendering its pages and feeds", "briefings.build:render_feeds"),
    # After every page is staged, while the search is made: the staged pages must go too.
    ("rendering its pages and feeds", "briefings.search:_bundle"),
]


@pytest.mark.parametrize(("stage", "target"), STAGES, ids=[target for _, target in STAGES])
def test_an_unexpected_failure_refuses_only_its_briefing(
    workspace: Path, stage: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real input should reach this net once the known crashes are fixed, so the fault is made here.
    original = pkgutil.resolve_name(target)

    def failing(*arguments: object, **options: object) -> object:
        if "child-b" in repr(arguments):
            raise RecursionError("maximum recursion depth exceeded")
        return original(*arguments, **options)

    monkeypatch.setattr(target.replace(":", "."), failing)
    monkeypatch.chdir(workspace)
    line = (
        f"episodes/child-b: internal error while {stage} (RecursionError); please report it "
        "(fix: run the command again with -v and include what it prints in the report)"
    )
    shutil.rmtree(workspace / "feed")  # published from the start again: child-b never was
    shutil.rmtree(workspace / ".briefings" / "cache" / "search", ignore_errors=True)  # so Pagefind indexes
    result, summary = run_json(Path("."), "publish")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert [found for found in result.stderr.splitlines() if found.startswith("episodes/child-b")] == [line]
    assert summary["episodes"] == ["child-a"]
    output = workspace / "feed"
    assert "Child A" in (output / "feed.xml").read_text()
    assert not [path for path in output.rglob("*") if "child-b" in str(path)]
    if stage in ("reading briefing.yaml", "checking its recording and transcript"):
        checked = run(Path("."), "check")
        assert checked.exit_code == 1
        assert line in checked.stdout.splitlines()
        assert "episodes/child-a: ready" in checked.stdout.splitlines()
