"""Feed settings in show.toml: the main feed's length, and limits that keep every feed valid."""

from __future__ import annotations

from pathlib import Path

import feedparser

from tests.conftest import run, run_json


def edit_show(workspace: Path, old: str, new: str) -> Path:
    show = workspace / "show.toml"
    text = show.read_text()
    assert old in text
    show.write_text(text.replace(old, new))
    return show


def titles(path: Path) -> list[str]:
    return [entry.title[:7] for entry in feedparser.parse(path.read_bytes()).entries]


def test_main_feed_keeps_the_newest_n_and_theme_feeds_keep_all(workspace: Path) -> None:
    edit_show(workspace, "main_feed_items = 300", "main_feed_items = 1")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    output = workspace / "feed"
    assert titles(output / "feed.xml") == ["Child B"]
    assert titles(output / "feeds" / "information-sharing.xml") == ["Child B", "Child A"]
    assert titles(output / "feeds" / "review-type" / "local-child-safeguarding-practice-review.xml") == ["Child A"]
    # The archive keeps everything too.
    assert "Child A: the baby nobody saw" in (output / "index.html").read_text()
    assert summary["feed_problems"] == []


def test_main_feed_items_must_be_at_least_one(workspace: Path) -> None:
    show = edit_show(workspace, "main_feed_items = 300", "main_feed_items = 0")
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {show}: feeds.main_feed_items: must be greater than or equal to 1 "
        "(fix: see the template for the expected form)\n"
    )


def test_description_is_limited_in_bytes_as_apple_counts(workspace: Path) -> None:
    # 2500 characters, 5000 bytes: within 4000 characters, over Apple's 4000 bytes.
    show = edit_show(
        workspace, 'description = "Short briefings', 'description = "' + "\u00e9" * 2500 + "Short briefings"
    )
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {show}: description: is 5130 bytes in UTF-8; Apple Podcasts allows at most 4000 (fix: shorten it)\n"
    )


def test_themes_that_would_share_a_feed_are_refused(workspace: Path) -> None:
    show = edit_show(workspace, '  "neglect",\n', '  "neglect",\n  "Neglect!",\n')
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {show}: themes: `neglect` and `Neglect!` would share the feed feeds/neglect.xml "
        "(fix: merge them or rename one)\n"
    )


def test_show_text_with_control_characters_is_refused(workspace: Path) -> None:
    show = edit_show(workspace, 'author = "Safeguarding', 'author = "\\u0007Safeguarding')
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {show}: author: contains an invisible control character (fix: delete it and retype the text)\n"
    )
