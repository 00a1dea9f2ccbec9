"""Measure, trim, normalise and encode a recording with ffmpeg, streaming: nothing holds the whole file.

The recording is decoded twice. The measuring pass gives integrated loudness, sample peak and
silences (EBU R128 / ITU-R BS.1770 via the `ebur128` filter, `silencedetect`), what `briefings check`
needs to know about the input as it is (its format, channels, length and clipping, via `astats`), and
keeps a one-minute sample; a build caches it, so checking and processing a recording share one pass.
A rehearsal on that sample finds what the limiter and the encoder will take off the loudness. The encoding pass does everything else at once: trim, downmix, resample, a linear gain, a
peak limiter, optional intro and outro stings, the MP3 (or AAC) encode, and, through a loopback decoder
(ffmpeg 7.1+ `-dec`), decoding and metering the encoded audio as it is written, so the encoded file is verified
without another pass.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from briefings import ffmpeg_report
from briefings.config import AudioSettings
from briefings.errors import AudioError, Problem, Severity, shown
from briefings.inputs import file_sha256
from briefings.runner import Runner, find_ffmpeg

__all__ = [
    "Analysis",
    "Encoded",
    "Loudness",
    "Stings",
    "Trim",
    "analyse",
    "analyse_cached",
    "encode_arguments",
    "find_ffmpeg",
    "measure",
    "normalise",
]

# EBU R128 / ITU-R BS.1770 integrated loudness gates out silence at -70 LUFS: below it there is no programme.
SILENT_LUFS = -70.0
# ... and is measured over blocks of 400 ms (ITU-R BS.1770-4, 2.8): anything shorter has no loudness at all.
SHORTEST_MEASURABLE = 0.4
# Apple asks for -16 LUFS within ±1 LU; aim for half of that.
LOUDNESS_TOLERANCE = 0.5
# The limiter works on samples at 44.1/48 kHz, but the ceiling is a true peak (ITU-R BS.1770-4, Annex 2),
# and inter-sample peaks and lossy encoding add overshoot (AES TD1004.1.15-10, "Recommendation for Loudness
# of Audio Streaming and Network File Playback": at most -1 dBTP, as lossy codecs overshoot). Measured here
# with ffmpeg's ebur128: a limiter at -1.5 dBTP before an MP3 encode gave -0.4 dBTP after it; speech with
# sibilance or noise went from a -2 dBFS sample limit to -0.7 dBTP before and -1.0 after the encode. So
# limit samples 2 dB below the ceiling, as ffmpeg-normalize's podcast preset does (-2 dBTP;
# https://github.com/slhck/ffmpeg-normalize).
LIMITER_MARGIN = 2.0
# Speech peaks are brief: a fast limiter taking up to about 10 dB off them goes unnoticed; more is audible.
AUDIBLE_LIMITING_DB = 10.0
# So much limiting means a few peaks stand far above the speech: knocks, clicks, coughs, plosives.
LIMITING_FIX = (
    "soften the loudest peaks (knocks, clicks, coughs, popped p and b sounds) with an audio editor's "
    "de-clicker or compressor, or cut them, then process it again"
)
UNREADABLE = "not a readable audio recording"
UNREADABLE_FIX = "export it again as WAV, FLAC, MP3 or M4A"
NO_AUDIO_FIX = "choose the file with the sound, or export the audio alone as WAV, FLAC, MP3 or M4A"
# Part of the cached analyses' names: a change to what they hold gives new names, so old ones are not read.
ANALYSIS_VERSION = 3
# Encodes tried before giving up; the first normally passes (the rehearsal sees to that).
ATTEMPTS = 4
# Before encoding, a rehearsal on a sample of the recording finds what the encoder takes off the
# loudness and, when the limiter will take more than this off the peaks, what that costs too.
CALIBRATE_ABOVE_DB = 1.0
CALIBRATION_STEPS = (0.0, 1.0, 2.5, 4.0, 6.0, 9.0)
# The rehearsal works on a sample the measuring pass keeps: one second in every `period`, a minute of
# audio in all (recordings up to two minutes are kept whole), so it costs the same for any length.
SAMPLE_SECONDS = 60.0
# The rehearsal's encoder round trip is at the plain gain; a little more gain and limiting after it can add a
# few tenths of a dB to the true peak, so it must come out this far under the ceiling.
TRUE_PEAK_SAFETY = 0.5
# A silence shorter than this is a pause, not something to trim.
SHORTEST_SILENCE = 0.5
# silencedetect reports a silence reaching the end of the file a few milliseconds short of it.
END_SLACK = 0.05
# Share of a recording's processing time spent measuring it, for progress reports (decoding and
# metering run about five times faster than the MP3 encode).
MEASURING_SHARE = 0.2

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg's ebur128 filter measures them."""

    integrated: float
    true_peak: float
    # The measuring pass reads sample peaks (dBFS): the limiter acts on samples, and a 4x-oversampled
    # true-peak meter on the input would cost as much again. Encoded files are always metered in dBTP.
    peak_unit: str = "dBTP"

    def __str__(self) -> str:
        return f"{self.integrated:.1f} LUFS, {self.true_peak:.1f} {self.peak_unit}"


@dataclass(frozen=True)
class Analysis:
    """What the measuring pass found in one input: loudness, length and silences (start, end) as conformed
    to the output, and its container, rate, channels, declared length and (when asked for) sample peaks as it is."""

    loudness: Loudness
    duration: float
    silences: tuple[tuple[float, float], ...] = ()
    sample: Path | None = None
    input_options: tuple[str, ...] = ()
    container: str = ""
    sample_rate: int = 0
    channels: int = 0
    header_duration: float | None = None
    peak_level: float = -math.inf
    peak_count: float = 0.0


@dataclass(frozen=True)
class Trim:
    """The part of a recording that is kept: from `start` to `end` seconds (None: to the end)."""

    start: float = 0.0
    end: float | None = None


@dataclass(frozen=True)
class Stings:
    """Optional audio played before and after every recording."""

    intro: Path | None = None
    outro: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """The sting files in use."""
        return tuple(path for path in (self.intro, self.outro) if path is not None)


NO_STINGS: Stings = Stings()


@dataclass(frozen=True)
class Encoded:
    """The result of processing one recording: loudness before and after, and where its audio went."""

    source: Loudness
    result: Loudness
    gain: float
    warnings: tuple[Problem, ...]
    trimmed_start: float = 0.0
    trimmed_end: float = 0.0
    intro: float = 0.0
    duration: float = 0.0
    attempts: int = 1
    source_duration: float = 0.0


def _layout(settings: AudioSettings) -> str:
    return "mono" if settings.channels == 1 else "stereo"


def conform_filter(settings: AudioSettings) -> str:
    """The filters that bring any input to the output's rate and channels (downmixing for speech).

    Timestamps are then renumbered from the first decoded sample, so the silences the measuring pass
    reports and the trim the encoding pass applies use the same clock, whatever the container says.
    """
    return f"aresample={settings.sample_rate},aformat=channel_layouts={_layout(settings)},asetpts=N/SR/TB"


# Frames handed from filters to ffmpeg's (null) output once metered: big ones, as each hand-over between
# ffmpeg's threads costs a context switch, and the metered audio is thrown away.
DISCARD = "asetnsamples=n=65536:pad=0"
# For the same reason, WAV is read in packets of 128 KiB rather than 1024 samples (wav demuxer option).
WAV_INPUT = ("-max_size", "131072")


def input_options(probe_report: str) -> tuple[str, ...]:
    """Demuxer options for the input that `ffmpeg -i` described in `probe_report`."""
    found = ffmpeg_report.stream(probe_report)
    return WAV_INPUT if found is not None and found.container == "wav" else ()


def sample_filter(duration: float | None) -> str:
    """Filters keeping one second in every few of a recording of `duration` seconds (None: unknown).

    Each stretch of `period` seconds gives one second, from a place that moves by the golden ratio
    from one stretch to the next: a fixed place would alias with anything regular in the recording
    (a looped bed, a jingle every minute) and sample the same moment over and over.
    """
    period = 30 if duration is None else int(duration // SAMPLE_SECONDS)
    if period < 2:
        return ""
    start = f"{period}*mod(floor(t/{period})*0.618034,1)"
    return f",aselect='lt(mod(t-{start},{period}),1)',asetpts=N/SR/TB"


def measure_arguments(
    source: Path,
    settings: AudioSettings,
    sample: Path | None = None,
    duration: float | None = None,
    options: Sequence[str] = (),
    native: bool = False,
) -> list[str]:
    """ffmpeg arguments that decode `source` once and print its EBU R128 summary and silences conformed to
    `settings` (and its sample peaks as it is, if `native`), and write a `sample` of it (conformed, as
    32-bit float WAV) for the rehearsal."""
    silences = f"silencedetect@trim=noise={settings.silence_threshold:g}dB:duration={SHORTEST_SILENCE:g}"
    meter = f"ebur128@measure=peak=sample:framelog=quiet,{DISCARD}"
    graph = f"[0:a:0]{conform_filter(settings)},{silences},"
    if sample is None:
        graph += f"{meter}[measured]"
    else:
        graph += f"asplit[measure][keep];[measure]{meter}[measured];[keep]anull{sample_filter(duration)}[sample]"
    arguments = ["-y", *options, "-i", str(source), "-filter_complex", graph, "-map", "[measured]", "-f", "null", "-"]
    if sample is not None:
        arguments += ["-map", "[sample]", "-c:a", "pcm_f32le", "-f", "wav", str(sample)]
    if native:
        # Counting the samples at the peak takes astats' full statistics, as dear as the loudness meter: in a
        # filtergraph of its own, which ffmpeg (7 and later) runs in a thread of its own, beside the meter.
        peaks = "astats@native=measure_perchannel=none:measure_overall=Peak_level+Peak_count"
        arguments += ["-filter_complex", f"[0:a:0]{peaks},asetpts=N/SR/TB,{DISCARD}[native]", "-map", "[native]",
                      "-f", "null", "-"]  # fmt: skip
    return arguments


def meter_arguments(source: Path) -> list[str]:
    """ffmpeg arguments that decode `source` and print its integrated loudness and true peak."""
    chain = f"ebur128@measure=peak=true:framelog=quiet,{DISCARD}"
    return ["-i", str(source), "-map", "0:a:0", "-af", chain, "-f", "null", "-"]


def limiter_filter(limit: float) -> str:
    """A look-ahead peak limiter at `limit` dBFS that leaves everything below it alone."""
    return f"alimiter=limit={10 ** (limit / 20):.6f}:level=disabled:latency=enabled:attack=5:release=100"


def encode_arguments(
    source: Path,
    target: Path,
    settings: AudioSettings,
    gain: float,
    limit: float,
    trim: Trim = Trim(),
    intro: tuple[Path, float] | None = None,
    outro: tuple[Path, float] | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """ffmpeg arguments for the one encoding pass, which also decodes and meters what it encodes.

    `gain` is in dB for the recording; `intro` and `outro` are (file, gain in dB); `options` are the
    recording's demuxer options.
    """
    conform = conform_filter(settings)
    inputs = [*options, "-i", str(source)]
    graph = [f"[0:a:0]{conform}{_cut(trim)},volume={gain:.3f}dB[main]"]
    parts = ["[main]"]
    for label, sting in (("intro", intro), ("outro", outro)):
        if sting is None:
            continue
        index = inputs.count("-i")
        inputs += ["-i", str(sting[0])]
        graph.append(f"[{index}:a:0]{conform},volume={sting[1]:.3f}dB[{label}]")
        parts.insert(0 if label == "intro" else len(parts), f"[{label}]")
    joined = "".join(parts) + f"concat=n={len(parts)}:v=0:a=1," if len(parts) > 1 else "[main]"
    graph.append(f"{joined}{limiter_filter(limit)}[encode]")
    return [
        "-y", *inputs, "-filter_complex", ";".join(graph), "-map", "[encode]", "-map_metadata", "-1",
        *codec_options(settings), str(target),
        # Verification alongside the encode: a loopback decoder decodes the packets as they are
        # written, and ebur128 meters them exactly as a player (or `ffmpeg -i out.mp3`) would hear them.
        "-dec", "0:0", "-filter_complex", f"[dec:0]ebur128=peak=true:framelog=quiet,{DISCARD}[verified]",
        "-map", "[verified]", "-f", "null", "-",
    ]  # fmt: skip


def _cut(trim: Trim) -> str:
    if trim.start <= 0 and trim.end is None:
        return ""
    end = "" if trim.end is None else f":end={trim.end:.6f}"
    return f",atrim=start={trim.start:.6f}{end},asetpts=N/SR/TB"


def calibration_arguments(
    sample: Path,
    settings: AudioSettings,
    gain: float,
    limit: float,
    steps: Sequence[float] = CALIBRATION_STEPS,
    rehearsal: Path = Path("rehearsal.mp3"),
) -> list[str]:
    """ffmpeg arguments for a rehearsal on a recording's `sample`, metering it raw and limited at `gain`
    plus each step, and encoding it at `gain` as the output will be, to `rehearsal`."""
    labels = "".join(f"[b{number}]" for number in range(len(steps)))
    graph = [f"[0:a:0]asplit={len(steps) + 1}[raw]{labels}", f"[raw]ebur128@raw=framelog=quiet,{DISCARD}[oraw]"]
    for number, step in enumerate(steps):
        limited = f"[b{number}]volume={gain + step:.3f}dB,{limiter_filter(limit)}"
        if number == 0:
            graph.append(f"{limited},asplit[p0][e0]")
            limited = "[p0]anull"
        graph.append(f"{limited},ebur128@b{number}=framelog=quiet,{DISCARD}[o{number}]")
    meters = [item for label in ["raw", *map(str, range(len(steps)))] for item in ("-map", f"[o{label}]")]
    # The encoded rehearsal is metered by another ffmpeg afterwards: summaries that two of ffmpeg's
    # threads print at the same moment interleave in its report, and this one must not be mistaken for another.
    return [
        "-y", "-i", str(sample), "-filter_complex", ";".join(graph),
        "-map", "[e0]", *codec_options(settings), str(rehearsal), *meters, "-f", "null", "-",
    ]  # fmt: skip


# The encoder and container for each output format. MP3: no ID3 tag yet (tagging adds it) and a Xing
# header, so players know the exact length. AAC: an MP4 file with its index first, so playback can
# start before the download ends.
CODECS = {
    "mp3": (["-c:a", "libmp3lame"], ["-id3v2_version", "0", "-write_xing", "1", "-f", "mp3"]),
    "aac": (["-c:a", "aac"], ["-movflags", "+faststart", "-f", "mp4"]),
}
EXTENSIONS = {"mp3": ".mp3", "aac": ".m4a"}


def codec_options(settings: AudioSettings) -> list[str]:
    """ffmpeg output options that encode to `settings`' format, bit rate, sample rate and channels."""
    codec, container = CODECS[settings.format]
    rate = ["-b:a", f"{settings.bitrate}k", "-ar", str(settings.sample_rate), "-ac", str(settings.channels)]
    return [*codec, *rate, *container]


def _summary(report: str, name: str | None, unit: str = "dBTP") -> Loudness | None:
    """The integrated loudness and peak in the summary of the meter `ebur128@name` (None: the one without a name)."""
    found = ffmpeg_report.loudness(report, name)
    if found is None or (unit and math.isnan(found[1])):
        return None
    return Loudness(found[0], found[1], unit)


def _unreadable(source: Path, report: str) -> AudioError:
    if ffmpeg_report.has_no_audio(report):
        return AudioError(source, "has no audio track", NO_AUDIO_FIX)
    return AudioError(source, f"{UNREADABLE} ({ffmpeg_report.complaint(report)})", UNREADABLE_FIX)


def analyse(
    runner: Runner,
    source: Path,
    settings: AudioSettings,
    progress: Progress | None = None,
    sample: Path | None = None,
    native: bool = False,
) -> Analysis:
    """Decode `source` once, conformed to `settings`, and measure its loudness, length and silences
    (and its sample peaks as it is, if `native`; keeping a `sample` of it for the rehearsal, if a path is given)."""
    probe = runner.ffmpeg_run(["-i", str(source)]).stderr
    expected, options = ffmpeg_report.duration(probe), input_options(probe)
    done = [0.0]

    def advanced(seconds: float) -> None:
        done[0] = seconds
        if progress is not None and expected:
            progress(min(1.0, seconds / expected))

    arguments = measure_arguments(source, settings, sample, expected, options, native)
    process = runner.ffmpeg_stream(arguments, advanced)
    report = process.stderr
    loudness, found = _summary(report, "measure", "dBFS"), ffmpeg_report.stream(report)
    peaks = ffmpeg_report.peaks(report, "native") if native else (-math.inf, 0.0)
    if process.returncode != 0 or loudness is None or found is None or peaks is None:
        raise _unreadable(source, report)
    return Analysis(
        loudness, done[0], ffmpeg_report.silences(report, "trim", done[0]), sample, options,
        found.container, found.sample_rate, found.channels, found.duration, *peaks,
    )  # fmt: skip


def analyse_cached(runner: Runner, source: Path, settings: AudioSettings, folder: Path) -> Analysis:
    """`analyse`, keeping the analysis and its sample in `folder` under a name made of the recording's
    content and the settings the pass depends on, so a recording checked and then processed is decoded
    for both once."""
    recipe = f"{ANALYSIS_VERSION}:{settings.sample_rate}:{settings.channels}:{settings.silence_threshold:g}"
    key = hashlib.sha256(f"{file_sha256(source)}:{recipe}".encode()).hexdigest()
    facts, sample = folder / f"{key}.json", folder / f"{key}.wav"
    if facts.is_file() and sample.is_file():
        document = json.loads(facts.read_text())
        document["loudness"] = Loudness(**document["loudness"])
        document["silences"] = tuple(tuple(pair) for pair in document["silences"])
        return Analysis(**document | {"sample": sample, "input_options": tuple(document["input_options"])})
    folder.mkdir(parents=True, exist_ok=True)
    # A name of its own per pass: two briefings may share a recording and be checked at once.
    partial = folder / f"{key}.{uuid.uuid4().hex[:8]}.partial.wav"
    try:
        analysis = analyse(runner, source, settings, sample=partial, native=True)
        os.replace(partial, sample)
    finally:
        partial.unlink(missing_ok=True)
    document = asdict(analysis) | {"sample": None}
    temporary = facts.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(json.dumps(document))
    os.replace(temporary, facts)
    return replace(analysis, sample=sample)


def measure(runner: Runner, source: Path) -> Loudness:
    """Measure integrated loudness and true peak."""
    process = runner.ffmpeg_run(meter_arguments(source))
    loudness = _summary(process.stderr, "measure")
    if process.returncode != 0 or loudness is None:
        raise _unreadable(source, process.stderr)
    return loudness


def trim_for(analysis: Analysis, settings: AudioSettings) -> Trim:
    """The part of a recording to keep: without its leading and trailing silence, padded a little."""
    if not settings.trim_silence or not analysis.silences:
        return Trim()
    start, end = 0.0, None
    first_start, first_end = analysis.silences[0]
    if first_start <= END_SLACK and first_end < analysis.duration - END_SLACK:
        start = max(0.0, first_end - settings.silence_padding)
    last_start, last_end = analysis.silences[-1]
    if last_end >= analysis.duration - END_SLACK and last_start > start:
        kept_end = last_start + settings.silence_padding
        end = kept_end if kept_end < analysis.duration else None
    return Trim(round(start, 6), None if end is None else round(end, 6))


def _slope(tried: list[tuple[float, float]], first: float = 1.0) -> float:
    """How much louder the output got per dB of gain in the last two attempts (`first`, the rate the
    rehearsal saw, after one; 1 without limiting).

    The limiter takes back part of any extra gain on peaky speech; correcting by the observed slope
    (the secant method) converges in one or two more encodes instead of creeping up on the target.
    """
    if len(tried) < 2 or tried[-1][0] == tried[-2][0]:
        return first
    (gain_before, loudness_before), (gain_after, loudness_after) = tried[-2], tried[-1]
    return min(1.0, max(0.2, (loudness_after - loudness_before) / (gain_after - gain_before)))


def calibrate(
    runner: Runner,
    analysis: Analysis,
    settings: AudioSettings,
    gain: float,
    limit: float,
    folder: Path,
    limiting: bool = True,
) -> tuple[float, float, float]:
    """How many dB to add to `gain` to make up what the limiter and the encoder take away, the
    true peak of the encoded rehearsal, and how many LU a dB more gain adds there.

    The limiter's loss grows with the gain, so meter the limited sample at a few gains above the plain
    one and interpolate to where the output lands on target. The MP3 encoder at speech bit rates takes
    off a steady 0.3-0.5 LU more (measured here on speech at 96 and 128 kbps); a round trip of the
    sample at the plain gain shows how much. The rehearsal is encoded in `folder`.
    """
    if analysis.sample is None:
        return 0.0, -math.inf, 1.0
    steps = CALIBRATION_STEPS if limiting else CALIBRATION_STEPS[:1]
    rehearsal = folder / f"rehearsal{EXTENSIONS[settings.format]}"
    for _ in range(2):
        process = runner.ffmpeg_run(calibration_arguments(analysis.sample, settings, gain, limit, steps, rehearsal))
        codec = measure(runner, rehearsal) if process.returncode == 0 else None
        raw = _summary(process.stderr, "raw", unit="")
        limited = [_summary(process.stderr, f"b{number}", unit="") for number in range(len(steps))]
        levels = [level.integrated for level in limited if level is not None]
        # More gain is always louder. ffmpeg's threads can interleave the summaries they print at exit
        # (rarely, under load), and a garbled report reads otherwise: rehearse once more.
        if all(low < high for low, high in itertools.pairwise(levels)):
            break
    if process.returncode != 0 or raw is None or codec is None or len(levels) != len(steps):
        raise AudioError(
            analysis.sample, f"rehearsal failed ({ffmpeg_report.complaint(process.stderr)})", "report this as a bug"
        )
    if raw.integrated <= SILENT_LUFS or codec.integrated <= SILENT_LUFS:
        return 0.0, -math.inf, 1.0  # the sample missed the sound (mostly silence): leave it to the verification
    # rise[k]: how much louder than the raw audio the limited audio is at gain + step k. Aim the
    # limited audio above the target by what the encoder takes off.
    wanted = gain + levels[0] - codec.integrated
    rises = [level - raw.integrated for level in levels]
    points = list(zip(steps, rises, strict=True))
    for (step_low, rise_low), (step_high, rise_high) in itertools.pairwise(points):
        if rise_low <= wanted <= rise_high and rise_high > rise_low:
            slope = (rise_high - rise_low) / (step_high - step_low)
            return step_low + (wanted - rise_low) / slope, codec.true_peak, min(1.0, max(0.2, slope))
    # Outside the steps: extrapolate from the nearest ones (a linear gain's worth below them; above, at
    # the rate the last steps gained loudness); the encode is verified and corrected anyway.
    if wanted < rises[0]:
        return wanted - rises[0], codec.true_peak, 1.0
    slope = 1.0
    if len(steps) > 1:
        slope = min(1.0, max(0.2, (rises[-1] - rises[-2]) / (steps[-1] - steps[-2])))
    return steps[-1] + (wanted - rises[-1]) / slope, codec.true_peak, slope


def _gain(
    runner: Runner, analysis: Analysis, settings: AudioSettings, limit: float, folder: Path
) -> tuple[float, float, float, float]:
    """The gain (dB) that brings one part to the target through the limiter, the limit (dBFS) that keeps
    its encoded true peak under the ceiling, how far that gain pushes peaks into the limiter, and the
    LU a dB more gain would add."""
    gain = settings.target_lufs - analysis.loudness.integrated
    limiting = analysis.loudness.true_peak + gain - limit
    correction, slope = 0.0, 1.0
    for _ in range(2):
        correction, peak, slope = calibrate(
            runner, analysis, settings, gain, limit, folder, limiting > CALIBRATE_ABOVE_DB
        )
        excess = peak - (settings.true_peak - TRUE_PEAK_SAFETY)
        if excess <= 0:
            break
        # Bright audio (sibilance, noise) overshoots the sample limit: limit lower and rehearse again.
        limit -= excess
        limiting += excess
    # The limiting the chosen gain asks for, made-up losses included: what the listener may hear.
    return gain + correction, limit, max(limiting, limiting + correction), slope


def _audible(path: Path, analysis: Analysis, what: str, fix: str) -> None:
    """Refuse a recording (or sting) with nothing to bring to the target: silent, or too short to measure."""
    if analysis.loudness.true_peak > -math.inf and analysis.duration < SHORTEST_MEASURABLE:
        raise AudioError(
            path,
            f"{what} is only {analysis.duration:.1f} seconds long, too short to measure its loudness",
            f"use one at least a second long ({SHORTEST_MEASURABLE:g} s is the shortest EBU R128 can measure)",
        )
    if analysis.loudness.integrated <= SILENT_LUFS or analysis.loudness.true_peak == -math.inf:
        raise AudioError(path, f"{what} is silent", fix)


def _sting(
    runner: Runner, path: Path, settings: AudioSettings, limit: float, folder: Path
) -> tuple[Path, float, float]:
    """A sting's file, gain and length."""
    analysis = analyse(runner, path, settings, sample=folder / f"{path.stem}-sting.wav")
    _audible(path, analysis, "the sting", "choose another file in show.toml [audio]")
    return path, _gain(runner, analysis, settings, limit, folder)[0], analysis.duration


def normalise(
    runner: Runner,
    source: Path,
    target: Path,
    settings: AudioSettings,
    stings: Stings = Stings(),
    progress: Progress | None = None,
    analysis: Analysis | None = None,
) -> Encoded:
    """Encode `source` to `target` (MP3 or AAC, as `settings` say) measuring at the loudness and peak targets
    (measuring it first, unless given its `analysis` with a sample)."""
    report = progress or (lambda fraction: None)
    with tempfile.TemporaryDirectory(prefix="briefings-") as folder:
        if analysis is None:
            sample = Path(folder) / "sample.wav"
            analysis = analyse(runner, source, settings, lambda fraction: report(fraction * MEASURING_SHARE), sample)
        return _normalise(runner, source, target, settings, stings, report, Path(folder), analysis)


def _normalise(
    runner: Runner,
    source: Path,
    target: Path,
    settings: AudioSettings,
    stings: Stings,
    report: Progress,
    folder: Path,
    before: Analysis,
) -> Encoded:
    report(MEASURING_SHARE)
    _audible(source, before, "the recording", "check the microphone and record again")
    trim = trim_for(before, settings)
    kept = (before.duration if trim.end is None else trim.end) - trim.start
    gain, limit, limiting, slope = _gain(runner, before, settings, settings.true_peak - LIMITER_MARGIN, folder)
    intro = _sting(runner, stings.intro, settings, limit, folder) if stings.intro else None
    outro = _sting(runner, stings.outro, settings, limit, folder) if stings.outro else None
    total = kept + sum(sting[2] for sting in (intro, outro) if sting is not None)
    warnings = []
    if limiting > AUDIBLE_LIMITING_DB:
        message = (
            f"reaching {settings.target_lufs:g} LUFS needs {limiting:.0f} dB of peak limiting, which may be audible"
        )
        warnings.append(Problem(shown(source), message, LIMITING_FIX, severity=Severity.WARNING))

    def encoding(seconds: float) -> None:
        report(MEASURING_SHARE + (1 - MEASURING_SHARE) * min(1.0, seconds / total if total else 1.0))

    correction = 0.0  # dB added to every part's gain when the verified result is off target
    tried: list[tuple[float, float]] = []  # (correction, loudness it gave)
    for attempt in range(1, ATTEMPTS + 1):
        arguments = encode_arguments(
            source, target, settings, gain + correction, limit, trim,
            None if intro is None else (intro[0], intro[1] + correction),
            None if outro is None else (outro[0], outro[1] + correction),
            before.input_options,
        )  # fmt: skip
        process = runner.ffmpeg_stream(arguments, encoding)
        after = _summary(process.stderr, None)
        if process.returncode == 0 and after is None:
            # The verifying meter's report was garbled by another thread's output (rare): meter the file.
            after = measure(runner, target)
        if process.returncode != 0 or after is None:
            raise AudioError(
                source, f"encoding failed ({ffmpeg_report.complaint(process.stderr)})", "export it again as WAV or FLAC"
            )
        loud_enough = abs(after.integrated - settings.target_lufs) <= LOUDNESS_TOLERANCE
        if loud_enough and after.true_peak <= settings.true_peak:
            report(1.0)
            return Encoded(
                source=before.loudness,
                result=after,
                gain=round(gain + correction, 3),
                warnings=tuple(warnings),
                trimmed_start=trim.start,
                trimmed_end=0.0 if trim.end is None else round(before.duration - trim.end, 6),
                intro=0.0 if intro is None else intro[2],
                duration=round(total, 6),
                attempts=attempt,
                source_duration=round(before.duration, 6),
            )
        tried.append((correction, after.integrated))
        correction += (settings.target_lufs - after.integrated) / _slope(tried, slope)
        if after.true_peak > settings.true_peak:
            limit -= after.true_peak - settings.true_peak + 0.2
    raise AudioError(
        source,
        f"could not reach {settings.target_lufs:g} LUFS and {settings.true_peak:g} dBTP (measured {after})",
        "check the recording for clipping or long silences",
    )


def describe(encoded: Encoded) -> Sequence[str]:
    """What processing did, in a few words each, for people."""
    parts = [f"gain {encoded.gain:+.1f} dB"]
    cuts = [
        f"{seconds:.1f} s of silence at the {end}"
        for seconds, end in ((encoded.trimmed_start, "start"), (encoded.trimmed_end, "end"))
        if seconds >= 0.05
    ]
    if cuts:
        parts.append("trimmed " + " and ".join(cuts))
    if encoded.intro:
        parts.append(f"{encoded.intro:.1f} s intro")
    if encoded.attempts > 1:
        parts.append(f"{encoded.attempts} encodes")
    return parts
