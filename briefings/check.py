"""Check a workspace as publish will use it: the show's settings, artwork and stings, and every submission
(its metadata, the recording it names, its chapters and transcript). `check` and `build` both run this."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from briefings import audio
from briefings.artwork import check_artwork
from briefings.config import AudioSettings, Show, load_show
from briefings.errors import BriefingsError, Problem, Severity, ShowError, shown
from briefings.recording import SILENT_LUFS, Facts, RecordingError, analyse, recording_problems
from briefings.runner import Runner, each
from briefings.submission import BRIEFING_FILE, Submission, line_index, load_submission
from briefings.timecode import clock
from briefings.transcript import read_transcript

log = logging.getLogger(__name__)
T = TypeVar("T")

# A draft made by `briefings transcribe` carries this note until the author has corrected it.
DRAFT_NOTE = "NOTE DRAFT"


def transcript_problems(path: Path, duration: float | None) -> list[Problem]:
    """Problems with a transcript file: encoding, format, and cues past the end of the recording."""
    text, cues, problems = read_transcript(path)
    problems += [
        Problem(
            shown(path),
            f"a cue starts at {clock(cue.start)}, after the recording ends ({clock(duration)})",
            "correct the time, or check it is the right transcript",
            line=cue.line,
        )
        for cue in cues
        if duration is not None and cue.start is not None and cue.start > duration + 1
    ]
    if DRAFT_NOTE in text:
        problems.append(
            Problem(
                shown(path),
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
            problems += error.problems
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


def guarded(folder: Path, stage: str, work: Callable[[], T]) -> T | Problem:
    """`work()`; if it fails unexpectedly (a bug), a problem that refuses this one briefing instead of the run."""
    try:
        return work()
    except BriefingsError:
        raise  # expected, and handled by the caller
    except Exception as error:
        # A bug is contained here: one briefing's odd input must not hold back the others, or an embargo
        # release due. The traceback is kept for the report: `-v` shows it.
        log.debug("internal error while %s in %s", stage, folder, exc_info=True)
        return Problem(
            shown(folder),
            f"internal error while {stage} ({type(error).__name__}); please report it",
            "run the command again with -v and include what it prints in the report",
        )


def check_folder(folder: Path, show: Show, runner: Runner, cache: Path | None = None) -> Submission:
    """Load and check one episode folder; an unexpected failure refuses this briefing alone."""
    loaded = guarded(folder, "reading briefing.yaml", lambda: load_submission(folder, show))
    if isinstance(loaded, Problem):
        return Submission(folder.name, folder, None, (loaded,))
    checked = guarded(
        folder, "checking its recording and transcript", lambda: check_submission(loaded, runner, cache, show.audio)
    )
    if isinstance(checked, Problem):
        return replace(loaded, problems=(*loaded.problems, checked))
    return checked


def check_all(
    folders: Sequence[Path], show: Show, runner: Runner, cache: Path | None, jobs: int = 1
) -> list[Submission]:
    """Load and check every episode folder, `jobs` at a time."""
    return each(lambda folder: check_folder(folder, show, runner, cache), folders, jobs)


def show_stings(workspace: Path, settings: AudioSettings) -> audio.Stings:
    """The intro and outro named in show.toml, checked to exist."""
    paths: dict[str, Path | None] = {}
    missing = []
    for name in ("intro", "outro"):
        value = getattr(settings, name)
        paths[name] = None if value is None else workspace / value
        if value is not None and not (workspace / value).is_file():
            missing.append(
                Problem(
                    shown(workspace / "show.toml"),
                    f"{value} is not a file",
                    f"put the sting at {shown(workspace / value)} or remove `{name}`",
                    field=f"audio.{name}",
                )
            )
    if missing:
        raise ShowError(*missing)
    return audio.Stings(paths["intro"], paths["outro"])


@dataclass(frozen=True)
class CheckedShow:
    """A show whose settings, artwork and stings publish can use."""

    show: Show
    artwork_type: str
    stings: audio.Stings


def _sting_problem(
    workspace: Path, name: str, value: str, runner: Runner, cache: Path | None, settings: AudioSettings
) -> Problem | None:
    file, field = shown(workspace / "show.toml"), f"audio.{name}"
    try:
        facts = analyse(runner, workspace / value, cache, settings)
    except RecordingError as error:
        (unreadable,) = error.problems
        return Problem(
            file, f"{value}: {unreadable.message}", f"export it again as WAV or FLAC, or remove `{name}`", field
        )
    if facts.integrated <= SILENT_LUFS:
        return Problem(file, f"{value} is silent", f"choose another file, or remove `{name}`", field)
    return None


def check_show(workspace: Path, runner: Runner, cache: Path | None = None) -> CheckedShow:
    """show.toml, its artwork and its stings, checked as publish uses them, before any briefing is;
    raises ShowError with every problem."""
    show = load_show(workspace)
    problems: list[Problem] = []
    artwork_type = stings = None
    try:
        artwork_type = check_artwork(workspace / show.artwork)
    except ShowError as error:
        problems += error.problems
    try:
        stings = show_stings(workspace, show.audio)
    except ShowError as error:
        problems += error.problems
    if stings is not None:
        for name in ("intro", "outro"):
            value = getattr(show.audio, name)
            problem = None if value is None else _sting_problem(workspace, name, value, runner, cache, show.audio)
            if problem is not None:
                problems.append(problem)
    if problems or artwork_type is None or stings is None:
        raise ShowError(*problems)
    return CheckedShow(show, artwork_type, stings)
