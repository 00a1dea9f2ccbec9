"""Inspect an author's recording in one decode pass and explain, in plain words, what to fix."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from briefings.errors import Problem, Severity, shown
from briefings.runner import Runner
from briefings.timecode import clock

# What the profession asked for: short briefings. Below 30 s there is no briefing; past 20 minutes
# few practitioners will listen.
MIN_SECONDS = 30.0
MAX_SECONDS = 20 * 60.0
# Below this the gain to -16 LUFS lifts room noise and hiss to an audible level.
QUIET_LUFS = -35.0
SILENT_LUFS = -70.0
LOW_SAMPLE_RATE = 16000
# Pauses in speech rarely last this long; longer ones are usually drop-outs or a forgotten pause button.
LONG_SILENCE_SECONDS = 5.0
SILENCE_THRESHOLD_DB = -50
# A decode that ends this much before the container says the audio ends has lost the rest.
TRUNCATION_TOLERANCE = 0.05
# Part of the cached analyses' names: a change to what they hold gives new names, so old ones are not read.
ANALYSIS_VERSION = 2
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
    """What one decode of a recording found."""

    container: str
    sample_rate: int
    channels: int
    duration: float
    header_duration: float | None
    integrated: float
    peak_level: float
    peak_count: float
    silences: tuple[tuple[float, float], ...]


class RecordingError(Exception):
    """The recording could not be decoded at all; the message says why."""


def analyse_arguments(path: Path) -> list[str]:
    """ffmpeg arguments that decode `path` once and report level, peaks, length and silences."""
    chain = (
        f"silencedetect=n={SILENCE_THRESHOLD_DB}dB:d={LONG_SILENCE_SECONDS},"
        "astats=measure_perchannel=none:measure_overall=Peak_level+Peak_count+Number_of_samples,"
        # Loudness only: a true-peak meter would cost as much again as the rest, and clipping shows in
        # the sample peaks (at full scale, or above it where a lossy file decodes to floating point).
        "ebur128=framelog=quiet"
    )
    return ["-i", str(path), "-map", "0:a:0", "-af", chain, "-f", "null", "-"]


def _search(pattern: str, text: str) -> str | None:
    found = re.findall(pattern, text)
    return found[-1] if found else None


def _level(text: str | None) -> float:
    return -math.inf if text is None or text == "-inf" else float(text)


def parse_report(report: str) -> Facts:
    """Read the facts out of ffmpeg's report (stderr) for `analyse_arguments`."""
    container = _search(r"Input #0, ([^ ]+), from", report)
    stream = re.search(r"Stream #0:\d+[^:]*: Audio: [^,]+, (\d+) Hz, ([^,]+),", report)
    samples = _search(r"Number of samples: (\d+)", report)
    if container is None or stream is None or samples is None:
        raise RecordingError(_decoder_complaint(report))
    layout = stream.group(2)
    named = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}
    channels_match = re.match(r"(\d+) channels", layout)
    channels = int(channels_match.group(1)) if channels_match else named.get(layout.split("(")[0], 2)
    sample_rate = int(stream.group(1))
    header = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", report)
    header_duration = (
        int(header.group(1)) * 3600 + int(header.group(2)) * 60 + float(header.group(3)) if header else None
    )
    starts = [float(value) for value in re.findall(r"silence_start: (-?[\d.]+)", report)]
    ends = [float(value) for value in re.findall(r"silence_end: ([\d.]+)", report)]
    duration = int(samples) / sample_rate
    silences = tuple((start, ends[number] if number < len(ends) else duration) for number, start in enumerate(starts))
    return Facts(
        container=container,
        sample_rate=sample_rate,
        channels=channels,
        duration=duration,
        header_duration=header_duration,
        integrated=_level(_search(r"I:\s+(-?[\d.]+|-inf) LUFS", report)),
        peak_level=_level(_search(r"Peak level dB: (-?[\d.]+|-inf)", report)),
        peak_count=float(_search(r"Peak count: ([\d.]+)", report) or 0),
        silences=silences,
    )


def _decoder_complaint(report: str) -> str:
    for line in reversed(report.splitlines()):
        text = re.sub(r"^(\[[^]]+\]\s*)+", "", line.strip())
        text = re.sub(r"^Error opening (input|output) files?:\s*", "", text)
        if "Invalid data" in text or "matches no streams" in text or "rror" in text:
            return "it holds no audio ffmpeg can read" if "matches no streams" in text else text.rstrip(".")
    return "ffmpeg could not decode it"


def analyse(runner: Runner, path: Path, cache: Path | None = None) -> Facts:
    """Decode `path` once and measure it; results are cached by the file's content."""
    cached = None
    if cache is not None:
        with path.open("rb") as data:
            digest = hashlib.file_digest(data, "sha256").hexdigest()
        cached = cache / f"{digest}.{ANALYSIS_VERSION}.json"
        if cached.is_file():
            document = json.loads(cached.read_text())
            document["silences"] = tuple(tuple(pair) for pair in document["silences"])
            return Facts(**document)
    process = runner.ffmpeg_run(analyse_arguments(path))
    facts = parse_report(process.stderr)
    if cached is not None and process.returncode == 0:  # not a decode cut short (by a stop, say)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(asdict(facts)))
    return facts


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


def pauses(runner: Runner, path: Path) -> list[tuple[float, float]]:
    """The pauses in a recording (half a second or more below -40 dB), for suggesting chapters."""
    process = runner.ffmpeg_run(
        ["-i", str(path), "-map", "0:a:0", "-af", "silencedetect=n=-40dB:d=0.5", "-f", "null", "-"]
    )
    starts = [float(value) for value in re.findall(r"silence_start: (-?[\d.]+)", process.stderr)]
    ends = [float(value) for value in re.findall(r"silence_end: ([\d.]+)", process.stderr)]
    return list(zip(starts, ends, strict=False))


def suggest_chapters(found: list[tuple[float, float]], duration: float, most: int = 7) -> list[float]:
    """Chapter starts at the longest pauses: the first at 0, none in the last 10 s, at least 15 s apart."""
    starts = [0.0]
    for _, end in sorted(found, key=lambda pause: pause[1] - pause[0], reverse=True):
        if len(starts) == most:
            break
        if end < duration - 10 and all(abs(end - other) >= 15 for other in starts):
            starts.append(round(end))
    return sorted(starts)
