"""Transcripts: read timed captions (WebVTT, SRT) and render them as HTML for apps that want text."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import webvtt
from jinja2 import Environment, PackageLoader, select_autoescape
from webvtt.errors import MalformedFileError

from briefings.errors import BriefingsError, Problem, shown
from briefings.timecode import clock

# The MIME types the Podcasting 2.0 `podcast:transcript` tag names for each file kind.
TRANSCRIPT_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain"}
# Timed formats: apps can show them as captions in step with the audio (`rel="captions"`).
TIMED_TYPES = {"text/vtt", "application/x-subrip", "application/srt", "text/srt", "application/json"}
HTML_TYPE = "text/html"

_templates = Environment(loader=PackageLoader("briefings"), autoescape=select_autoescape(default=True))


class TranscriptError(BriefingsError):
    """A transcript file cannot be read as the format its name says."""

    def __init__(self, path: Path, message: str, fix: str) -> None:
        self.problem = Problem(shown(path), message, fix, field="transcript")
        super().__init__(str(self.problem))


@dataclass(frozen=True)
class Cue:
    """One caption: when it starts, who speaks (if the file says), and the words."""

    start: float
    speaker: str | None
    text: str


def read_cues(text: str, kind: str) -> list[Cue]:
    """The cues of a WebVTT or SRT transcript; raises ValueError if it is not that format."""
    try:
        if kind == "text/vtt":
            captions = webvtt.from_string(text)
        else:
            captions = webvtt.from_buffer(io.StringIO(text), format="srt")
    except MalformedFileError as error:
        raise ValueError(str(error)) from None
    cues = []
    for caption in captions.captions:
        # Cue text may carry HTML character references (WebVTT section 4.2.2); the tags are already gone.
        words = " ".join(html.unescape(caption.text).split())
        if words:
            cues.append(Cue(caption.start_time.in_milliseconds() / 1000, caption.voice or None, words))
    return cues


def render_html(cues: list[Cue], title: str, language: str) -> bytes:
    """An HTML transcript in the layout the Podcasting 2.0 transcript spec gives (cite, time, p)."""
    page = _templates.get_template("feed_transcript.html").render(
        cues=cues, title=title, language=language, clock=clock
    )
    return page.encode("utf-8")


def html_transcript(path: Path, title: str, language: str) -> bytes | None:
    """The HTML version of a timed transcript file, or None for plain text; raises TranscriptError if unreadable."""
    kind = TRANSCRIPT_TYPES.get(path.suffix.lower(), "text/plain")
    if kind not in TIMED_TYPES:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise TranscriptError(path, "is not UTF-8 text", "save it as UTF-8") from None
    try:
        cues = read_cues(text, kind)
    except ValueError:
        name = "WebVTT" if kind == "text/vtt" else "SRT"
        example = "WEBVTT, a blank line, then cues like `00:00:01.000 --> 00:00:04.000`"
        if kind != "text/vtt":
            example = "numbered cues like `1`, `00:00:01,000 --> 00:00:04,000`, then the words"
        raise TranscriptError(
            path, f"is not a readable {name} file", f"export it again; it should start with {example}"
        ) from None
    if not cues:
        raise TranscriptError(
            path, "has no captions", "add the words spoken, or leave `transcript` out of briefing.yaml"
        )
    return render_html(cues, title, language)
