"""Measure, normalise and encode a recording with ffmpeg, streaming: nothing holds the whole file."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from briefings.config import AudioSettings
from briefings.errors import AudioError, shown
from briefings.runner import Runner, find_ffmpeg

__all__ = ["Encoded", "Loudness", "encode_arguments", "find_ffmpeg", "measure", "normalise"]

# EBU R128 / ITU-R BS.1770 integrated loudness gates out silence at -70 LUFS: below it there is no programme.
SILENT_LUFS = -70.0
# Apple asks for -16 LUFS within ±1 LU; aim for half of that.
LOUDNESS_TOLERANCE = 0.5
# The limiter works on samples at 44.1/48 kHz; inter-sample peaks and the MP3 encoder add overshoot
# (STANDARDS.md: -1.5 dBTP before an encode measured -0.4 after), so start the limiter 1 dB below target.
LIMITER_MARGIN = 1.0
# Speech peaks are brief: a fast limiter taking up to about 10 dB off them goes unnoticed; more is audible.
AUDIBLE_LIMITING_DB = 10.0
ATTEMPTS = 5


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg's ebur128 filter measures them."""

    integrated: float
    true_peak: float

    def __str__(self) -> str:
        return f"{self.integrated:.1f} LUFS, {self.true_peak:.1f} dBTP"


@dataclass(frozen=True)
class Encoded:
    """The result of processing one recording."""

    source: Loudness
    result: Loudness
    gain: float
    warnings: tuple[str, ...]


def _layout(settings: AudioSettings) -> str:
    return "mono" if settings.channels == 1 else "stereo"


def conform_filter(settings: AudioSettings) -> str:
    """The filters that bring any input to the output's rate and channels (downmixing for speech)."""
    return f"aresample={settings.sample_rate},aformat=channel_layouts={_layout(settings)}"


def measure_arguments(source: Path, settings: AudioSettings | None) -> list[str]:
    """ffmpeg arguments that decode `source` and print its EBU R128 summary."""
    chain = "ebur128=peak=true:framelog=quiet"
    if settings is not None:
        chain = f"{conform_filter(settings)},{chain}"
    return ["-i", str(source), "-map", "0:a:0", "-af", chain, "-f", "null", "-"]


def encode_arguments(source: Path, target: Path, settings: AudioSettings, gain: float, limit: float) -> list[str]:
    """ffmpeg arguments for one pass: conform, linear gain, peak limiter, MP3 encode without tags."""
    limiter = f"alimiter=limit={10 ** (limit / 20):.6f}:level=disabled:latency=enabled:attack=5:release=100"
    chain = f"{conform_filter(settings)},volume={gain:.3f}dB,{limiter}"
    return [
        "-y", "-i", str(source), "-map", "0:a:0", "-map_metadata", "-1", "-af", chain,
        "-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k", "-ar", str(settings.sample_rate),
        "-ac", str(settings.channels), "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(target),
    ]  # fmt: skip


def _number(pattern: str, report: str) -> float | None:
    found = re.findall(pattern, report)
    if not found:
        return None
    return -math.inf if found[-1] == "-inf" else float(found[-1])


def _first_error_line(report: str) -> str:
    lines = [line.strip() for line in report.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "Invalid" in line or "matches no streams" in line or "No such file" in line:
            line = re.sub(r"^\[[^]]+\]\s*", "", line)
            return re.sub(r"^Error opening (input|output) files?:\s*", "", line)
    return lines[-1] if lines else "ffmpeg failed"


def measure(runner: Runner, source: Path, settings: AudioSettings | None = None) -> Loudness:
    """Measure integrated loudness and true peak, after conforming to `settings` if given."""
    process = runner.ffmpeg_run(measure_arguments(source, settings))
    integrated = _number(r"I:\s+(-?[\d.]+|-inf) LUFS", process.stderr)
    peak = _number(r"Peak:\s+(-?[\d.]+|-inf) dBFS", process.stderr)
    if process.returncode != 0 or integrated is None or peak is None:
        raise AudioError(
            source,
            f"not a readable audio recording ({_first_error_line(process.stderr)})",
            "export it again as WAV, FLAC, MP3 or M4A",
        )
    return Loudness(integrated, peak)


def _slope(tried: list[tuple[float, float]]) -> float:
    """How much louder the output got per dB of gain in the last two attempts (1 without limiting).

    The limiter takes back part of any extra gain on peaky speech; correcting by the observed slope
    (the secant method) converges in one or two more encodes instead of creeping up on the target.
    """
    if len(tried) < 2 or tried[-1][0] == tried[-2][0]:
        return 1.0
    (gain_before, loudness_before), (gain_after, loudness_after) = tried[-2], tried[-1]
    return min(1.0, max(0.2, (loudness_after - loudness_before) / (gain_after - gain_before)))


def normalise(runner: Runner, source: Path, target: Path, settings: AudioSettings) -> Encoded:
    """Encode `source` to an MP3 at `target` that measures at the loudness and peak targets."""
    before = measure(runner, source, settings)
    if before.integrated <= SILENT_LUFS or before.true_peak == -math.inf:
        raise AudioError(source, "the recording is silent", "check the microphone and record again")
    warnings = []
    gain = settings.target_lufs - before.integrated
    limit = settings.true_peak - LIMITER_MARGIN
    limiting = before.true_peak + gain - limit
    if limiting > AUDIBLE_LIMITING_DB:
        warnings.append(
            f"{shown(source)}: reaching {settings.target_lufs:g} LUFS needs {limiting:.0f} dB of peak limiting, "
            "which may be audible (fix: record with the microphone closer, or avoid clipping)"
        )
    tried: list[tuple[float, float]] = []  # (gain, loudness it gave)
    for _ in range(ATTEMPTS):
        process = runner.ffmpeg_run(encode_arguments(source, target, settings, gain, limit))
        if process.returncode != 0:
            raise AudioError(
                source, f"encoding failed ({_first_error_line(process.stderr)})", "export it again as WAV or FLAC"
            )
        after = measure(runner, target)
        loud_enough = abs(after.integrated - settings.target_lufs) <= LOUDNESS_TOLERANCE
        if loud_enough and after.true_peak <= settings.true_peak:
            return Encoded(before, after, gain, tuple(warnings))
        tried.append((gain, after.integrated))
        gain += (settings.target_lufs - after.integrated) / _slope(tried)
        if after.true_peak > settings.true_peak:
            limit -= after.true_peak - settings.true_peak + 0.2
    raise AudioError(
        source,
        f"could not reach {settings.target_lufs:g} LUFS and {settings.true_peak:g} dBTP (measured {after})",
        "check the recording for clipping or long silences",
    )
