"""`briefings audio`: one recording in, a verified MP3 out, loudness before and after printed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4

from briefings.runner import find_ffmpeg
from briefings.terminal import Display, bar_line
from tests.conftest import REPO, copy_example, ebur128, run, run_json


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """child-b's recording with a second of silence before it, as a 48 kHz stereo WAV."""
    path = tmp_path_factory.mktemp("recording") / "48k-2ch-44s-briefing.wav"
    subprocess.run(
        [
            find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=1",
            "-i", REPO / "episodes" / "child-b" / "recording.flac",
            "-filter_complex", "[1:a]aresample=48000,aformat=channel_layouts=stereo[b];[0:a][b]concat=n=2:v=0:a=1",
            path,
        ],
        check=True,
    )  # fmt: skip
    return path


def test_audio_prints_input_and_output_loudness(recording: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(recording.read_bytes()).hexdigest()
    output = tmp_path / "briefing.mp3"
    result = run(tmp_path, "audio", str(recording), "-o", str(output))
    assert result.exit_code == 0, result.output
    meter = ebur128(output)
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    source = ebur128(recording)
    assert lines[0].startswith(f"Input:  {recording}: {source.integrated:.1f} LUFS, sample peak ")
    assert re.fullmatch(r"Input:  .*: -?\d+\.\d LUFS, sample peak -\d+\.\d dBFS, 44\.0 s", lines[0]), lines[0]
    length = MP3(output).info.length
    assert lines[1].startswith(
        f"Output: {output}: {meter.integrated:.1f} LUFS, true peak {meter.true_peak:.1f} dBTP, {length:.1f} s (gain +"
    )
    assert "trimmed 0.8 s of silence at the start and 0.9 s of silence at the end)" in lines[1]
    assert hashlib.sha256(recording.read_bytes()).hexdigest() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["briefing.mp3"]


def test_audio_options_override_the_show(recording: Path, tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace("bitrate = 96", "bitrate = 128"))
    output = tmp_path / "stereo.mp3"
    result, summary = run_json(
        workspace, "audio", str(recording), "-o", str(output), "--target-lufs", "-19", "--channels", "2", "--no-trim"
    )
    assert result.exit_code == 0, result.output
    info = MP3(output).info
    assert (info.channels, info.bitrate) == (2, 128000)
    meter = ebur128(output)
    assert summary["output"]["integrated_lufs"] == pytest.approx(meter.integrated, abs=0.1)
    assert summary["output"]["true_peak_dbtp"] == pytest.approx(meter.true_peak, abs=0.1)
    assert abs(meter.integrated - -19.0) <= 0.5 and meter.true_peak <= -1.0
    assert summary["trimmed_start"] == summary["trimmed_end"] == 0.0
    assert summary["output"]["duration"] == pytest.approx(summary["input"]["duration"], abs=0.06)


def test_audio_refuses_bad_use_without_writing(recording: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.wav"
    shutil.copy(recording, copy)
    same = run(tmp_path, "audio", str(copy), "-o", str(copy))
    assert same.exit_code == 2
    assert same.stderr == f"Error: -o {copy}: is the input (fix: write to a new file)\n"
    loud = run(tmp_path, "audio", str(copy), "-o", str(tmp_path / "out.mp3"), "--target-lufs", "-5")
    assert loud.exit_code == 2
    assert loud.stderr == (
        "Error: --target-lufs: input should be less than or equal to -10 (fix: see `briefings audio --help`)\n"
    )
    missing = run(tmp_path, "audio", str(tmp_path / "nothing.wav"), "-o", str(tmp_path / "out.mp3"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio\n" * 50)
    refused = run(tmp_path, "audio", str(notes), "-o", str(tmp_path / "out.mp3"))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"Error: {notes}: not a readable audio recording (")
    assert "Traceback" not in refused.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy.wav", "notes.wav"]


def test_live_bar_redraws_one_line() -> None:
    stream = io.StringIO()
    display = Display(stream, live=True)
    display.start(["child-a", "child-b"])
    display.update("child-a", 0.5)
    display.finish("child-b", "encoded: child-b")
    display.close()
    text = stream.getvalue()
    assert "\n" not in text.replace("encoded: child-b\n", "")
    # The 50% of child-a is drawn with the next forced redraw (redraws are at most five a second).
    assert "\r\x1b[K[##################------]  75%  1/2 done  child-a 50%" in text
    assert text.endswith("\r\x1b[K")
    assert bar_line({"a": 1.0, "b": 1.0}, 2, 2) == "[########################] 100%  2/2 done"


def test_plain_progress_is_a_line_per_event() -> None:
    stream = io.StringIO()
    display = Display(stream, live=False)
    display.start(["child-a"])
    display.update("child-a", 0.1)
    display.update("child-a", 0.6)
    display.finish("child-a", "encoded: child-a")
    display.close()
    assert stream.getvalue() == "encoding: child-a\nencoded: child-a\n"


def test_audio_json_is_parseable_alone(recording: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "-q", "audio", str(recording), "-o", str(tmp_path / "out.mp3"), "--json")
    assert result.exit_code == 0
    # The example recording needs no audible limiting, so -q leaves stderr empty and stdout pure JSON.
    summary = json.loads(result.stdout)
    assert result.stderr == "" and summary["warnings"] == []
    assert summary["encodes"] >= 1
    assert summary["input"]["sample_peak_dbfs"] < 0


def _stopped_midway(argv: list[str], folder: Path, started: str) -> subprocess.Popen[bytes]:
    """Run `argv` in a session of its own, send it SIGTERM once a file matching `started` appears in
    `folder` (its encode is under way), and return it once it has exited."""
    process = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(folder.glob(started)):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the encode never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return process


def _session_ended(process: subprocess.Popen[bytes]) -> bool:
    """Whether nothing is left of the process's session (its ffmpeg children included)."""
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def ten_minutes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ten-minute recording: long enough to stop during its encode."""
    path = tmp_path_factory.mktemp("long") / "ten-minutes.wav"
    subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=220:d=600", "-f", "lavfi",
         "-i", "anoisesrc=a=0.05:d=600", "-filter_complex", "amix=inputs=2", path],
        check=True,
    )  # fmt: skip
    return path


def test_audio_stopped_by_sigterm_leaves_no_partial_file(ten_minutes: Path, tmp_path: Path) -> None:
    source = tmp_path / "ten-minutes.wav"
    shutil.copy(ten_minutes, source)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    argv = [sys.executable, "-m", "briefings", "-q", "audio", str(source), "-o", str(tmp_path / "out.mp3")]
    process = _stopped_midway(argv, tmp_path, ".out.mp3.partial")
    assert process.returncode == 128 + signal.SIGTERM
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ten-minutes.wav"]
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert _session_ended(process)


def test_build_stopped_by_sigterm_leaves_no_partial_file(ten_minutes: Path, tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    for briefing in ("child-a", "child-b"):
        shutil.copy(ten_minutes, workspace / "episodes" / briefing / "ten-minutes.wav")
        yaml = workspace / "episodes" / briefing / "briefing.yaml"
        yaml.write_text(re.sub(r"(?m)^recording: .*$", "recording: ten-minutes.wav", yaml.read_text()))
    argv = [sys.executable, "-m", "briefings", "-q", "-C", str(workspace), "build", "--jobs", "2"]
    process = _stopped_midway(argv, workspace / ".briefings", "**/*.partial*")
    assert process.returncode == 128 + signal.SIGTERM
    assert list((workspace / ".briefings").glob("**/*.partial*")) == []
    assert list((workspace / ".briefings").glob("**/*.mp3")) == []
    assert _session_ended(process)


def test_audio_writes_aac_when_the_output_is_named_m4a(recording: Path, tmp_path: Path) -> None:
    output = tmp_path / "briefing.m4a"
    result = run(tmp_path, "audio", str(recording), "-o", str(output))
    assert result.exit_code == 0, result.output
    meter = ebur128(output)
    assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0
    assert MP4(output).info.codec == "mp4a.40.2"
    assert f"Output: {output}: {meter.integrated:.1f} LUFS, true peak {meter.true_peak:.1f} dBTP" in result.stdout


def test_audio_refuses_an_output_it_cannot_write(recording: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "audio", str(recording), "-o", str(tmp_path / "briefing.ogg"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: -o {tmp_path / 'briefing.ogg'}: not an .mp3 or .m4a file name (fix: name it .mp3 for MP3, .m4a for AAC)"
    )
    assert list(tmp_path.iterdir()) == []


def test_audio_keeps_an_existing_output_unless_forced(recording: Path, tmp_path: Path) -> None:
    output = tmp_path / "briefing.mp3"
    output.write_bytes(b"an earlier edit\n")
    refused = run(tmp_path, "audio", str(recording), "-o", str(output))
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: -o {output}: already exists (fix: add -f to replace it, or choose another name)\n"
    )
    assert output.read_bytes() == b"an earlier edit\n"
    forced = run(tmp_path, "audio", str(recording), "-o", str(output), "-f")
    assert forced.exit_code == 0, forced.output
    assert abs(ebur128(output).integrated - -16.0) <= 0.5
    assert sorted(path.name for path in tmp_path.iterdir()) == ["briefing.mp3"]


def test_audio_writes_several_inputs_into_a_folder(recording: Path, tmp_path: Path) -> None:
    second = tmp_path / "child-a.opus"
    shutil.copy(REPO / "episodes" / "child-a" / "recording.opus", second)
    folder = tmp_path / "out"
    result, summaries = run_json(tmp_path, "-q", "audio", str(recording), str(second), "-o", f"{folder}/")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["48k-2ch-44s-briefing.mp3", "child-a.mp3"]
    assert [summary["output"]["file"] for summary in summaries] == [
        str(folder / "48k-2ch-44s-briefing.mp3"),
        str(folder / "child-a.mp3"),
    ]
    for summary in summaries:
        meter = ebur128(Path(summary["output"]["file"]))
        assert abs(meter.integrated - -16.0) <= 0.5 and meter.true_peak <= -1.0
    # Again: every existing output is named before anything is encoded, and nothing is changed.
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    again = run(tmp_path, "audio", str(recording), str(second), "-o", str(folder))
    assert again.exit_code == 1
    assert again.stderr.splitlines() == [
        f"Error: -o {folder / name}: already exists (fix: add -f to replace it, or choose another name)"
        for name in ("48k-2ch-44s-briefing.mp3", "child-a.mp3")
    ]
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before


def test_audio_refuses_several_inputs_into_one_file_or_one_name(recording: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / recording.name
    other.parent.mkdir()
    shutil.copy(recording, other)
    one_file = run(tmp_path, "audio", str(recording), str(other), "-o", str(other))
    assert one_file.exit_code == 2
    assert one_file.stderr == (f"Error: -o {other}: not a folder (fix: with several inputs, give a folder: -o DIR/)\n")
    same_name = run(tmp_path, "audio", str(recording), str(other), "-o", str(tmp_path / "out"))
    assert same_name.exit_code == 2
    assert same_name.stderr == (
        f"Error: -o {tmp_path / 'out' / '48k-2ch-44s-briefing.mp3'}: two inputs have this name "
        "(fix: rename one, or normalise them separately)\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other"]


def test_audio_one_bad_input_does_not_stop_the_others(recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio\n" * 50)
    folder = tmp_path / "out"
    result = run(tmp_path, "-q", "audio", str(notes), str(recording), "-o", f"{folder}/")
    assert result.exit_code == 1
    (error,) = result.stderr.splitlines()
    assert error.startswith(f"Error: {notes}: not a readable audio recording (")
    assert result.stdout.splitlines()[0].startswith(f"Input:  {recording}: ")
    assert sorted(path.name for path in folder.iterdir()) == ["48k-2ch-44s-briefing.mp3"]
