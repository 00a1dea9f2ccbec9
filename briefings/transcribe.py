"""Draft a WebVTT transcript offline with pocketsphinx, for the author to correct."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefings.check import DRAFT_NOTE
from briefings.errors import BriefingsError, shown
from briefings.runner import Runner
from briefings.timecode import timestamp

INSTALL_FIX = "install the optional extra: pip install -e '.[transcribe]' in the briefings folder"
# Captions are easiest to read in short cues (BBC subtitle guidelines: a few seconds, two lines).
MAX_CUE_SECONDS = 6.0
MAX_CUE_WORDS = 14
# pocketsphinx reports word times in frames of 10 ms.
FRAMES_PER_SECOND = 100


@dataclass(frozen=True)
class Cue:
    """A span of speech and the words recognised in it."""

    start: float
    end: float
    text: str


def require_recogniser() -> None:
    """Raise BriefingsError with the install command when the optional recogniser is missing."""
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        raise BriefingsError(f"transcription needs pocketsphinx (fix: {INSTALL_FIX})") from None


def recognise(runner: Runner, recording: Path, progress: Callable[[float], None] | None = None) -> list[Cue]:
    """Recognise speech in `recording`, streaming it through ffmpeg at 16 kHz mono; one cue per utterance."""
    try:
        from pocketsphinx import Decoder, Endpointer
    except ImportError:
        raise BriefingsError(f"transcription needs pocketsphinx (fix: {INSTALL_FIX})") from None
    endpointer = Endpointer(sample_rate=16000)
    decoder = Decoder(samprate=endpointer.sample_rate, loglevel="FATAL")
    size = endpointer.frame_bytes
    arguments = ["-i", str(recording), "-map", "0:a:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]
    cues: list[Cue] = []
    frames = 0

    def finish() -> None:
        decoder.end_utt()
        offset = endpointer.speech_start
        words = [
            (
                offset + segment.start_frame / FRAMES_PER_SECOND,
                offset + segment.end_frame / FRAMES_PER_SECOND,
                segment.word.split("(")[0],
            )
            for segment in decoder.seg()
            if not segment.word.startswith(("<", "["))
        ]
        cues.extend(split_cues(words))

    with runner.ffmpeg_pipe(arguments) as (process, report):
        assert process.stdout is not None
        while True:
            frame = process.stdout.read(size)
            if len(frame) < size:
                if endpointer.in_speech:
                    # The recording ends mid-speech. pocketsphinx's Python binding reads the first byte of
                    # any buffer it is given, so an empty one (a recording a whole number of frames long)
                    # raises IndexError: end with one silent sample instead, and skip empty speech.
                    speech = endpointer.end_stream(frame or bytes(2))
                    if speech:
                        decoder.process_raw(speech)
                    finish()
                break
            was_speaking = endpointer.in_speech
            speech = endpointer.process(frame)
            if speech is not None:
                if not was_speaking:
                    decoder.start_utt()
                decoder.process_raw(speech)
                if not endpointer.in_speech:
                    finish()
            frames += 1
            if progress is not None and frames % 1000 == 0:
                progress(frames * endpointer.frame_length)
        failed = process.wait() != 0
        report.seek(0)
        error = report.read().decode(errors="replace").strip()
    if failed:
        raise BriefingsError(
            f"{shown(recording)}: could not be decoded ({error.splitlines()[-1] if error else 'ffmpeg failed'}) (fix: export it again as WAV, FLAC, MP3 or M4A)"
        )
    return cues


def split_cues(words: list[tuple[float, float, str]]) -> list[Cue]:
    """Group timed words into cues short enough to read as captions."""
    cues: list[Cue] = []
    current: list[tuple[float, float, str]] = []
    for word in words:
        if current and (word[1] - current[0][0] > MAX_CUE_SECONDS or len(current) >= MAX_CUE_WORDS):
            cues.append(Cue(current[0][0], current[-1][1], " ".join(text for _, _, text in current)))
            current = []
        current.append(word)
    if current:
        cues.append(Cue(current[0][0], current[-1][1], " ".join(text for _, _, text in current)))
    return cues


def draft_vtt(cues: list[Cue]) -> str:
    """A WebVTT document of `cues`, marked as a draft until the author corrects it."""
    lines = [
        "WEBVTT",
        "",
        DRAFT_NOTE,
        "This transcript was made by speech recognition and has mistakes. Correct every cue",
        "against the recording, then delete this note.",
        "",
    ]
    for cue in cues:
        lines += [f"{timestamp(cue.start)} --> {timestamp(cue.end)}", cue.text, ""]
    return "\n".join(lines)
