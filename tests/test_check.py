"""`briefings check` on a corpus of bad submissions: each gets its exact one-line message and exit 1."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def huge(folder: Path, audio: dict[str, Path]) -> None:
    with (folder / "briefing.yaml").open("w") as out:
        out.write(BASE)
        out.write("# padding\n" * 5_000_000)


def no_briefing(folder: Path, audio: dict[str, Path]) -> None:
    (folder / "briefing.yaml").unlink()


Y = "episodes/{slug}/briefing.yaml"
CASES = [
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
