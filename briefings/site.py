"""Render the static archive: an index of every briefing and a page per briefing (pure: bytes out)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape

from briefings.config import Show
from briefings.episode import Episode

# Autoescape everything: author text is never trusted, a <script> in a title must show as text.
_templates = Environment(loader=PackageLoader("briefings"), autoescape=select_autoescape(default=True))


def clock(seconds: float) -> str:
    """A time in a recording as people read it: 4:05, or 1:02:03 past the hour."""
    whole = int(seconds)
    hours, minutes, secs = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_templates.globals["clock"] = clock

CUE_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s+-->")


def transcript_paragraphs(text: str, kind: str) -> list[tuple[float | None, str]]:
    """Readable paragraphs of a transcript, each with its start time when the format has one."""
    if kind == "text/plain":
        return [(None, " ".join(block.split())) for block in re.split(r"\n\s*\n", text) if block.strip()]
    paragraphs: list[tuple[float | None, str]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line.strip() for line in block.strip().splitlines()]
        for number, line in enumerate(lines):
            match = CUE_TIME.match(line)
            if match:
                hours, minutes, seconds, millis = match.groups()
                start = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
                words = " ".join(re.sub(r"<[^>]*>", "", cue) for cue in lines[number + 1 :] if cue)
                if words:
                    paragraphs.append((start, words))
                break
    return paragraphs


def render_site(
    show: Show, episodes: Sequence[Episode], feed_key: str, transcripts: dict[str, str]
) -> dict[str, bytes]:
    """Every page of the archive, keyed by its path in the output; `transcripts` maps slug to text."""
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    common = {"show": show, "feed_key": feed_key}
    pages = {
        "index.html": _templates.get_template("index.html").render(episodes=ordered, root="", **common),
        "style.css": resources.files("briefings").joinpath("templates/style.css").read_text(encoding="utf-8"),
    }
    for episode in ordered:
        transcript = None
        if episode.slug in transcripts and episode.transcript_type:
            transcript = transcript_paragraphs(transcripts[episode.slug], episode.transcript_type)
        depth = "../" * episode.page_key.count("/")
        pages[episode.page_key] = _templates.get_template("briefing.html").render(
            episode=episode, transcript=transcript, root=depth, **common
        )
    return {key: text.encode("utf-8") for key, text in pages.items()}
