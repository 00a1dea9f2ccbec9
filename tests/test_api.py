"""The Python API, used as a library: no command line, no CliRunner."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

import briefings
from briefings import BriefingsError, Reporter, Workspace
from briefings.status import State

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README: no Python example under ## Python API"
    return match.group(1)


def test_the_readme_example_publishes(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "westmarsh-briefings"
    workspace.rename(folder)
    shutil.rmtree(folder / "feed")  # published before: the example publishes it again from scratch
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    written = sorted(
        path.relative_to(folder / "feed").as_posix() for path in (folder / "feed").rglob("*") if path.is_file()
    )
    assert "feed.xml" in written and any(key.startswith("media/") for key in written)
    assert lines[0].startswith("2 ready; wrote ") and lines[0].endswith("feed.xml")
    assert "'slug': 'child-a', 'state': 'published'" in lines[1]


class Recorder(Reporter):
    """Keeps what the library reports."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def step(self, message: str) -> None:
        self.events.append(("step", message))

    def problem(self, line: str) -> None:
        self.events.append(("problem", line))

    def start(self, names: Sequence[str]) -> None:
        self.events.append(("start", ",".join(names)))

    def finish(self, name: str, message: str) -> None:
        self.events.append(("finish", message))


def test_one_reporter_hears_progress_and_problems(workspace: Path) -> None:
    (workspace / "episodes" / "child-b" / "briefing.yaml").write_text("title: [unclosed\n")
    recorder = Recorder()
    done = Workspace(workspace, reporter=recorder).publish()
    assert done.refused
    assert ("step", "processing 1 recording(s)") in recorder.events
    assert ("start", "child-a") in recorder.events and ("finish", "unchanged: child-a") in recorder.events
    problems = [line for kind, line in recorder.events if kind == "problem"]
    assert any(
        line.startswith("episodes/child-b/briefing.yaml") or "child-b/briefing.yaml" in line for line in problems
    )


def test_a_rehearsal_time_lifts_an_embargo_without_writing(workspace: Path) -> None:
    future = workspace / "episodes" / "child-z"
    shutil.copytree(workspace / "episodes" / "child-a", future)
    text = (future / "briefing.yaml").read_text()
    (future / "briefing.yaml").write_text(
        re.sub(r"published: .*", "published: 2099-01-01T09:00:00+00:00", text, count=1)
    )
    before = sorted((workspace / "feed").rglob("*"))
    now = Workspace(workspace).status()
    assert {item.slug: item.state for item in now.briefings}["child-z"] is State.EMBARGOED
    later = Workspace(workspace, now=datetime.fromisoformat("2099-01-01T09:00:00+00:00"))
    plan = later.publish(dry_run=True)
    assert "child-z" in plan.summary["episodes"] and plan.summary["dry_run"]
    assert sorted((workspace / "feed").rglob("*")) == before
    assert not later.staging.exists()


def test_withdraw_and_undo_through_the_api(workspace: Path) -> None:
    show = Workspace(workspace)
    gone = show.withdraw("child-a")
    assert gone.summary["withdrawn_now"] == ["child-a"]
    assert {item.slug: item.state for item in show.status().briefings}["child-a"] is State.WITHDRAWN
    with pytest.raises(BriefingsError, match="already withdrawn"):
        show.withdraw("child-a")
    back = show.withdraw("child-a", undo=True)
    assert "child-a" in back.summary["episodes"]


def test_the_package_exports_the_api() -> None:
    for name in briefings.__all__:
        assert getattr(briefings, name) is not None
    assert callable(briefings.new_briefing) and callable(briefings.draft_transcript)
