"""Explain, in plain words, what to fix in an author's recording, from what the measuring pass found."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from briefings import audio, ffmpeg_report
from briefings.config import AudioSettings
from briefings.errors import AudioError, BriefingsError, Problem, Severity, shown
from briefings.runner import Runner
from briefings.timecode import clock

# What the profession asked for: short briefings. Below 30 s there is no briefing; past 20 minutes
# few practitioners will listen.
MIN_SECONDS = 30.0
MAX_SECONDS = 20 * 60.0
# Below this the gain to -16 LUFS lifts room noise and hiss to an audible level.
QUIET_LUFS = -35.0
SILENT_LUFS = audio.SILENT_LUFS
LOW_SAMPLE_RATE = 16000
# Pauses in speech rarely last this long; longer ones are usually drop-outs or a forgotten pause button.
LONG_SILENCE_SECONDS = 5.0
# A decode that ends this much before the container says the audio ends has lost the rest.
TRUNCATION_TOLERANCE = 0.05
# Extensions and the container names ffmpeg reports for them.
CONTAINERS = {
    ".wav": {"wav"},
    ".flac": {"flac"},
    ".mp3": {"mp3"},
    ".m4a": {"mov,mp4,m4a,3gp,3g2,mj2"},
    ".aac": {"aac"},
    ".ogg": {"ogg"},
    ".opus": {"ogg"},
    ".oga": {"ogg"},
    ".webm": {"matroska,webm"},
    ".mka": {"matroska,webm"},
    ".aif": {"aiff"},
    ".aiff": {"aiff"},
}
EXTENSION_FOR = {"wav": ".wav", "flac": ".flac", "mp3": ".mp3", "mov,mp4,m4a,3gp,3g2,mj2": ".m4a", "ogg": ".ogg", "matroska,webm": ".webm", "aiff": ".aiff", "aac": ".aac"}  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """What the measuring pass found that matters to an author."""

    container: str
    sample_rate: int
    channels: int
    duration: float
    header_duration: float | None
    integrated: float
    peak_level: float
    peak_count: float
    silences: tuple[tuple[float, float], ...]


class RecordingError(BriefingsError):
    """The recording could not be decoded at all; its one problem says why and what to do."""


def facts_of(analysis: audio.Analysis) -> Facts:
    """The facts about a recording in its analysis: long silences only, as pauses shorter are speech."""
    return Facts(
        container=analysis.container,
        sample_rate=analysis.sample_rate,
        channels=analysis.channels,
        duration=analysis.duration,
        header_duration=analysis.header_duration,
        integrated=analysis.loudness.integrated,
        peak_level=analysis.peak_level,
        peak_count=analysis.peak_count,
        silences=tuple((start, end) for start, end in analysis.silences if end - start >= LONG_SILENCE_SECONDS),
    )


def analyse(runner: Runner, path: Path, cache: Path | None = None, settings: AudioSettings | None = None) -> Facts:
    """Decode `path` once and measure it, as the audio stage will (`settings`); the analysis is kept in
    `cache`, where processing the recording finds it."""
    settings = settings or AudioSettings()
    try:
        if cache is None:
            return facts_of(audio.analyse(runner, path, settings, native=True))
        return facts_of(audio.analyse_cached(runner, path, settings, cache))
    except AudioError as error:
        (problem,) = error.problems
        if problem.message.startswith(audio.UNREADABLE):  # a sentence about the file: "is not a readable ..."
            problem = Problem(problem.file, f"is {problem.message}", problem.fix)
        raise RecordingError(problem) from None


def recording_problems(path: Path, facts: Facts) -> list[Problem]:
    """Errors and warnings about a recording, each with advice an author can act on."""
    file = shown(path)
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def error(message: str, fix: str) -> None:
        errors.append(Problem(file, message, fix))

    def warn(message: str, fix: str) -> None:
        warnings.append(Problem(file, message, fix, severity=Severity.WARNING))

    expected = CONTAINERS.get(path.suffix.lower())
    if expected is not None and facts.container not in expected:
        real = EXTENSION_FOR.get(facts.container, "")
        error(
            f"is named {path.suffix} but holds {facts.container.split(',')[0].upper()} audio",
            f"rename it to {path.stem}{real}" if real else "export it again as WAV, FLAC or MP3",
        )
    if facts.header_duration and facts.duration < facts.header_duration * (1 - TRUNCATION_TOLERANCE) - 0.5:
        error(
            f"is cut short: it stops at {clock(facts.duration)} of {clock(facts.header_duration)}",
            "copy or export the whole file again",
        )
    if facts.peak_level > -math.inf and facts.duration < audio.SHORTEST_MEASURABLE:
        # Too short for its loudness to be measured at all (it reads as -70 LUFS): not silent, short.
        error(f"is only {facts.duration:.1f} seconds long", f"a briefing needs at least {MIN_SECONDS:.0f} seconds")
        return errors
    if facts.integrated <= SILENT_LUFS or facts.peak_level == -math.inf:
        error("is silent", "check the microphone is selected and record again")
        return errors
    if facts.duration < MIN_SECONDS:
        error(f"is only {facts.duration:.0f} seconds long", f"a briefing needs at least {MIN_SECONDS:.0f} seconds")
    if facts.duration > MAX_SECONDS:
        warn(
            f"is {facts.duration / 60:.0f} minutes long; practitioners have little time",
            f"keep briefings under {MAX_SECONDS / 60:.0f} minutes: a few key lessons, with the detail in the report",
        )
    if facts.integrated < QUIET_LUFS:
        warn(
            f"is very quiet ({facts.integrated:.0f} LUFS): raising it will make background noise audible",
            "record closer to the microphone, or turn up the input level",
        )
    if (facts.peak_level >= -0.1 and facts.peak_count >= 10) or facts.peak_level > 0.5:
        warn("is clipped (distorted where it was too loud)", "record again with the input level lower")
    for start, end in facts.silences:
        if start > 0.5 and end < facts.duration - 0.5:
            warn(
                f"has {end - start:.0f} seconds of silence at {clock(start)}",
                "check for a drop-out there, or shorten the pause",
            )
    if facts.sample_rate < LOW_SAMPLE_RATE:
        warn(
            f"has a low sample rate ({facts.sample_rate} Hz), which sounds muffled",
            "record at 44100 or 48000 Hz if you can",
        )
    if facts.channels > 2:
        warn(
            f"has {facts.channels} channels; it will be mixed down to mono",
            "export it as mono or stereo to hear what listeners will",
        )
    return errors + warnings


def pauses(runner: Runner, path: Path) -> tuple[tuple[float, float], ...]:
    """The pauses in a recording (half a second or more below -40 dB), for suggesting chapters."""
    detector = "silencedetect@pauses=n=-40dB:d=0.5"
    process = runner.ffmpeg_run(["-i", str(path), "-map", "0:a:0", "-af", detector, "-f", "null", "-"])
    return ffmpeg_report.silences(process.stderr, "pauses", math.inf)


def suggest_chapters(found: Sequence[tuple[float, float]], duration: float, most: int = 7) -> list[float]:
    """Chapter starts at the longest pauses: the first at 0, none in the last 10 s, at least 15 s apart."""
    starts = [0.0]
    for _, end in sorted(found, key=lambda pause: pause[1] - pause[0], reverse=True):
        if len(starts) == most:
            break
        if end < duration - 10 and all(abs(end - other) >= 15 for other in starts):
            starts.append(round(end))
    return sorted(starts)
