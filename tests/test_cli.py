"""The command line as a user meets it: help, a new workspace, and clear errors for bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from briefings.cli import main
from tests.conftest import copy_example, run, run_json


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=80)
    assert result.exit_code == 0
    assert "Example:" in result.output
    # Each example is a whole command line, shown unwrapped so it can be copied.
    docstring = main.commands[command].help or ""
    examples = [line.strip() for line in docstring.split("Example:")[1].splitlines() if line.strip()]
    assert examples and all(example.startswith(f"briefings {command}") for example in examples), examples
    shown = [line.strip() for line in result.output.splitlines()]
    assert all(example in shown for example in examples), examples


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("briefings, version ")


def test_init_makes_a_workspace_that_publishes_an_empty_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "new"), "--title", "Westmarsh Briefings"])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "new" / "artwork.jpg") as image:
        assert (image.size, image.mode, image.format) == ((1400, 1400), "RGB", "JPEG")
    assert (tmp_path / "new" / "episodes").is_dir()
    assert 'title = "Westmarsh Briefings"' in (tmp_path / "new" / "show.toml").read_text()
    published = run(tmp_path / "new", "publish")
    assert published.exit_code == 0, published.output
    assert "<title>Westmarsh Briefings</title>" in (tmp_path / "new" / "feed" / "feed.xml").read_text()
    again = CliRunner().invoke(main, ["init", str(tmp_path / "new")])
    assert again.exit_code == 1
    assert (
        again.stderr
        == f"Error: {tmp_path / 'new' / 'show.toml'}: already exists (fix: choose a new folder, or edit it)\n"
    )


def test_missing_show_toml_is_one_clear_line(tmp_path: Path) -> None:
    result = run(tmp_path, "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'show.toml'}: no show.toml here "
        f"(fix: run `briefings init {tmp_path}` or point at a workspace with -C DIR)\n"
    )
    assert not (tmp_path / "feed").exists()


def test_invalid_show_toml_names_the_field(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    show = workspace / "show.toml"
    show.write_text(
        show.read_text().replace('category = "Government"', 'category = "Goverment"').replace("title =", "titel =")
    )
    result = run(workspace, "publish")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"Error: {show}: titel: unknown field `titel` (fix: did you mean `title`?)" in lines
    assert f"Error: {show}: title: is missing (fix: add `title:`)" not in lines  # the typo line says it all
    assert any(line.startswith(f"Error: {show}: category: must be 'Arts', 'Business', ") for line in lines)
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    assert run(workspace, "publish", "--jobs", "0").exit_code == 2
    remote = run(workspace, "publish", "--to", "ftp://example.org/briefings")
    assert remote.exit_code == 2
    assert remote.stderr == (
        "Error: --to ftp://example.org/briefings: not a folder or an s3:// address "
        "(fix: give a folder, e.g. --to feed, or s3://BUCKET/PREFIX)\n"
    )
    acl = run(workspace, "publish", "--to", "out", "--acl", "public-read")
    assert acl.exit_code == 2
    assert acl.stderr == "Error: --acl: only for s3:// destinations (fix: leave it out when publishing to a folder)\n"
    assert not (workspace / "feed").exists()


def test_bad_submissions_are_refused_and_the_rest_published(workspace: Path) -> None:
    episodes = workspace / "episodes"
    (episodes / "child-c").mkdir()
    shutil.copy(
        episodes / "child-a" / "briefing.yaml", episodes / "child-c" / "briefing.yaml"
    )  # names recording.opus: absent
    (episodes / "child-d").mkdir()
    shutil.copy(episodes / "child-a" / "briefing.yaml", episodes / "child-d" / "briefing.yaml")
    (episodes / "child-d" / "recording.opus").write_bytes(b"%PDF-1.4 this is a report, not a recording\n" * 50)
    (episodes / "child-d" / "transcript.vtt").write_text("WEBVTT\n")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert (
        "episodes/child-c/briefing.yaml: recording: `recording.opus` does not exist (fix: copy the file into episodes/child-c/ or correct the name)"
        in [line.split(str(workspace) + "/")[-1] for line in errors]
    )
    unreadable = next(line for line in errors if "child-d/recording.opus" in line)
    assert unreadable.endswith(
        "not a readable audio recording (Invalid data found when processing input) (fix: export it again as WAV, FLAC, MP3 or M4A)"
    )
    assert sorted(summary["episodes"]) == ["child-a", "child-b"]
    for path in (workspace / "feed").rglob("*"):
        assert "child-c" not in str(path) and "child-d" not in str(path)
    assert (episodes / "child-d" / "recording.opus").read_bytes().startswith(b"%PDF")


def test_briefing_errors_give_the_line_and_fix(workspace: Path) -> None:
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    text = briefing.read_text()
    text = text.replace("published: 2026-06-04T09:30:00+01:00", "published: 2026-06-04T09:30:00")
    text = text.replace("  - voice of the child\n", "  - voice of the childe\n").replace("summary:", "sumary:")
    briefing.write_text(text)
    lines = run(workspace, "publish").stderr.splitlines()
    shown = [line.split(str(workspace) + "/")[-1] for line in lines]
    assert "episodes/child-b/briefing.yaml:3: sumary: unknown field `sumary` (fix: did you mean `summary`?)" in shown
    assert "episodes/child-b/briefing.yaml:2: summary: is missing (fix: add `summary:`)" not in shown
    assert (
        "episodes/child-b/briefing.yaml:13: review.published: has no timezone (fix: add one, e.g. 2026-03-12T10:00:00+00:00 for 10am UK winter time)"
        in shown
    )
    assert any(
        line.startswith(
            "episodes/child-b/briefing.yaml:23: themes[2]: `voice of the childe` is not one of the show's themes"
        )
        for line in shown
    )


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u202e"]


def test_author_text_reaches_the_terminal_escaped(workspace: Path, tmp_path: Path) -> None:
    episodes = workspace / "episodes"
    for name in ("\x1b]0;owned\x07", "x\nError: forged", "child-\u202eb"):
        shutil.copytree(episodes / "child-a", episodes / name)
    checked = run(workspace, "check")
    assert checked.exit_code == 1
    assert _raw_controls(checked.output) == []
    lines = [line.split(str(workspace) + "/")[-1] for line in checked.stdout.splitlines()]
    assert (
        "episodes/\\x1b]0;owned\\x07: folder name must be lowercase letters, digits and hyphens (fix: rename the folder to `0-owned`)"
        in lines
    )
    assert (
        "episodes/x\\nError: forged: folder name must be lowercase letters, digits and hyphens (fix: rename the folder to `x-error-forged`)"
        in lines
    )
    assert not any(line.startswith("Error: forged") for line in lines)
    for command in (["status"], ["publish", "--dry-run"], ["-v", "build"]):
        result = run(workspace, *command)
        assert _raw_controls(result.output) == [], command
    assert "\\x1b]0;owned\\x07  invalid" in run(workspace, "status").stdout
    # An error naming a path: one line, escaped.
    folder = tmp_path / "a\nError: b\x1b[2J"
    folder.mkdir()
    missing = run(folder, "publish")
    assert missing.exit_code == 1
    assert missing.stderr == (
        f"Error: {tmp_path}/a\\nError: b\\x1b[2J/show.toml: no show.toml here "
        f"(fix: run `briefings init {tmp_path}/a\\nError: b\\x1b[2J` or point at a workspace with -C DIR)\n"
    )


def test_global_options_work_after_the_command_too(workspace: Path) -> None:
    before = CliRunner().invoke(main, ["-C", str(workspace), "-v", "build"])
    after = CliRunner().invoke(main, ["build", "-C", str(workspace), "-v"])
    assert after.exit_code == before.exit_code == 0, after.output
    assert sorted(after.output.splitlines()) == sorted(before.output.splitlines())
    assert "processing 2 recording(s)" in after.stderr
    # The workspace is published already: a quiet publish that changes nothing prints nothing at all.
    loud = CliRunner().invoke(main, ["publish", "-C", str(workspace)])
    assert loud.stdout.startswith("Published 2 briefing(s)")
    quiet = CliRunner().invoke(main, ["publish", "-q", "-C", str(workspace)])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == quiet.stderr == ""
    # After the command wins over before it.
    elsewhere = CliRunner().invoke(main, ["-C", str(workspace / "episodes"), "check", "-C", str(workspace)])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert "Checked 2 briefing(s)" in elsewhere.stdout
    for command in sorted(main.commands):
        text = CliRunner().invoke(main, [command, "--help"]).output
        assert "-C DIRECTORY" in text and "-q, --quiet" in text and "-v, --verbose" in text
    assert (
        "The global options -C, -v and -q go before or after the command" in CliRunner().invoke(main, ["--help"]).output
    )


@pytest.mark.parametrize(
    ("typed", "suggested"), [("Child H", "child-h"), ("child_d 2", "child-d-2"), (" Baby E. (2026) ", "baby-e-2026")]
)
def test_new_suggests_the_slug_made_from_what_was_typed(workspace: Path, typed: str, suggested: str) -> None:
    recording = workspace / "episodes" / "child-b" / "recording.flac"
    result = run(workspace, "new", typed, "--recording", str(recording))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {typed}: a briefing's name must be lowercase letters, digits and hyphens (fix: use {suggested})\n"
    )
    assert sorted(path.name for path in (workspace / "episodes").iterdir()) == ["child-a", "child-b"]


def test_verbose_command_lines_are_escaped_too(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "x\x1b]0;owned\x07")
    process = subprocess.run(
        [sys.executable, "-m", "briefings", "-C", str(workspace), "-v", "check", "child-a"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "running " in process.stderr and "/x\\x1b]0;owned\\x07/episodes/child-a/recording.opus" in process.stderr
    assert _raw_controls(process.stdout + process.stderr) == []
