"""Files the producer starts from: a new workspace, a new briefing from a recording, a draft transcript."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from briefings.artwork import placeholder
from briefings.config import DEFAULT_OUTPUT, EPISODES_DIR, SHOW_FILE, STATE_DIR, load_show
from briefings.errors import BriefingsError, UsageError, printable, shown
from briefings.progress import Reporter
from briefings.recording import analyse, pauses, suggest_chapters
from briefings.runner import Runner
from briefings.submission import BRIEFING_FILE, SLUG_PATTERN, load_submissions, slug_for
from briefings.timecode import clock

TRANSCRIPT_LINE = "transcript: transcript.vtt"


def _template(name: str) -> str:
    return resources.files("briefings").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def init_workspace(directory: Path, title: str) -> None:
    """Create a workspace in `directory`: a commented show.toml, a placeholder artwork.jpg and episodes/."""
    if (directory / SHOW_FILE).exists():
        raise BriefingsError(f"{shown(directory / SHOW_FILE)}: already exists (fix: choose a new folder, or edit it)")
    if '"' in title or "\\" in title:
        raise UsageError(f"--title {title!r}: quotes and backslashes are not allowed (fix: leave them out)")
    (directory / EPISODES_DIR).mkdir(parents=True, exist_ok=True)
    show_toml = _template("show.toml").replace("{id}", str(uuid.uuid4())).replace("{title}", title)
    (directory / SHOW_FILE).write_text(show_toml, encoding="utf-8")
    (directory / "artwork.jpg").write_bytes(placeholder(title))
    (directory / ".gitignore").write_text(f"/{DEFAULT_OUTPUT}/\n/{STATE_DIR}/\n", encoding="utf-8")


@dataclass(frozen=True)
class NewBriefing:
    """A briefing folder `new` made: where, the recording's file name in it and its length in seconds."""

    folder: Path
    recording: str
    duration: float


def new_briefing(workspace: Path, slug: str, recording: Path) -> NewBriefing:
    """Start episodes/SLUG/ with a copy of `recording` and a commented briefing.yaml to fill in, which notes the
    recording's length and suggests chapters at its longest pauses. The original recording is left as it is."""
    show = load_show(workspace)
    if not SLUG_PATTERN.match(slug):
        raise UsageError(
            f"{printable(slug)}: a briefing's name must be lowercase letters, digits and hyphens (fix: use {slug_for(slug)})"
        )
    episodes = workspace / EPISODES_DIR
    folder = episodes / slug
    if folder.exists():
        raise BriefingsError(
            f"{shown(folder)}: already exists (fix: choose another name, or edit {shown(folder / BRIEFING_FILE)})"
        )
    runner = Runner()
    facts = analyse(runner, recording)
    starts = suggest_chapters(pauses(runner, recording), facts.duration)
    chapters = "".join(f'  - start: "{clock(start)}"\n    title: ""\n' for start in starts)
    name = f"recording{recording.suffix.lower()}"
    text = (
        _template("briefing.yaml")
        .replace("{slug}", slug)
        .replace("{themes}", ", ".join(show.themes))
        .replace("{duration}", clock(facts.duration))
        .replace("{chapters}", chapters)
        .replace("{recording}", name)
    )
    # Build the folder beside its final place and rename it in one step: never a half-made submission.
    episodes.mkdir(parents=True, exist_ok=True)
    staging = episodes / f".new-{slug}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        shutil.copyfile(recording, staging / name)
        (staging / BRIEFING_FILE).write_text(text, encoding="utf-8")
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return NewBriefing(folder, name, facts.duration)


@dataclass(frozen=True)
class Transcribed:
    """A draft transcript `transcribe` wrote, and its number of cues."""

    path: Path
    cues: int


def draft_transcript(workspace: Path, slug: str, force: bool = False, reporter: Reporter | None = None) -> Transcribed:
    """Recognise the speech in a briefing's recording (offline) into transcript.vtt, marked as a draft for the
    author to correct, and name it in briefing.yaml. Needs the optional `transcribe` extra."""
    from briefings.transcribe import draft_vtt, recognise, require_recogniser

    reporter = reporter or Reporter()
    show = load_show(workspace)
    submission = next((item for item in load_submissions(workspace, show) if item.slug == slug), None)
    if submission is None:
        raise UsageError(
            f"{shown(workspace / EPISODES_DIR / slug)}: no such briefing (fix: check the name with `briefings check`)"
        )
    briefing_file = submission.folder / BRIEFING_FILE
    recording = submission.files.get("recording")
    if recording is None:
        raise BriefingsError(
            f"{shown(briefing_file)}: no recording to transcribe (fix: run `briefings check {slug}` and fix `recording:`)"
        )
    target = submission.folder / "transcript.vtt"
    if target.exists() and not force:
        raise BriefingsError(f"{shown(target)}: already exists (fix: correct it by hand, or use --force to replace it)")
    require_recogniser()
    reporter.step(f"transcribing {shown(recording)} (about half as long as the recording)")
    cues = recognise(Runner(), recording, progress=lambda seconds: reporter.step(f"  {clock(seconds)} done"))
    target.write_text(draft_vtt(cues), encoding="utf-8")
    # Name the transcript in briefing.yaml: uncomment the template's line, or add one.
    text = briefing_file.read_text(encoding="utf-8")
    if f"# {TRANSCRIPT_LINE}" in text:
        briefing_file.write_text(text.replace(f"# {TRANSCRIPT_LINE}", TRANSCRIPT_LINE), encoding="utf-8")
    elif submission.briefing is not None and submission.briefing.transcript is None:
        briefing_file.write_text(text.rstrip("\n") + f"\n{TRANSCRIPT_LINE}\n", encoding="utf-8")
    return Transcribed(target, len(cues))
