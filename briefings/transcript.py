"""Transcripts: the one reader of WebVTT, SRT and plain-text transcripts (used by check, build, the archive
and feed validation alike), and their HTML version for apps that want text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from briefings.errors import BriefingsError, Problem, Severity, shown
from briefings.timecode import clock
from briefings.validation import INVISIBLE

# The MIME types the Podcasting 2.0 `podcast:transcript` tag names for each file kind.
TRANSCRIPT_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain"}
# Timed formats: apps can show them as captions in step with the audio (`rel="captions"`).
TIMED_TYPES = {"text/vtt", "application/x-subrip", "application/srt", "text/srt", "application/json"}
HTML_TYPE = "text/html"

# A cue: its timing line (cue settings or SRT coordinates may follow the end time), then its lines of text up
# to a blank line (WebVTT section 4.1; SRT has the same layout). Minutes and seconds run to 59.
TIME = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)([.,])(\d{3})"
CUE = re.compile(
    rf"^[ \t]*{TIME}[ \t]+-->[ \t]+{TIME}(?:[ \t][^\n]*)?(?:\n|$)((?:[ \t]*\S[^\n]*(?:\n|$))*)", re.MULTILINE
)
# A cue's timing: its start and end, with what comes between and before kept as written.
TIMING = re.compile(rf"^([ \t]*){TIME}([ \t]+-->[ \t]+){TIME}", re.MULTILINE)
PARAGRAPH = re.compile(r"\n[ \t]*\n")
VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
CUE_TAG = re.compile(r"<[^>]*>")
TIMING_FIX = "write it as 00:01:02.500 --> 00:01:05.000"

_templates = Environment(loader=PackageLoader("briefings"), autoescape=select_autoescape(default=True))


class TranscriptError(BriefingsError):
    """A transcript file cannot be read as the format its name says: its first problem."""


@dataclass(frozen=True)
class Cue:
    """One caption (or, in plain text, a paragraph): when it starts, who speaks (if the file says), the words."""

    start: float | None
    speaker: str | None
    text: str
    end: float | None = field(default=None, compare=False)
    line: int = field(default=0, compare=False)  # of its timing, in the file


def _words(text: str) -> tuple[str | None, str]:
    words, speaker = text.strip(), None
    if "\n" in words or "  " in words or "\t" in words:  # most cues are one tidy line: skip the work
        words = " ".join(words.split())
    if "<" in words:  # WebVTT voice and styling tags (<v Helen>, <i>) are not words
        voice = VOICE.search(words)
        speaker = (voice.group(1).strip() or None) if voice else None
        words = " ".join(CUE_TAG.sub("", words).split())
    if (
        "&" in words
    ):  # cue text may carry HTML character references (WebVTT section 4.2.2): the words are the characters
        words = " ".join(html.unescape(words).split())
    return speaker, words


def parse(text: str, kind: str, file: str) -> tuple[list[Cue], list[Problem]]:
    """The cues of a transcript of MIME type `kind`, and every problem with it (empty when it is well formed)."""
    # A byte order mark may open the file (editors on Windows write one); anywhere else it is refused.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    problems: list[Problem] = []
    # The same characters as in briefing.yaml: an ESC sequence pasted from a terminal, or a zero-width
    # space, would otherwise be copied into every page and feed.
    control = INVISIBLE.search(text)
    if control is not None:
        problems.append(
            Problem(
                file,
                f"contains an invisible control character (U+{ord(control.group()):04X})",
                "delete it (it may be a terminal code pasted with the text) and save the file again",
                line=text.count("\n", 0, control.start()) + 1,
            )
        )
    if not text.strip():
        return [], [Problem(file, "is empty", "add the transcript text, or remove `transcript:`")]
    if kind not in TIMED_TYPES:
        return [Cue(None, None, " ".join(block.split())) for block in PARAGRAPH.split(text) if block.strip()], problems
    webvtt = kind == "text/vtt"
    if webvtt and not text.startswith("WEBVTT"):
        problems.append(
            Problem(
                file, "does not start with WEBVTT", "make `WEBVTT` the first line (a WebVTT file must start with it)"
            )
        )
    cues: list[Cue] = []
    timings: set[int] = set()
    line, offset, commas = 1, 0, False
    for cue in CUE.finditer(text):
        line, offset = line + text.count("\n", offset, cue.start()), cue.start()
        timings.add(line)
        hours, minutes, seconds, separator, millis, *end_time, end_separator, end_millis, body = cue.groups()
        if webvtt and "," in (separator, end_separator):
            # WebVTT section 4.1: milliseconds follow a full stop; the comma is SRT's, and players drop such cues.
            # Said once, at the first: a file written this way has it in every cue.
            if not commas:
                timing = cue.group().partition("\n")[0].strip()
                problems.append(
                    Problem(
                        file,
                        f"cue times have a comma before the milliseconds (`{timing}`); WebVTT needs a full stop",
                        "replace the commas in the times with full stops, e.g. 00:00:23.411 (or, if it is SRT, name it .srt)",
                        line=line,
                    )
                )
            commas = True
            continue
        start = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
        end_hours, end_minutes, end_seconds = end_time
        end = int(end_hours or 0) * 3600 + int(end_minutes) * 60 + int(end_seconds) + int(end_millis) / 1000
        if end < start:
            problems.append(Problem(file, "a cue ends before it starts", "correct the cue's times", line=line))
            continue
        speaker, words = _words(body)
        if words:
            cues.append(Cue(start, speaker, words, end, line))
    if text.count("-->") != len(timings):  # a timing line the pattern did not take: find it, for its line
        problems += [
            Problem(file, f"cue timing `{found.strip()}` is not valid", TIMING_FIX, line=number)
            for number, found in enumerate(text.split("\n"), 1)
            if "-->" in found and number not in timings
        ]
    if not cues and not problems:
        problems.append(
            Problem(
                file,
                "has no captions",
                "add cues like `00:00:00.000 --> 00:00:05.000` with the words spoken, or use a .txt transcript",
            )
        )
    return cues, problems


def errors(problems: list[Problem]) -> list[Problem]:
    """The problems that make a transcript unusable (not warnings)."""
    return [problem for problem in problems if problem.severity is Severity.ERROR]


def read_cues(text: str, kind: str) -> list[Cue]:
    """The cues of a WebVTT or SRT transcript; raises ValueError if it is not well formed."""
    cues, problems = parse(text, kind, "transcript")
    if errors(problems):
        raise ValueError(str(errors(problems)[0]))
    return cues


def read_transcript(path: Path) -> tuple[str, list[Cue], list[Problem]]:
    """A transcript file's text, cues and problems: the one reading that check and build share."""
    file = shown(path)
    kind = path.suffix.lower()
    if kind not in TRANSCRIPT_TYPES:
        fix = "provide a .vtt, .srt or .txt file"
        return "", [], [Problem(file, f"is a {kind or 'file without extension'}, not a transcript format", fix)]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return (
            "",
            [],
            [Problem(file, "is not UTF-8 text", "save it as UTF-8 (in most editors: Save As, encoding UTF-8)")],
        )
    cues, problems = parse(text, TRANSCRIPT_TYPES[kind], file)
    return text, cues, problems


def _stamp(parts: tuple[str | None, ...], place: Callable[[float], float]) -> str:
    """One cue time (hours, minutes, seconds, separator, milliseconds) moved by `place`, in the same style."""
    hours, minutes, seconds, separator, millis = parts
    value = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0) + int(millis or 0) / 1000
    h, rest = divmod(round(place(value) * 1000), 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{f'{h:02d}:' if hours is not None or h else ''}{m:02d}:{s:02d}{separator}{ms:03d}"


def shifted(text: str, place: Callable[[float], float]) -> str:
    """A WebVTT or SRT transcript with every cue's start and end moved by `place` (into the published file's
    time: trimmed silence, the intro), all else as written."""

    def move(match: re.Match[str]) -> str:
        groups = match.groups()
        return f"{groups[0]}{_stamp(groups[1:6], place)}{groups[6]}{_stamp(groups[7:12], place)}"

    return TIMING.sub(move, text)


def render_html(cues: list[Cue], title: str, language: str) -> bytes:
    """An HTML transcript in the layout the Podcasting 2.0 transcript spec gives (cite, time, p)."""
    page = _templates.get_template("feed_transcript.html").render(
        cues=cues, title=title, language=language, clock=clock
    )
    return page.encode("utf-8")


def html_transcript(
    path: Path, title: str, language: str, place: Callable[[float], float] | None = None
) -> bytes | None:
    """The HTML version of a timed transcript file (its times moved by `place`), or None for plain text;
    raises TranscriptError if unreadable."""
    _, cues, problems = read_transcript(path)
    if errors(problems):
        raise TranscriptError(errors(problems)[0])
    if TRANSCRIPT_TYPES[path.suffix.lower()] not in TIMED_TYPES:
        return None
    if place is not None:
        cues = [
            replace(cue, start=None if cue.start is None else place(cue.start),
                    end=None if cue.end is None else place(cue.end))
            for cue in cues
        ]  # fmt: skip
    return render_html(cues, title, language)
