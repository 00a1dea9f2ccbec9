"""Errors carry their problems as data: the CLI prints them, and a program using the library reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from briefings.check import check_show
from briefings.errors import BriefingsError, Problem, Severity, ShowError, shown
from briefings.recording import RecordingError, analyse
from briefings.runner import Runner
from briefings.transcript import TranscriptError, html_transcript
from tests.conftest import copy_example, run, run_json


def test_an_error_carries_its_problems_and_prints_them_one_per_line() -> None:
    first = Problem("show.toml", "`x` is not a language code", "use an ISO 639 code, e.g. en-GB", "language", 4)
    second = Problem("artwork.jpg", "artwork not found", "add it", severity=Severity.WARNING)
    error = BriefingsError(first, second)
    assert error.problems == (first, second)
    assert str(error) == (
        "show.toml:4: language: `x` is not a language code (fix: use an ISO 639 code, e.g. en-GB)\n"
        "warning: artwork.jpg: artwork not found (fix: add it)"
    )
    plain = BriefingsError("--to: not a folder (fix: give one)")
    assert plain.problems == () and str(plain) == "--to: not a folder (fix: give one)"


def test_a_problem_as_json_data_and_back() -> None:
    problem = Problem("a.vtt", "a cue ends before it starts", "correct the cue's times", "", 7, Severity.WARNING)
    data = problem.to_dict()
    assert list(data) == ["file", "line", "field", "message", "fix", "severity"]
    assert data["severity"] == "warning"
    assert Problem.from_dict(json.loads(json.dumps(data))) == problem


def test_the_library_shows_paths_as_given_without_reading_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "a\x1bb.wav") == f"{tmp_path}/a\\x1bb.wav"
    assert shown(Path("episodes") / "child-a") == "episodes/child-a"


def test_the_cli_shows_a_workspace_inside_the_current_directory_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ws").mkdir()
    result = run(tmp_path / "ws", "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: ws/show.toml: no show.toml here (fix: run `briefings init ws` or point at a workspace with -C DIR)\n"
    )


def test_show_problems_are_data_in_the_error(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    (workspace / "artwork.jpg").unlink()
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace('# intro = "stings/intro.wav"', 'intro = "stings/intro.wav"'))
    with pytest.raises(ShowError) as raised:
        check_show(workspace, Runner())
    assert raised.value.problems == (
        Problem(f"{workspace}/artwork.jpg", "artwork not found", "add it, or set `artwork` in show.toml"),
        Problem(
            f"{workspace}/show.toml",
            "stings/intro.wav is not a file",
            f"put the sting at {workspace}/stings/intro.wav or remove `intro`",
            field="audio.intro",
        ),
    )
    assert str(raised.value).splitlines() == [str(problem) for problem in raised.value.problems]


def test_recording_and_transcript_errors_are_briefings_errors_with_their_problem(tmp_path: Path) -> None:
    document = tmp_path / "recording.wav"
    document.write_bytes(b"%PDF-1.7\n" + b"report text " * 300)
    with pytest.raises(RecordingError) as recording:
        analyse(Runner(), document)
    assert isinstance(recording.value, BriefingsError)
    (problem,) = recording.value.problems
    assert (problem.file, problem.message) == (
        str(document),
        "is not a readable audio recording (Invalid data found when processing input)",
    )
    transcript = tmp_path / "transcript.vtt"
    transcript.write_text("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards\n")
    with pytest.raises(TranscriptError) as unreadable:
        html_transcript(transcript, "Child A", "en-GB")
    assert isinstance(unreadable.value, BriefingsError)
    assert unreadable.value.problems == (
        Problem(str(transcript), "a cue ends before it starts", "correct the cue's times", line=3),
    )


def test_a_fix_is_not_cut_out_of_a_message_that_holds_fix_text(tmp_path: Path) -> None:
    # The theme is the author's text: it may hold anything, `(fix: ` included.
    workspace = copy_example(tmp_path / "workspace")
    briefing = workspace / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("  - neglect\n", "  - 'neglect (fix: none)'\n"))
    result, report = run_json(workspace, "check", "child-a")
    assert result.exit_code == 1
    (problem,) = [problem for problem in report[0]["problems"] if problem["field"] == "themes[1]"]
    assert problem["message"] == "`neglect (fix: none)` is not one of the show's themes"
    assert problem["fix"].startswith("use one of: neglect, domestic abuse,")
