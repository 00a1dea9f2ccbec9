"""The archive's search index: JSON the browser searches, built from published briefings only (pure)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

from briefings.episode import Episode

SEARCH_INDEX_KEY = "search/index.json"
SEARCH_TRANSCRIPTS_KEY = "search/transcripts.json"
INDEX_VERSION = 1
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Letters and digits in any script; everything else separates words. archive.js splits queries the same way.
_WORD = re.compile(r"[^\W_]+")
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


def search_words(text: str) -> list[str]:
    """The words of `text` as the search matches them: lower case, accents removed, punctuation dropped."""
    lowered = text.lower()
    if not lowered.isascii():  # most text is: skip the slow part
        decomposed = unicodedata.normalize("NFKD", lowered)
        # Dropping every combining mark (category M) matches archive.js's `\p{M}`, so "café" finds "cafe".
        lowered = "".join(character for character in decomposed if not unicodedata.category(character).startswith("M"))
    return _WORD.findall(lowered)


def length_label(seconds: float) -> str:
    """A briefing's length as the archive shows it: 45 s, or 12 min."""
    return f"{round(seconds)} s" if seconds < 60 else f"{round(seconds / 60)} min"


def long_date(moment: datetime) -> str:
    """A date as people in the UK write it: 4 June 2026."""
    # English month names whatever the machine's locale (strftime's %B follows it, and is slow).
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def page_url(episode: Episode) -> str:
    """The briefing page's address relative to the site root (its folder, served as index.html)."""
    return episode.page_key


def index_record(episode: Episode) -> dict[str, object]:
    """What the browser needs to search a briefing, filter it and show it as a result."""
    briefing = episode.briefing
    review = briefing.review
    record: dict[str, object] = {
        "slug": episode.slug,
        "url": page_url(episode),
        "title": briefing.title,
        "summary": briefing.summary,
        "lessons": list(briefing.key_lessons),
        "themes": list(briefing.themes),
        "type": review.type.value,
        "subject": review.subject,
        "partnership": review.partnership,
        "region": review.region,
        "author": f"{briefing.author.name}, {briefing.author.role}",
        "published": episode.published.isoformat(),
        "date": long_date(episode.published),
        "year": episode.published.year,
        "length": length_label(episode.duration),
        # Relative to the site root, or a harvested briefing's own address at its source.
        "media": episode.media_url(""),
    }
    if episode.origin is not None:
        record["from"] = {"title": episode.origin.show_title, "url": episode.origin.show_url}
    return record


def _compact(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def search_index(episodes: Sequence[Episode]) -> bytes:
    """The search index: one record per published briefing, in the order given (newest first)."""
    return _compact({"version": INDEX_VERSION, "briefings": [index_record(episode) for episode in episodes]})


def transcript_words(paragraphs: Iterable[str]) -> str:
    """A transcript as the distinct words it contains, in the order first spoken.

    The search matches every word of a query anywhere in a briefing, so the order and repeats of spoken
    words add nothing but size: the distinct words are about half the text of a ten-minute briefing.
    """
    # Every ASCII character but letters and digits becomes a space (fast, in C); only a transcript with
    # other characters needs each distinct token normalised the slow way. A build reads thousands.
    text = " ".join(paragraphs).lower().translate(_ASCII_SEPARATORS)
    tokens = dict.fromkeys(text.split())  # distinct, in a stable order (a set's order changes every run)
    if text.isascii():
        return " ".join(tokens)
    words: dict[str, None] = {}
    for token in tokens:
        words.update(dict.fromkeys([token] if token.isascii() else search_words(token)))
    return " ".join(words)


def search_transcripts(words: dict[str, str]) -> bytes:
    """The transcripts' words by slug, loaded by the browser after the index (they are most of the bytes)."""
    return _compact({"version": INDEX_VERSION, "transcripts": words})
