"""The audio stage on generated inputs: every format, rate, layout and level comes out at podcast loudness."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from pydub.generators import Sine, WhiteNoise

from briefings import audio, ffmpeg_report
from briefings.config import AudioSettings
from briefings.errors import AudioError
from briefings.runner import Runner, find_ffmpeg
from briefings.tagging import Tags, tag
from tests.conftest import REPO, copy_example, ebur128, run


def lavfi(target: Path, source: str, *encoding: str) -> Path:
    """Render an ffmpeg lavfi source expression to `target`."""
    command = [find_ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", source, *encoding, str(target)]
    subprocess.run(command, check=True)
    return target


def speech_like(seconds: float, amplitude: float, rate: int = 48000) -> str:
    """A tone with syllable-rate bursts and pauses: peaky like speech, not a constant sine.

    The pauses (sin(2*pi*0.4*t) below -0.3) last about a second in every 2.5; the first starts at 1.37 s.
    """
    envelope = "(0.5+0.5*sin(2*PI*4*t))*gt(sin(2*PI*0.4*t),-0.3)"
    return f"aevalsrc=exprs='{amplitude}*sin(2*PI*180*t)*{envelope}':s={rate}:d={seconds}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
        "192 kHz 24-bit wav": lavfi(
            folder / "192k-1ch-12s-24bit.wav", speech_like(12, 0.3, 192000), "-c:a", "pcm_s24le"
        ),
        "m4a": lavfi(folder / "44k-2ch-12s.m4a", speech_like(12, 0.05), "-ac", "2", "-c:a", "aac"),
        "browser webm": lavfi(folder / "48k-1ch-12s.webm", speech_like(12, 0.2), "-c:a", "libopus"),
        "22 kHz ogg vorbis": lavfi(
            folder / "22k-2ch-12s.ogg", speech_like(12, 0.2), "-ar", "22050", "-ac", "2", "-c:a", "libvorbis"
        ),
        "16 kHz flac": lavfi(folder / "16k-1ch-12s.flac", speech_like(12, 0.2), "-ar", "16000"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "quiet stereo wav", "clipped flac", "8 kHz mp3", "six-channel opus", "96 kHz wav", "192 kHz 24-bit wav",
        "m4a", "browser webm", "22 kHz ogg vorbis", "16 kHz flac",
    ],
)  # fmt: skip
def test_any_input_comes_out_at_target_loudness_in_mono_mp3(inputs: dict[str, Path], name: str, tmp_path: Path) -> None:
    source = inputs[name]
    before = sha256(source)
    target = tmp_path / "out.mp3"
    result = audio.normalise(Runner(), source, target, AudioSettings())
    meter = ebur128(target)
    assert abs(meter.integrated - -16.0) <= 0.5, meter
    assert meter.true_peak <= -1.0, meter
    # The loopback decoder meters exactly what an independent decode of the file meters.
    assert abs(result.result.integrated - meter.integrated) <= 0.1
    assert abs(result.result.true_peak - meter.true_peak) <= 0.1
    info = MP3(target).info
    assert (info.channels, info.sample_rate, info.bitrate) == (1, 44100, 96000)
    assert abs(info.length - result.duration) < 0.06
    assert sha256(source) == before


@pytest.mark.parametrize("name", ["quiet stereo wav", "clipped flac", "browser webm"])
def test_aac_output_is_verified_like_mp3(inputs: dict[str, Path], name: str, tmp_path: Path) -> None:
    source = inputs[name]
    before = sha256(source)
    target = tmp_path / "out.m4a"
    result = audio.normalise(Runner(), source, target, AudioSettings(format="aac"))
    meter = ebur128(target)
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter
    assert abs(result.result.integrated - meter.integrated) <= 0.1
    assert abs(result.result.true_peak - meter.true_peak) <= 0.1
    info = MP4(target).info
    assert (info.codec, info.channels, info.sample_rate) == ("mp4a.40.2", 1, 44100)
    assert abs(info.length - result.duration) < 0.06
    assert sha256(source) == before


def test_mp4_chapter_titles_keep_the_characters_ffmpeg_metadata_escapes(tmp_path: Path) -> None:
    source = lavfi(tmp_path / "tone.m4a", "sine=frequency=300:duration=30", "-c:a", "aac")
    titles = ["Risk = need; #1 \\ first", "Ends in C:\\", "Third"]
    tags = Tags("T", "A", "S", 2026, "C", "https://example.org/", b"\x89PNG fake", "image/png",
                tuple(zip((0.0, 10.0, 20.0), titles, strict=True)))  # fmt: skip
    tag(source, tmp_path / "tagged.m4a", tags, Runner())
    tagged = MP4(tmp_path / "tagged.m4a")
    assert [(chapter.start, chapter.title) for chapter in tagged.chapters or []] == [
        (0.0, "Risk = need; #1 \\ first"), (10.0, "Ends in C:"), (20.0, "Third"),
    ]  # fmt: skip
    assert tagged.tags is not None and tagged.tags["covr"][0].imageformat == MP4Cover.FORMAT_PNG


def test_trailing_pause_is_trimmed_to_the_padding(inputs: dict[str, Path], tmp_path: Path) -> None:
    # speech_like(12) falls silent at 11.37 s: 0.63 s of silence at the end, of which 0.25 s is kept.
    result = audio.normalise(Runner(), inputs["96 kHz wav"], tmp_path / "out.mp3", AudioSettings())
    assert result.trimmed_start == 0.0
    assert result.trimmed_end == pytest.approx(12.0 - 11.37 - 0.25, abs=0.02)
    assert MP3(tmp_path / "out.mp3").info.length == pytest.approx(11.62, abs=0.06)


def test_leading_and_trailing_silence_trimmed_and_configurable(tmp_path: Path) -> None:
    source = lavfi(
        tmp_path / "44k-1ch-3s-silence-8s-tone-2s-silence.wav",
        "sine=frequency=300:sample_rate=44100:duration=8,volume=0.2,adelay=3s:all=1,apad=pad_dur=2",
    )
    before = sha256(source)
    trimmed = audio.normalise(Runner(), source, tmp_path / "trimmed.mp3", AudioSettings())
    assert trimmed.trimmed_start == pytest.approx(2.75, abs=0.01)
    assert trimmed.trimmed_end == pytest.approx(1.75, abs=0.01)
    assert MP3(tmp_path / "trimmed.mp3").info.length == pytest.approx(8.5, abs=0.06)
    padded = audio.normalise(
        Runner(), source, tmp_path / "padded.mp3", AudioSettings(silence_padding=1.0, silence_threshold=-60)
    )
    assert (padded.trimmed_start, padded.trimmed_end) == (pytest.approx(2.0, abs=0.01), pytest.approx(1.0, abs=0.01))
    kept = audio.normalise(Runner(), source, tmp_path / "kept.mp3", AudioSettings(trim_silence=False))
    assert (kept.trimmed_start, kept.trimmed_end) == (0.0, 0.0)
    assert MP3(tmp_path / "kept.mp3").info.length == pytest.approx(13.0, abs=0.06)
    for name in ("trimmed", "padded", "kept"):
        meter = ebur128(tmp_path / f"{name}.mp3")
        assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, (name, meter)
    assert sha256(source) == before


def test_very_quiet_30_second_recording(tmp_path: Path) -> None:
    source = lavfi(tmp_path / "48k-1ch-30s-quiet.flac", speech_like(30, 0.028))
    assert ebur128(source).integrated == pytest.approx(-40, abs=1.5)
    result = audio.normalise(Runner(), source, tmp_path / "out.mp3", AudioSettings())
    meter = ebur128(tmp_path / "out.mp3")
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter
    assert result.gain > 20
    assert MP3(tmp_path / "out.mp3").info.length == pytest.approx(result.duration, abs=0.06)


def test_a_target_from_settings_is_honoured(inputs: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "out.mp3"
    audio.normalise(Runner(), inputs["m4a"], target, AudioSettings(target_lufs=-19.0, true_peak=-2.0, channels=2))
    meter = ebur128(target)
    assert abs(meter.integrated - -19.0) <= 0.5 and meter.true_peak <= -2.0
    assert MP3(target).info.channels == 2


def test_stings_are_matched_in_loudness_and_their_length_reported(inputs: dict[str, Path], tmp_path: Path) -> None:
    # Stings fit in memory: pydub makes them (a quiet 2 s chime and a loud 1.5 s one).
    intro, outro = tmp_path / "intro.wav", tmp_path / "outro.wav"
    Sine(660).to_audio_segment(duration=2000, volume=-35).export(intro, format="wav")
    Sine(440).to_audio_segment(duration=1500, volume=-6).fade_out(500).export(outro, format="wav")
    result = audio.normalise(
        Runner(), inputs["16 kHz flac"], tmp_path / "out.mp3", AudioSettings(), audio.Stings(intro, outro)
    )
    assert result.intro == pytest.approx(2.0, abs=0.001)
    length = MP3(tmp_path / "out.mp3").info.length
    assert length == pytest.approx(2.0 + (12.0 - result.trimmed_end) + 1.5, abs=0.06)
    meter = ebur128(tmp_path / "out.mp3")
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter
    # Each part on its own is at the target too: cut the intro back out of the result and meter it.
    cut = tmp_path / "intro-part.wav"
    subprocess.run([find_ffmpeg(), "-loglevel", "error", "-i", tmp_path / "out.mp3", "-t", "1.9", cut], check=True)
    assert abs(ebur128(cut).integrated - -16.0) <= 1.0


def test_audible_limiting_is_warned_about(tmp_path: Path) -> None:
    # A whisper (-45 LUFS) with loud clicks: the gain to -16 LUFS drives the clicks 30 dB into the limiter.
    source = lavfi(
        tmp_path / "44k-1ch-20s-whisper-with-clicks.wav",
        "aevalsrc=exprs='0.004*sin(2*PI*200*t)+0.9*lt(mod(t,2),0.0005)':s=44100:d=20",
    )
    result = audio.normalise(Runner(), source, tmp_path / "out.mp3", AudioSettings())
    assert len(result.warnings) == 1
    # The fix is for the clicks: a closer microphone would make them louder too (issue 11).
    assert str(result.warnings[0]) == (
        f"warning: {source}: reaching -16 LUFS needs 40 dB of peak limiting, which may be audible (fix: soften the loudest "
        "peaks (knocks, clicks, coughs, popped p and b sounds) with an audio editor's de-clicker or compressor, "
        "or cut them, then process it again)"
    )
    meter = ebur128(tmp_path / "out.mp3")
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter


@pytest.mark.slow
def test_long_recording_streams_in_bounded_memory(tmp_path: Path) -> None:
    # Ten minutes (a 3-hour run is in scripts/bench_audio.py): one generated minute of speech-like
    # audio with its level swinging by 6 dB, looped.
    minute = lavfi(
        tmp_path / "minute.wav",
        speech_like(60, 0.2, 44100) + ",volume='if(lt(mod(t,20),10),2,0.5)':eval=frame",
    )
    source = tmp_path / "44k-1ch-10min.wav"
    subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-stream_loop", "9", "-i", minute, "-c", "copy", source], check=True
    )
    # In a small process of its own: a child's peak memory (ru_maxrss) starts from its parent's at the
    # fork, so measured from this test session it would report the session's size, not ffmpeg's. Linux keeps
    # ru_maxrss across exec too, so the process's own peak is read from VmHWM, which belongs to its own
    # memory map (proc(5)).
    code = (
        "import json, re, resource, sys; from pathlib import Path; from briefings import audio; "
        "from briefings.config import AudioSettings; from briefings.runner import Runner; "
        "result = audio.normalise(Runner(), Path(sys.argv[1]), Path(sys.argv[2]), AudioSettings()); "
        "own = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text())[1]); "
        "print(json.dumps([result.duration, result.source_duration, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, own]))"
    )
    run = subprocess.run([sys.executable, "-c", code, source, tmp_path / "out.mp3"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    length, source_length, children_kib, own_kib = json.loads(run.stdout)
    meter = ebur128(tmp_path / "out.mp3")
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0, meter
    assert MP3(tmp_path / "out.mp3").info.length == pytest.approx(length, abs=0.06)
    assert source_length == pytest.approx(600, abs=0.01)
    # Nothing holds the recording (53 MB as 16-bit PCM, twice that as ffmpeg's floats): not ffmpeg, not Python.
    assert children_kib < 100_000 and own_kib < 150_000, (children_kib, own_kib)


def test_silence_and_non_audio_are_refused(tmp_path: Path) -> None:
    silent = lavfi(tmp_path / "silent.wav", "anullsrc=r=44100:cl=mono", "-t", "5")
    with pytest.raises(AudioError, match=r"silent.wav: the recording is silent \(fix: check the microphone"):
        audio.normalise(Runner(), silent, tmp_path / "out.mp3", AudioSettings())
    text = tmp_path / "notes.mp3"
    text.write_text("minutes of the panel meeting\n" * 100)
    with pytest.raises(AudioError, match=r"notes.mp3: not a readable audio recording"):
        audio.normalise(Runner(), text, tmp_path / "out.mp3", AudioSettings())


def test_a_tone_too_short_to_measure_is_called_short_not_silent(tmp_path: Path) -> None:
    # EBU R128 meters 400 ms blocks: a 0.1 s tone at -18 dBFS measures -70 LUFS, as silence does.
    tone = lavfi(tmp_path / "44k-1ch-0.1s-tone.wav", "sine=frequency=440:duration=0.1")
    with pytest.raises(AudioError) as refused:
        audio.normalise(Runner(), tone, tmp_path / "out.mp3", AudioSettings())
    assert str(refused.value) == (
        f"{tone}: the recording is only 0.1 seconds long, too short to measure its loudness "
        "(fix: use one at least a second long (0.4 s is the shortest EBU R128 can measure))"
    )
    assert not (tmp_path / "out.mp3").exists()


def test_a_video_without_sound_is_said_to_have_no_audio_track(tmp_path: Path) -> None:
    video = lavfi(tmp_path / "64x64-2s-video-only.mp4", "testsrc=duration=2:size=64x64:rate=10", "-c:v", "mpeg4")
    with pytest.raises(AudioError) as refused:
        audio.normalise(Runner(), video, tmp_path / "out.mp3", AudioSettings())
    assert str(refused.value) == (
        f"{video}: has no audio track (fix: choose the file with the sound, or export the audio alone as WAV, FLAC, "
        "MP3 or M4A)"
    )


def test_encode_arguments_use_one_pass_that_meters_what_it_encodes() -> None:
    arguments = audio.encode_arguments(
        Path("in.wav"), Path("out.mp3"), AudioSettings(), 6.5, -2.0, audio.Trim(1.5, 61.25), (Path("intro.wav"), -3.0)
    )
    graphs = [arguments[index + 1] for index, value in enumerate(arguments) if value == "-filter_complex"]
    assert graphs[0] == (
        "[0:a:0]aresample=44100,aformat=channel_layouts=mono,asetpts=N/SR/TB,"
        "atrim=start=1.500000:end=61.250000,asetpts=N/SR/TB,volume=6.500dB[main];"
        "[1:a:0]aresample=44100,aformat=channel_layouts=mono,asetpts=N/SR/TB,volume=-3.000dB[intro];"
        "[intro][main]concat=n=2:v=0:a=1,"
        "alimiter=limit=0.794328:level=disabled:latency=enabled:attack=5:release=100[encode]"
    )
    assert graphs[1].startswith("[dec:0]ebur128=peak=true")
    assert arguments[arguments.index("-dec") + 1] == "0:0"
    assert arguments[arguments.index("-b:a") + 1] == "96k"
    assert arguments.count("-i") == 2


@pytest.mark.parametrize(
    ("silences", "expected"),
    [
        ((), audio.Trim()),
        (((0.0, 3.0), (10.0, 11.0), (58.0, 60.0)), audio.Trim(2.75, 58.25)),
        (((5.0, 6.0),), audio.Trim()),
        (((0.0, 0.1),), audio.Trim()),  # a pause under half a second is never reported; this is the edge
        (((0.0, 60.0),), audio.Trim()),  # all silence: refused as silent before trimming matters
        (((58.0, 60.0),), audio.Trim(0.0, 58.25)),
        (((59.9, 60.0),), audio.Trim()),  # the kept padding reaches past the end
    ],
)
def test_trim_keeps_padding_around_the_sound(silences: tuple[tuple[float, float], ...], expected: audio.Trim) -> None:
    analysis = audio.Analysis(audio.Loudness(-20, -3), 60.0, silences)
    assert audio.trim_for(analysis, AudioSettings()) == expected
    assert audio.trim_for(analysis, AudioSettings(trim_silence=False)) == audio.Trim()


def test_peaky_speech_lands_on_target_in_one_encode(tmp_path: Path) -> None:
    # The example's synthetic speech at -35 LUFS: the gain to -16 pushes its peaks 4-5 dB into the
    # limiter, which takes loudness away; the rehearsal finds how much, so one encode is enough.
    source = REPO / "episodes" / "child-a" / "recording.opus"
    result = audio.normalise(Runner(), source, tmp_path / "out.mp3", AudioSettings())
    meter = ebur128(tmp_path / "out.mp3")
    assert result.attempts == 1
    assert abs(meter.integrated - -16.0) <= 0.2 and meter.true_peak <= -1.0, meter
    assert result.gain > -16.0 - result.source.integrated  # more than a plain gain: made up for the limiter


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (30.0, ""),
        (119.9, ""),
        (120.0, ",aselect='lt(mod(t-2*mod(floor(t/2)*0.618034,1),2),1)',asetpts=N/SR/TB"),
        (3600.0, ",aselect='lt(mod(t-60*mod(floor(t/60)*0.618034,1),60),1)',asetpts=N/SR/TB"),
        (None, ",aselect='lt(mod(t-30*mod(floor(t/30)*0.618034,1),30),1)',asetpts=N/SR/TB"),
    ],
)
def test_rehearsal_sample_is_about_a_minute(duration: float | None, expected: str) -> None:
    assert audio.sample_filter(duration) == expected


def test_a_build_decodes_each_recording_twice_and_check_and_a_rebuild_not_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Checking, measuring and encoding each decoded the recording once: checking now shares the
    # measuring pass (issue 12), so a new recording is decoded to measure it and to encode it.
    workspace = copy_example(tmp_path / "workspace")
    recordings = [
        workspace / "episodes" / "child-a" / "recording.opus",
        workspace / "episodes" / "child-b" / "recording.flac",
    ]
    caplog.set_level(logging.DEBUG, logger="briefings.runner")

    def decodes() -> list[int]:
        """How many ffmpeg runs read each recording past its header, since the last call."""
        counts = [sum(f"-i {path} " in record.getMessage() for record in caplog.records) for path in recordings]
        caplog.clear()
        return counts

    assert run(workspace, "build").exit_code == 0
    assert decodes() == [2, 2]
    assert run(workspace, "check").exit_code == 0
    assert run(workspace, "build").exit_code == 0
    assert decodes() == [0, 0]


def test_a_summary_is_read_past_the_empty_line_a_meter_may_log_after_it() -> None:
    # As ffmpeg 7 printed it from the rehearsal: b5's meter logged an empty line of its own after its
    # summary, before b4's summary began.
    report = (
        "[ebur128@b5 @ 0x7f68400151c0] Summary:\n\n  Integrated loudness:\n    I:         -13.3 LUFS\n"
        "    Threshold: -23.4 LUFS\n\n[ebur128@b5 @ 0x7f68400151c0] \n"
        "[ebur128@b4 @ 0x7f6840013d40] Summary:\n\n  Integrated loudness:\n    I:         -13.6 LUFS\n"
        "  True peak:\n    Peak:        -1.2 dBFS\n"
    )
    assert ffmpeg_report.loudness(report, "b5") == (-13.3, pytest.approx(float("nan"), nan_ok=True))
    assert ffmpeg_report.loudness(report, "b4") == (-13.6, -1.2)
    assert ffmpeg_report.loudness(report, "raw") is None
