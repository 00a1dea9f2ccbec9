"""Times in a recording, written for people and for the formats that carry them."""

from __future__ import annotations

import functools


def clock(seconds: float) -> str:
    """A time as people read it in an audio player: 4:05, or 1:02:03 past the hour."""
    return _clock(int(seconds))


@functools.cache
def _clock(whole: int) -> str:
    # Cached: a site's transcripts have hundreds of thousands of timestamps, but few distinct seconds.
    hours, minutes, secs = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timestamp(seconds: float) -> str:
    """hh:mm:ss.mmm: a WebVTT cue time, and the Normal Play Time Podlove Simple Chapters use."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"
