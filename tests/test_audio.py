"""The audio stage on generated inputs: every format, rate and level comes out at podcast loudness."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from mutagen.mp3 import MP3
from pydub.generators import Sine, WhiteNoise

from briefings import audio
from briefings.config import AudioSettings
from briefings.errors import AudioError
from briefings.runner import Runner, find_ffmpeg
from tests.conftest import ebur128


def lavfi(target: Path, source: str, *encoding: str) -> Path:
    """Render an ffmpeg lavfi source expression to `target`."""
    command = [find_ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", source, *encoding, str(target)]
    subprocess.run(command, check=True)
    return target


def speech_like(seconds: int, amplitude: float) -> str:
    """A tone with syllable-rate bursts and pauses: peaky like speech, not a constant sine."""
    # The sine source plays at 1/8 of full scale: scale by 8 so `amplitude` is relative to full scale.
    envelope = f"{amplitude * 8}*(0.5+0.5*sin(2*PI*4*t))*gt(sin(2*PI*0.4*t),-0.3)"
    return f"sine=frequency=180:sample_rate=48000:duration={seconds},volume=eval=frame:volume='{envelope}'"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    quiet = Sine(220).to_audio_segment(duration=12_000, volume=-42).set_channels(2)
    quiet = quiet.overlay(WhiteNoise().to_audio_segment(duration=12_000, volume=-60))
    quiet.export(folder / "44k-2ch-12s-quiet.wav", format="wav")
    return {
        "quiet stereo wav": folder / "44k-2ch-12s-quiet.wav",
        "clipped flac": lavfi(
            folder / "48k-1ch-12s-clipped.flac", speech_like(12, 1.0), "-af", "volume=12dB", "-sample_fmt", "s16"
        ),
        "8 kHz mp3": lavfi(folder / "8k-1ch-12s.mp3", speech_like(12, 0.2), "-ar", "8000", "-c:a", "libmp3lame"),
        "six-channel opus": lavfi(folder / "48k-6ch-12s.opus", speech_like(12, 0.1), "-ac", "6", "-c:a", "libopus"),
        "96 kHz wav": lavfi(folder / "96k-2ch-12s.wav", speech_like(12, 0.3), "-ar", "96000", "-ac", "2"),
        "m4a": lavfi(folder / "44k-2ch-12s.m4a", speech_like(12, 0.05), "-ac", "2", "-c:a", "aac"),
    }


@pytest.mark.parametrize(
    "name", ["quiet stereo wav", "clipped flac", "8 kHz mp3", "six-channel opus", "96 kHz wav", "m4a"]
)
def test_any_input_comes_out_at_target_loudness_in_mono_mp3(inputs: dict[str, Path], name: str, tmp_path: Path) -> None:
    source = inputs[name]
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "out.mp3"
    result = audio.normalise(Runner(), source, target, AudioSettings())
    meter = ebur128(target)
    assert abs(meter.integrated - -16.0) <= 0.5, meter
    assert meter.true_peak <= -1.0, meter
    assert abs(result.result.integrated - meter.integrated) <= 0.1
    info = MP3(target).info
    assert (info.channels, info.sample_rate, info.bitrate) == (1, 44100, 96000)
    assert abs(info.length - 12.0) < 0.1
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


def test_a_target_from_settings_is_honoured(inputs: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "out.mp3"
    audio.normalise(Runner(), inputs["m4a"], target, AudioSettings(target_lufs=-19.0, true_peak=-2.0, channels=2))
    meter = ebur128(target)
    assert abs(meter.integrated - -19.0) <= 0.5 and meter.true_peak <= -2.0
    assert MP3(target).info.channels == 2


def test_silence_and_non_audio_are_refused(tmp_path: Path) -> None:
    silent = lavfi(tmp_path / "silent.wav", "anullsrc=r=44100:cl=mono", "-t", "5")
    with pytest.raises(AudioError, match=r"silent.wav: the recording is silent \(fix: check the microphone"):
        audio.normalise(Runner(), silent, tmp_path / "out.mp3", AudioSettings())
    text = tmp_path / "notes.mp3"
    text.write_text("minutes of the panel meeting\n" * 100)
    with pytest.raises(AudioError, match=r"notes.mp3: not a readable audio recording"):
        audio.normalise(Runner(), text, tmp_path / "out.mp3", AudioSettings())


def test_encode_arguments_use_one_pass_with_gain_and_limiter() -> None:
    arguments = audio.encode_arguments(Path("in.wav"), Path("out.mp3"), AudioSettings(), 6.5, -2.0)
    chain = arguments[arguments.index("-af") + 1]
    assert chain == (
        "aresample=44100,aformat=channel_layouts=mono,volume=6.500dB,"
        "alimiter=limit=0.794328:level=disabled:latency=enabled:attack=5:release=100"
    )
    assert arguments[arguments.index("-b:a") + 1] == "96k"
