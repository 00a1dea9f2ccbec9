"""Check whole submissions: the metadata, the recording it names, its chapters and transcript."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from briefings.config import AudioSettings
from briefings.errors import Problem, Severity, shown
from briefings.recording import Facts, RecordingError, analyse, recording_problems
from briefings.runner import Runner, each
from briefings.submission import BRIEFING_FILE, Submission, line_index
from briefings.timecode import clock

# A draft made by `briefings transcribe` carries this note until the author has corrected it.
DRAFT_NOTE = "NOTE DRAFT"
CUE_TIMING = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s+-->\s+(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def transcript_problems(path: Path, duration: float | None) -> list[Problem]:
    """Problems with a transcript file: encoding, format, and cues past the end of the recording."""
    file = shown(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [Problem(file, "is not UTF-8 text", "save it as UTF-8 (in most editors: Save As, encoding UTF-8)")]
    kind = path.suffix.lower()
    if kind not in (".vtt", ".srt", ".txt"):
        return [
            Problem(
                file,
                f"is a {kind or 'file without extension'}, not a transcript format",
                "provide a .vtt, .srt or .txt file",
            )
        ]
    if not text.strip():
        return [Problem(file, "is empty", "add the transcript text, or remove `transcript:`")]
    if kind == ".txt":
        return []
    problems = []
    if kind == ".vtt" and not text.startswith("WEBVTT"):
        problems.append(
            Problem(
                file, "does not start with WEBVTT", "make `WEBVTT` the first line (a WebVTT file must start with it)"
            )
        )
    cues = []
    for number, line in enumerate(text.splitlines(), 1):
        if "-->" in line:
            match = CUE_TIMING.match(line.strip())
            if match is None:
                problems.append(
                    Problem(
                        file,
                        f"cue timing `{line.strip()}` is not valid",
                        "write it as 00:01:02.500 --> 00:01:05.000",
                        line=number,
                    )
                )
                continue
            groups = match.groups()
            cues.append((number, _seconds(*groups[:4]), _seconds(*groups[4:])))
    if not cues and not problems:
        problems.append(
            Problem(
                file, "has no timed cues", "add cues like `00:00:00.000 --> 00:00:05.000`, or use a .txt transcript"
            )
        )
    for number, start, end in cues:
        if end < start:
            problems.append(Problem(file, "a cue ends before it starts", "correct the cue's times", line=number))
        elif duration is not None and start > duration + 1:
            problems.append(
                Problem(
                    file,
                    f"a cue starts at {clock(start)}, after the recording ends ({clock(duration)})",
                    "correct the time, or check it is the right transcript",
                    line=number,
                )
            )
    if DRAFT_NOTE in text:
        problems.append(
            Problem(
                file,
                "is a draft made by speech recognition",
                f"correct it against the recording, then delete the `{DRAFT_NOTE}` line",
                severity=Severity.WARNING,
            )
        )
    return problems


def _chapter_problems(submission: Submission, facts: Facts) -> list[Problem]:
    briefing = submission.briefing
    assert briefing is not None
    path = submission.folder / BRIEFING_FILE
    line_of = line_index(path.read_text(encoding="utf-8"))
    return [
        Problem(
            shown(path),
            f"starts at {clock(chapter.start)}, after the recording ends ({clock(facts.duration)})",
            "correct the start time, or remove the chapter",
            field=f"chapters[{number + 1}].start",
            line=line_of(("chapters", number, "start")),
        )
        for number, chapter in enumerate(briefing.chapters)
        if chapter.start >= facts.duration
    ]


def check_submission(
    submission: Submission, runner: Runner, cache: Path | None = None, settings: AudioSettings | None = None
) -> Submission:
    """The submission with every problem of its recording (measured as the show's `settings` will process
    it), chapters and transcript added."""
    if "recording" not in submission.files:
        return submission
    problems = list(submission.problems)
    recording = submission.recording
    facts = None
    if recording.stat().st_size == 0:
        problems.append(Problem(shown(recording), "is empty (0 bytes)", "copy or export the recording again"))
    else:
        try:
            facts = analyse(runner, recording, cache, settings)
        except RecordingError as error:
            problems.append(error.problem)
    if facts is not None:
        problems += recording_problems(recording, facts)
        if submission.briefing is not None:
            problems += _chapter_problems(submission, facts)
    transcript = submission.transcript
    if transcript is None:
        problems.append(
            Problem(
                shown(submission.folder / BRIEFING_FILE),
                "no transcript: deaf practitioners need one, and public-sector accessibility rules expect it",
                f"add `transcript:` naming a .vtt, .srt or .txt file; `briefings transcribe {submission.slug}` makes a draft",
                field="transcript",
                severity=Severity.WARNING,
            )
        )
    else:
        problems += transcript_problems(transcript, facts.duration if facts else None)
    return replace(submission, problems=tuple(problems))


def check_all(
    submissions: Sequence[Submission],
    runner: Runner,
    cache: Path | None,
    jobs: int = 1,
    settings: AudioSettings | None = None,
) -> list[Submission]:
    """Check every submission, `jobs` recordings at a time."""
    return each(lambda submission: check_submission(submission, runner, cache, settings), submissions, jobs)
