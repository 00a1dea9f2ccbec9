"""Regenerate the example recordings and transcripts in episodes/ with synthetic speech.

Needs espeak-ng (Debian package `espeak-ng`) and the ffmpeg that briefings uses. The recordings are
committed, so only run this after changing an example's text; then copy the chapter starts it
prints into the briefing.yaml.

Usage: python scripts/make_examples.py
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import yaml

from briefings.audio import find_ffmpeg
from briefings.timecode import timestamp

ROOT = Path(__file__).resolve().parent.parent
# Each example gets a different format, level and layout so the bundled show exercises the audio stage.
# Synthetic speech has far sharper peaks than a voice through a real microphone chain; a compressor brings
# it to a speech-like peak-to-loudness ratio, so the examples need no audible limiting.
SPEECH_LIKE = "acompressor=threshold=0.03:ratio=8:attack=1:release=80:makeup=1"
ENCODINGS = {
    "child-a": ["-af", f"{SPEECH_LIKE},volume=8dB", "-ac", "2", "-c:a", "libopus", "-b:a", "24k"],
    "child-b": [
        "-af",
        f"{SPEECH_LIKE},volume=17dB",
        "-ar",
        "16000",
        "-sample_fmt",
        "s16",
        "-c:a",
        "flac",
        "-compression_level",
        "12",
    ],
}
PAUSE_SECONDS = 0.8


def segments(briefing: dict) -> list[str]:
    """The spoken text: an introduction, then one segment per key lesson."""
    review = briefing["review"]
    intro = (
        f"{briefing['title']}. A briefing on the {review['type']} published by "
        f"{review['partnership']}. {briefing['summary']}"
    )
    lessons = [f"Lesson {n}. {text}" for n, text in enumerate(briefing["key_lessons"], 1)]
    return [intro, *lessons]


def main() -> None:
    ffmpeg = find_ffmpeg()
    for slug, encoding in ENCODINGS.items():
        folder = ROOT / "episodes" / slug
        briefing = yaml.safe_load((folder / "briefing.yaml").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            parts: list[Path] = []
            cues: list[str] = ["WEBVTT", ""]
            start = 0.0
            for number, text in enumerate(segments(briefing)):
                part = Path(tmp) / f"{number}.wav"
                subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "165", "-w", str(part), text], check=True)
                with wave.open(str(part)) as wav:
                    length = wav.getnframes() / wav.getframerate()
                print(f"{slug}: chapter {number} starts at {int(start) // 60:02d}:{int(start) % 60:02d}")
                cues += [f"{timestamp(start)} --> {timestamp(start + length)}", text, ""]
                parts.append(part)
                start += length + PAUSE_SECONDS
            inputs = [arg for part in parts for arg in ("-i", str(part))]
            pads = "".join(f"[{n}]apad=pad_dur={PAUSE_SECONDS}[p{n}];" for n in range(len(parts)))
            joined = "".join(f"[p{n}]" for n in range(len(parts)))
            graph = f"{pads}{joined}concat=n={len(parts)}:v=0:a=1[out]"
            recording = folder / briefing["recording"]
            subprocess.run(
                [
                    ffmpeg,
                    "-y",
                    "-loglevel",
                    "error",
                    *inputs,
                    "-filter_complex",
                    graph,
                    "-map",
                    "[out]",
                    str(Path(tmp) / "joined.wav"),
                ],
                check=True,
            )
            subprocess.run(
                [ffmpeg, "-y", "-loglevel", "error", "-i", str(Path(tmp) / "joined.wav"), *encoding, str(recording)],
                check=True,
            )
            (folder / briefing["transcript"]).write_text("\n".join(cues))
            print(f"{slug}: {recording.name} {recording.stat().st_size // 1024} KiB, {start:.1f} s")


if __name__ == "__main__":
    main()
