"""Feed settings in show.toml: the main feed's length, and limits that keep every feed valid."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from tests.conftest import REPO, copy_example, run, run_json


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


def test_theme_and_review_type_feeds_keep_their_newest_n(workspace: Path) -> None:
    edit_show(workspace, "main_feed_items = 300", "main_feed_items = 300\ntheme_feed_items = 1")
    result = run(workspace, "publish")
    assert result.exit_code == 0, result.output
    output = workspace / "feed"
    assert titles(output / "feed.xml") == ["Child B", "Child A"]
    assert titles(output / "feeds" / "information-sharing.xml") == ["Child B"]
    catalogue = json.loads((output / "catalogue.json").read_text())
    assert [entry["slug"] for entry in catalogue["briefings"]] == ["child-b", "child-a"]  # still every briefing
    [child_a] = [entry for entry in catalogue["briefings"] if entry["slug"] == "child-a"]
    assert "https://briefings.example.org/feeds/information-sharing.xml" not in child_a["feeds"]


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


INVISIBLE = "contains invisible control characters (fix: retype the text or paste it as plain text)"
SHOW = (REPO / "show.toml").read_text()
BASE_URL = 'base_url = "https://briefings.example.org/"'
BAD_SHOWS = [
    ("bell", SHOW.replace('author = "Safeguarding', 'author = "\\u0007Safeguarding'), f"author: {INVISIBLE}"),
    *[
        (name, SHOW.replace('author = "Safeguarding', f'author = "Safe\\u{code}guarding'), f"author: {INVISIBLE}")
        for name, code in [
            ("right-to-left-override", "202e"),
            ("zero-width-space", "200b"),
            ("zero-width-non-joiner", "200c"),
            ("zero-width-joiner", "200d"),
            ("word-joiner", "2060"),
            ("byte-order-mark", "feff"),
        ]
    ],
    (
        "zero-width-space-in-base-url",
        SHOW.replace(BASE_URL, 'base_url = "https://briefings.example.org/\\u200bpodcast/"'),
        f"base_url: {INVISIBLE}",
    ),
    (
        "nested-arrays",
        "x = " + "[" * 100_000 + "]" * 100_000 + "\n" + SHOW,
        "values are nested thousands of levels deep (fix: write each setting as in the template `briefings init` writes)",
    ),
    (
        "nested-tables",
        "x = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n" + SHOW,
        "values are nested thousands of levels deep (fix: write each setting as in the template `briefings init` writes)",
    ),
    (
        "language",
        SHOW.replace('language = "en-GB"', 'language = "English (UK)"'),
        "language: `English (UK)` is not a language code (fix: use an ISO 639 code, e.g. en-GB)",
    ),
    (
        "email",
        SHOW.replace('email = "briefings@example.org"', 'email = "briefings team"'),
        "owner.email: is not an email address (fix: write one address like podcasts@westmarsh.gov.uk)",
    ),
    (
        "base-url-query",
        SHOW.replace(BASE_URL, 'base_url = "https://briefings.example.org/?utm_source=feed"'),
        "base_url: has a `?` query or `#` fragment (fix: give the address of the folder alone, ending in /)",
    ),
    (
        "base-url-fragment",
        SHOW.replace(BASE_URL, 'base_url = "https://briefings.example.org/#podcast"'),
        "base_url: has a `?` query or `#` fragment (fix: give the address of the folder alone, ending in /)",
    ),
    (
        "base-url-password",
        SHOW.replace(BASE_URL, 'base_url = "https://publisher:SECRET@briefings.example.org/"'),
        "base_url: contains a user name or password (fix: remove the `name:password@` part)",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_SHOWS, ids=[case[0] for case in BAD_SHOWS])
def test_bad_show_settings_get_one_line_in_check_and_publish(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    workspace = copy_example(tmp_path / "workspace")
    (workspace / "show.toml").write_text(text)
    for command in ("check", "publish"):
        result = run(workspace, command)
        assert result.exit_code == 1, command
        assert result.stderr == f"Error: {workspace / 'show.toml'}: {expected}\n", command
        assert "Traceback" not in result.output and "SECRET" not in result.output
    assert not (workspace / "feed").exists()


def test_show_toml_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    # Windows editors (Notepad's "UTF-8 with BOM") start the file with U+FEFF.
    workspace = copy_example(tmp_path / "workspace")
    (workspace / "show.toml").write_text("\ufeff" + SHOW, encoding="utf-8")
    result = run(workspace, "publish", "--dry-run")
    assert result.exit_code == 0, result.output
