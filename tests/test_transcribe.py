"""`briefings transcribe`: a draft WebVTT transcript, made offline, from any recording."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from briefings.runner import find_ffmpeg
from briefings.transcript import read_cues
from tests.conftest import REPO, copy_example, run


def test_a_recording_that_ends_mid_speech_is_transcribed(tmp_path: Path) -> None:
    # Cut mid-word, and a whole number of the recogniser's 30 ms frames long: its last read is empty.
    seconds = 12.3
    workspace = copy_example(tmp_path / "workspace")
    folder = workspace / "episodes" / "child-b"
    subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-i", REPO / "episodes" / "child-b" / "recording.flac",
         "-ac", "1", "-ar", "16000", "-t", str(seconds), folder / "recording.wav"],
        check=True,
    )  # fmt: skip
    briefing = folder / "briefing.yaml"
    briefing.write_text(re.sub(r"(?m)^recording: .*$", "recording: recording.wav", briefing.read_text()))
    result = run(workspace, "-q", "transcribe", "child-b", "--force")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    captions = read_cues((folder / "transcript.vtt").read_text(), "text/vtt")
    assert len(captions) >= 2
    # The last cue is the speech that was still going on when the recording stopped.
    assert 11.5 < (captions[-1].end or 0) <= seconds
    assert captions[-1].text.strip()
