"""Benchmark the audio stage against a plain ffmpeg encode (the floor) and ffmpeg-normalize.

Generates a 60-minute speech-like mono 44.1 kHz WAV and, in the same run, times (best of three
interleaved runs) and measures:

  (a) the floor: ffmpeg decoding it and encoding the same MP3 (96 kbps mono 44.1 kHz), no processing;
  (b) ffmpeg-normalize -t -16 -tp -1.5 -ar 44100 -c:a libmp3lame -b:a 96k (two-pass loudnorm);
  (c) briefings audio;
  (d) briefings build of a workspace holding it as one new briefing, everything included: check,
      measure, encode, verify, tag, and the feeds and pages (its caches emptied before each run).

For each: wall time, peak memory of all its processes together (the sum of the resident memory of the
process and every descendant, polled), and the output's loudness and true peak (ffmpeg's ebur128,
independent of briefings' code). Then briefings' memory at 15 and 60 minutes, its output on speech
whose level swings by ±6 dB, and a batch of two 15-minute recordings built with --jobs 2 and --jobs 1,
next to the same two floor encodes run both at once and one at a time (how far plain ffmpeg scales on
this machine: the batch is held to that).
With --long it also processes a 3-hour recording.

Needs the `bench` extra: pip install -e '.[bench]' (ffmpeg-normalize and psutil).
Usage: python scripts/bench_audio.py [--minutes 60] [--rounds 3] [--long] [--folder DIR]
It is not part of the test suite: timings depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from briefings.runner import find_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
FFMPEG = find_ffmpeg()
# Speech-like: a voiced source (a gliding fundamental with harmonics falling off like a voice) in
# syllables (2-5 per second), words and phrases with irregular pauses, a slow ±3 dB drift in level,
# stressed syllables, fricative-like noise bursts and a faint noise floor. It measures about -24 LUFS
# with peaks near -8 dBTP: a peak-to-loudness ratio of about 16 dB, like read speech, so normalising
# it drives peaks into the limiter as real recordings do.
F0 = "(110+20*sin(2*PI*0.31*t)+8*sin(2*PI*2.7*t))"
# A smooth gate: 0 below zero, 1 above, with a transition of a few tens of milliseconds as in speech.
GATE = "(0.5+0.5*tanh(12*({})))"
VOICE = (
    f"0.3*(0.30*sin(2*PI*{F0}*t)+0.20*sin(4*PI*{F0}*t)+0.12*sin(6*PI*{F0}*t)+0.06*sin(10*PI*{F0}*t))"
    "*pow(abs(sin(2*PI*(2.1+0.8*sin(2*PI*0.13*t))*t)),3)"  # syllables
    + "*"
    + GATE.format("sin(2*PI*0.23*t)+0.5*sin(2*PI*0.71*t)+0.3*sin(2*PI*1.37*t)+0.6")  # words, pauses
    + "*(1+0.4*sin(2*PI*0.017*t))*(1+1.5*"
    + GATE.format("10*(sin(2*PI*0.37*t)-0.97)")
    + ")"  # stress
    + "+0.015*(random(0)-0.5)*"
    + GATE.format("10*(sin(2*PI*0.9*t)-0.85)")  # fricatives
    + "+0.0006*(random(1)-0.5)"  # noise floor
)
# The floor's encoder settings: the example show's (96 kbps mono 44.1 kHz MP3).
FLOOR_MP3 = ("-c:a", "libmp3lame", "-b:a", "96k", "-ar", "44100", "-ac", "1")
# Recorded speech has little above 8 kHz; neither should the fricative noise.
SHAPE = "lowpass=f=8000"


@dataclass(frozen=True)
class Run:
    """One timed run."""

    seconds: float
    peak_mb: float


def ffmpeg(*arguments: str | Path) -> None:
    """Run ffmpeg quietly, failing loudly."""
    subprocess.run([FFMPEG, "-y", "-nostdin", "-loglevel", "error", *map(str, arguments)], check=True)


def speech_like(folder: Path, minutes: int, variant: int = 0) -> Path:
    """A `minutes`-long speech-like mono 44.1 kHz 16-bit WAV (one generated minute, looped)."""
    minute = folder / "speech-like-minute.wav"
    if not minute.exists():
        ffmpeg("-f", "lavfi", "-i", f"aevalsrc=exprs='{VOICE}':s=44100:d=60", "-af", SHAPE, "-c:a", "pcm_s16le", minute)
    path = folder / f"speech-like-{minutes}min-{variant}.wav"
    if not path.exists():
        # Each variant slightly quieter, so a batch holds different recordings (the cache keys on content).
        ffmpeg("-stream_loop", str(minutes - 1), "-i", minute, "-af", f"volume={1 - 0.02 * variant}", path)
    return path


def swinging_speech(folder: Path, minutes: int) -> Path:
    """Synthetic speech (the bundled examples, made with espeak-ng) whose level swings by ±6 dB every 30 s."""
    path = folder / f"speech-swinging-{minutes}min.wav"
    if not path.exists():
        examples = [ROOT / "episodes" / "child-a" / "recording.opus", ROOT / "episodes" / "child-b" / "recording.flac"]
        joined = folder / "examples.wav"
        ffmpeg(
            "-i", examples[0], "-i", examples[1], "-filter_complex",
            "[0:a]aresample=44100,aformat=channel_layouts=mono[a];[1:a]aresample=44100,aformat=channel_layouts=mono[b];"
            "[a][b]concat=n=2:v=0:a=1", joined,
        )  # fmt: skip
        ffmpeg(
            "-stream_loop", "-1", "-i", joined, "-t", str(minutes * 60),
            "-af", "volume='if(lt(mod(t,60),30),2,0.5)':eval=frame", path,
        )  # fmt: skip
    return path


def timed(argv: Sequence[str | Path], environment: dict[str, str] | None = None) -> Run:
    """Run `argv`, returning its wall time and the peak of the summed memory of it and its descendants."""
    peak = [0]
    start = time.perf_counter()
    process = psutil.Popen(
        [str(part) for part in argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment,
    )
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                family = [process, *process.children(recursive=True)]
                total = 0
                for member in family:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += member.memory_info().rss
                peak[0] = max(peak[0], total)
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(map(str, argv))}\n{stderr.decode()[-2000:]}")
    return Run(seconds, peak[0] / 2**20)


def meter(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128."""
    report = subprocess.run(
        [FFMPEG, "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = report[report.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return integrated, peak


def machine() -> str:
    """What this ran on."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (
        f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; Python {platform.python_version()}; {version}"
    )


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def workspace_with(folder: Path, recordings: list[Path], name: str = "batch") -> Path:
    """A workspace (the example show's settings) with one briefing per recording."""
    workspace = folder / name
    if workspace.exists():
        shutil.rmtree(workspace)
    (workspace / "episodes").mkdir(parents=True)
    shutil.copy(ROOT / "show.toml", workspace / "show.toml")
    shutil.copy(ROOT / "artwork.jpg", workspace / "artwork.jpg")
    briefing = (ROOT / "episodes" / "child-a" / "briefing.yaml").read_text()
    briefing = briefing.replace("recording: recording.opus", "recording: recording.wav")
    briefing = re.sub(r"\ntranscript: .*", "", briefing)
    for number, recording in enumerate(recordings, 1):
        episode = workspace / "episodes" / f"bench-{number}"
        episode.mkdir()
        (episode / "briefing.yaml").write_text(briefing)
        os.link(recording, episode / "recording.wav")
    return workspace


def floor_batch(recordings: Sequence[Path], jobs: int) -> float:
    """Wall time of the floor encode (as in (a)) of every recording, `jobs` at a time: how well plain
    ffmpeg scales on this machine, the reference for the batch ratio."""
    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda path: ffmpeg("-i", path, *FLOOR_MP3, path.with_suffix(".floor.mp3")), recordings))
    return time.perf_counter() - start


def built_media(workspace: Path) -> Path:
    """The one MP3 a build of `workspace` staged."""
    (found,) = (workspace / ".briefings" / "build" / "media").glob("*.mp3")
    return found


def long_recording(folder: Path, briefings: list[str]) -> None:
    """Process a 3-hour recording and print time, memory, loudness and true peak."""
    long = speech_like(folder, 180)
    result = timed([*briefings, "-q", "audio", long, "-o", folder / "180.mp3"])
    integrated, peak = meter(folder / "180.mp3")
    ok = abs(integrated + 16) <= 0.5 and peak <= -1
    print(f"3-hour recording: {result.seconds:.1f} s, {result.peak_mb:.1f} MB, {integrated:.1f} LUFS, "
          f"{peak:.1f} dBTP ({verdict(ok)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-minutes", type=int, default=15, help="length of the shorter recordings")
    parser.add_argument("--long", action="store_true", help="also process a 3-hour recording")
    parser.add_argument("--long-only", action="store_true", help="only process a 3-hour recording")
    parser.add_argument("--folder", type=Path, help="keep generated files here (default: a temporary folder)")
    options = parser.parse_args()
    normalize = shutil.which("ffmpeg-normalize") or str(Path(sys.executable).parent / "ffmpeg-normalize")
    briefings = [sys.executable, "-m", "briefings"]
    environment = os.environ | {"FFMPEG_PATH": FFMPEG}
    with tempfile.TemporaryDirectory() as temporary:
        folder = options.folder or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"machine: {machine()}")
        print(f"start: {load()} (the machine is shared with other work: wall times are noisy)")
        if options.long_only:
            long_recording(folder, briefings)
            print(f"end: {load()}")
            return
        source = speech_like(folder, options.minutes)
        print(f"input: {options.minutes}-minute speech-like mono 44.1 kHz WAV, loudness/true peak {meter(source)}")
        outputs = {name: folder / f"{name}.mp3" for name in ("floor", "ffmpeg-normalize", "briefings")}
        one = workspace_with(folder, [source], "one")
        commands = {
            "floor": [FFMPEG, "-y", "-nostdin", "-i", source, *FLOOR_MP3, outputs["floor"]],
            "ffmpeg-normalize": [normalize, source, "-t", "-16", "-tp", "-1.5", "-ar", "44100", "-c:a", "libmp3lame",
                                 "-b:a", "96k", "-o", outputs["ffmpeg-normalize"], "-f"],
            "briefings": [*briefings, "-q", "audio", source, "-o", outputs["briefings"]],
            "briefings build": [*briefings, "-q", "-C", one, "build"],
        }  # fmt: skip
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for round_number in range(1, options.rounds + 1):
            for name, argv in commands.items():
                shutil.rmtree(one / ".briefings", ignore_errors=True)  # a new recording: nothing cached
                if name in outputs:
                    outputs[name].unlink(missing_ok=True)  # `briefings audio` may refuse to overwrite it
                result = timed(argv, environment)
                runs[name].append(result)
                print(f"  round {round_number} {name:17} {result.seconds:7.2f} s {result.peak_mb:6.1f} MB", flush=True)
        best = {name: min(run.seconds for run in results) for name, results in runs.items()}
        memory = {name: max(run.peak_mb for run in results) for name, results in runs.items()}
        print(f"\n{options.minutes}-minute recording, best of {options.rounds} interleaved runs:")
        print(f"  {'':17} {'wall s':>8} {'peak MB':>8} {'LUFS':>6} {'dBTP':>6}")
        outputs["briefings build"] = built_media(one)
        for name in commands:
            integrated, peak = meter(outputs[name])
            print(f"  {name:17} {best[name]:8.2f} {memory[name]:8.1f} {integrated:6.1f} {peak:6.1f}")
        built = best["briefings build"] / best["floor"]
        to_floor = best["briefings"] / best["floor"]
        faster = best["ffmpeg-normalize"] / best["briefings"]
        print(f"  briefings build / floor: {built:.2f}x (required <= 1.35x: {verdict(built <= 1.35)})")
        print(f"  briefings audio / floor: {to_floor:.2f}x (required <= 1.25x: {verdict(to_floor <= 1.25)})")
        print(f"  ffmpeg-normalize / briefings audio: {faster:.2f}x faster (required >= 3x: {verdict(faster >= 3)})")
        for name in ("briefings", "briefings build"):
            integrated, peak = meter(outputs[name])
            print(f"  {name} output {integrated:.1f} LUFS, {peak:.1f} dBTP "
                  f"(required -16 ±0.5, <= -1.0: {verdict(abs(integrated + 16) <= 0.5 and peak <= -1.0)})")  # fmt: skip

        quarter = speech_like(folder, options.batch_minutes)
        small = min((timed([*briefings, "-q", "audio", quarter, "-o", folder / f"15-{run}.mp3"]) for run in range(2)),
                    key=lambda run: run.seconds)  # fmt: skip
        most = max(small.peak_mb, memory["briefings"], memory["briefings build"])
        print(f"\nmemory, all processes together: audio {options.batch_minutes} minutes {small.peak_mb:.1f} MB, "
              f"{options.minutes} minutes {memory['briefings']:.1f} MB; build {options.minutes} minutes "
              f"{memory['briefings build']:.1f} MB (required <= 150 MB, not growing: {verdict(most <= 150)})")  # fmt: skip

        swinging = swinging_speech(folder, options.batch_minutes)
        timed([*briefings, "-q", "audio", swinging, "-o", folder / "swinging.mp3"])
        before, after = meter(swinging), meter(folder / "swinging.mp3")
        ok = abs(after[0] + 16) <= 0.5 and after[1] <= -1.0
        print(f"speech swinging ±6 dB ({options.batch_minutes} min): input {before[0]:.1f} LUFS {before[1]:.1f} dBTP -> "
              f"{after[0]:.1f} LUFS {after[1]:.1f} dBTP ({verdict(ok)})")  # fmt: skip

        recordings = [speech_like(folder, options.batch_minutes, variant) for variant in range(2)]
        workspace = workspace_with(folder, recordings)
        batch: dict[int, list[float]] = {1: [], 2: []}
        plain: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(options.rounds):
            for jobs in (1, 2):
                shutil.rmtree(workspace / ".briefings", ignore_errors=True)
                batch[jobs].append(timed([*briefings, "-q", "-C", workspace, "build", "--jobs", str(jobs)]).seconds)
                plain[jobs].append(floor_batch(recordings, jobs))
        ratio = min(batch[2]) / min(batch[1])
        reference = min(plain[2]) / min(plain[1])
        print(f"batch build of 2 x {options.batch_minutes} minutes: --jobs 1 {min(batch[1]):.2f} s, "
              f"--jobs 2 {min(batch[2]):.2f} s: {ratio:.2f}x")  # fmt: skip
        print(f"  plain ffmpeg, the floor encode of the same 2 files: one at a time {min(plain[1]):.2f} s, "
              f"both at once {min(plain[2]):.2f} s: {reference:.2f}x")  # fmt: skip
        print(f"  batch ratio {ratio:.2f}x against plain ffmpeg's {reference:.2f}x + 0.10 "
              f"(required <= {reference + 0.10:.2f}x: {verdict(ratio <= reference + 0.10)})")  # fmt: skip

        if options.long:
            long_recording(folder, briefings)
        print(f"end: {load()}")


if __name__ == "__main__":
    main()
