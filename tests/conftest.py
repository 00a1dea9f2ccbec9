"""Shared fixtures: a copy of the example workspace, published once, and an independent loudness meter."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from briefings import workspace as workspace_module
from briefings.cli import main
from briefings.runner import find_ffmpeg

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive Chromium `browser` and those that run moto's S3 server `s3`, by their fixtures."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "moto" in fixtures:
            item.add_marker(pytest.mark.s3)


def copy_example(destination: Path) -> Path:
    """Copy the repository's example workspace (show.toml, artwork, episodes) to `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "show.toml", destination / "show.toml")
    shutil.copy(REPO / "artwork.jpg", destination / "artwork.jpg")
    shutil.copytree(REPO / "episodes", destination / "episodes")
    return destination


def run(workspace: Path, *arguments: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in `workspace` the way a user would, and return what it printed and its exit code."""
    return CliRunner().invoke(main, ["-C", str(workspace), *arguments], env=env, catch_exceptions=False)


def run_json(workspace: Path, *arguments: str, env: dict[str, str] | None = None) -> tuple[Result, dict]:
    """Run a command with --json and parse its summary."""
    result = run(workspace, *arguments, "--json", env=env)
    return result, json.loads(result.stdout)


@dataclass(frozen=True)
class Meter:
    """Loudness as ffmpeg's ebur128 filter reports it, read here without any briefings code."""

    integrated: float
    true_peak: float


def ebur128(path: Path) -> Meter:
    """Measure a file with `ffmpeg -af ebur128=peak=true`."""
    process = subprocess.run(
        [find_ffmpeg(), "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = process.stderr[process.stderr.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return Meter(integrated, peak)


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example workspace, published once to its feed/ folder (encoding is the slow part)."""
    workspace = copy_example(tmp_path_factory.mktemp("published") / "workspace")
    result = run(workspace, "publish")
    assert result.exit_code == 0, result.output
    return workspace


@pytest.fixture
def workspace(tmp_path: Path, published: Path) -> Path:
    """A private copy of the published workspace, audio cache included, for tests that change it."""
    copy = tmp_path / "workspace"
    shutil.copytree(published, copy, symlinks=True)
    return copy


@contextlib.contextmanager
def serving(workspace: Path, folder: Path | None = None, *options: str, stderr: IO[str] | None = None) -> Iterator[str]:
    """`briefings serve --port 0` on a workspace's publish folder (or `folder`), as a user runs it, with
    further `options` and its stderr to `stderr`; yields its base URL."""
    extra = ["--dir", str(folder)] if folder else []
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings", "-C", str(workspace), "serve", "--port", "0", *extra, *options],
        stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Serving "), first
        base = first.rsplit(" at ", 1)[1].strip()
        assert process.stdout.readline().strip() == f"Subscribe in a podcast app to: {base}feed.xml"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the real clock a publish reads to an ISO 8601 time (BRIEFINGS_NOW only rehearses): a test cannot
    wait for an embargo to lift, so this one thing is replaced."""

    def to(moment: str) -> None:
        monkeypatch.setattr(workspace_module, "system_clock", lambda: datetime.fromisoformat(moment))

    return to


# --- A real browser: Debian's Chromium, headless, driven by Playwright -----------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Problems(list[str]):
    """Console errors and warnings, uncaught exceptions and failed requests seen by a page."""


@pytest.fixture
def problems() -> Problems:
    """What went wrong in the pages a test opened (checked by the `page` fixture)."""
    return Problems()


@pytest.fixture
def page(browser: Browser, problems: Problems) -> Iterator[Page]:
    """A fresh desktop-sized tab; the test fails if any page logs an error or warning (CSP reports included)."""
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text} ({message.location.get('url')})")

    opened.on("console", console)
    opened.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    opened.on(
        "response", lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}")
    )
    yield opened
    context.close()
    assert list(problems) == []


# --- The archive's search bundle (Pagefind), read back -------------------------------------------------


def search_records(files: dict[str, bytes]) -> list[dict[str, Any]]:
    """What archive.js shows of each briefing in the search bundle (its record/<id>.json), newest first."""
    records = [json.loads(data) for key, data in files.items() if key.startswith("pagefind/record/")]
    return sorted(records, key=lambda record: record["published"], reverse=True)


def bundle_text(files: dict[str, bytes], part: str = "") -> str:
    """Every file of the search bundle (or of its `part`, e.g. index/, the word index), decompressed where
    Pagefind compressed it, as one lower-case text."""
    texts = []
    for key, data in files.items():
        if key.startswith(f"pagefind/{part}"):
            texts.append((gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data).decode("utf-8", "replace"))
    return "\n".join(texts).lower()


def published_files(folder: Path) -> dict[str, bytes]:
    """The files under a publish folder, by key."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}
