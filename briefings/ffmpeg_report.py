"""Read ffmpeg's reports (what it prints on stderr): the one place that knows their format.

Filters are given instance names (`ebur128@measure`, `silencedetect@trim`), which ffmpeg prints at the start
of each line a filter logs, so one run may hold several of each and every reading names the one it wants.
The summaries ffmpeg's filters print at the end are read here rather than their per-frame metadata
(`ebur128=metadata=1` with `ametadata=print`): that would be a line per frame, tens of thousands for an
hour, to find the one summary the filter prints anyway.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Channel layouts ffmpeg names (libavutil/channel_layout.c), by how many channels they have.
LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


@dataclass(frozen=True)
class Stream:
    """What the report's header says about the input and its first audio stream."""

    container: str
    sample_rate: int
    channels: int
    duration: float | None


def _level(text: str) -> float:
    return -math.inf if text == "-inf" else float(text)


def _lines(report: str, instance: str) -> list[str]:
    """The lines the filter instance `instance` (`name@label`) logged, without their prefix."""
    prefix = f"[{instance} @ "
    return [line.split("] ", 1)[1] for line in report.splitlines() if line.startswith(prefix) and "] " in line]


def duration(report: str) -> float | None:
    """The length (s) the input's container declares, if it declares one."""
    found = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", report)
    if found is None:
        return None
    return int(found.group(1)) * 3600 + int(found.group(2)) * 60 + float(found.group(3))


def stream(report: str) -> Stream | None:
    """The input's container and first audio stream, or None when there is no such stream."""
    container = re.search(r"^Input #0, ([^ ]+), from", report, re.MULTILINE)
    audio = re.search(r"^\s*Stream #0:\d+[^:]*: Audio: [^,]+, (\d+) Hz, ([^,]+),", report, re.MULTILINE)
    if container is None or audio is None:
        return None
    layout = audio.group(2)
    counted = re.match(r"(\d+) channels", layout)
    channels = int(counted.group(1)) if counted else LAYOUT_CHANNELS.get(layout.split("(")[0], 2)
    return Stream(container.group(1), int(audio.group(1)), channels, duration(report))


def has_no_audio(report: str) -> bool:
    """True when ffmpeg opened the input and found streams in it, none of them audio (a video, say)."""
    streams = re.findall(r"^\s*Stream #0:\d+[^:]*: (\w+):", report, re.MULTILINE)
    return bool(streams) and "Audio" not in streams


def complaint(report: str) -> str:
    """What went wrong, in ffmpeg's words: its last error line without the filter or file prefix."""
    for line in reversed(report.splitlines()):
        text = re.sub(r"^(\[[^]]+\]\s*)+", "", line.strip())
        text = re.sub(r"^Error opening (input|output) files?:\s*", "", text)
        if "Invalid" in text or "matches no streams" in text or "No such file" in text or "rror" in text:
            return text.rstrip(".")
    return "ffmpeg could not decode it"


def loudness(report: str, instance: str | None) -> tuple[float, float] | None:
    """Integrated loudness (LUFS) and peak (dBFS; NaN if not metered) in the summary of `ebur128@instance`
    (None: of the last ebur128 without a name)."""
    name = re.escape(f"ebur128@{instance}") if instance else r"Parsed_ebur128_\d+"
    # The meter may log an empty line of its own after its summary: find the summary's heading.
    headings = list(re.finditer(rf"^\[{name} @ [^]]+\] Summary:$", report, re.MULTILINE))
    if not headings:
        return None
    # The summary's own lines are unprefixed; the next "[...]" line belongs to something else.
    summary = report[headings[-1].end() :].split("\n[", 1)[0]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if integrated is None:
        return None
    return _level(integrated.group(1)), math.nan if peak is None else _level(peak.group(1))


def peaks(report: str, instance: str) -> tuple[float, float] | None:
    """Peak level (dBFS) and how many samples reach it, from `astats@instance` measuring Peak_level+Peak_count overall."""
    values = dict(line.partition(": ")[::2] for line in _lines(report, f"astats@{instance}") if ": " in line)
    try:
        return _level(values["Peak level dB"]), float(values["Peak count"])
    except (KeyError, ValueError):
        return None


def silences(report: str, instance: str, end: float) -> tuple[tuple[float, float], ...]:
    """The silences (start, end) `silencedetect@instance` found; one still going at the end lasts to `end`."""
    starts: list[float] = []
    ends: list[float] = []
    for line in _lines(report, f"silencedetect@{instance}"):
        found = re.match(r"silence_(start|end): (-?[\d.e+-]+)", line)
        if found:
            (starts if found.group(1) == "start" else ends).append(float(found.group(2)))
    return tuple((start, ends[number] if number < len(ends) else end) for number, start in enumerate(starts))
