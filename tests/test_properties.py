"""Property tests: any text in any field either validates and renders safely, or is refused with a message."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import feedparser
import podcastparser
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from briefings.config import load_show
from briefings.episode import Episode, episode_guid
from briefings.errors import Severity
from briefings.feed import render_feed
from briefings.site import render_site
from briefings.submission import load_submission
from briefings.validation import INVISIBLE
from tests.conftest import REPO

FIELDS = [("title",), ("summary",), ("review", "subject"), ("review", "partnership"), ("review", "region"), ("author", "name"), ("author", "role"), ("key_lessons", 0), ("chapters", 1, "title")]  # fmt: skip
BASE = yaml.safe_load((REPO / "episodes" / "child-a" / "briefing.yaml").read_text())
SHOW = load_show(REPO)
# Any character at all, lone surrogates included, and often the invisible ones people paste in by accident.
TEXT = st.text(st.characters(exclude_categories=()), max_size=80) | st.text(
    st.sampled_from("ab \u200b\u200c\u200d\u2060\u202e\u2066\ufeff\ud800\udfff\x07\x85"), max_size=12
)


def with_text(path: tuple[str | int, ...], text: str) -> dict:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), text=TEXT)
def test_any_text_validates_and_renders_safely_or_is_refused(
    tmp_path: Path, field: tuple[str | int, ...], text: str
) -> None:
    folder = tmp_path / "episodes" / "child-a"
    if not folder.exists():
        shutil.copytree(REPO / "episodes" / "child-a", folder)
    (folder / "briefing.yaml").write_text(yaml.safe_dump(with_text(field, text), allow_unicode=True), encoding="utf-8")
    submission = load_submission(folder, SHOW)
    # What YAML reads back (it treats U+0085, U+2028 and U+2029 as line breaks, which the schema folds).
    read: object = yaml.safe_load((folder / "briefing.yaml").read_text(encoding="utf-8"))
    for part in field:
        read = read[part]  # type: ignore[index]
    assert submission.briefing is None or not INVISIBLE.search(str(read)), "an invisible character was accepted"
    if submission.briefing is None:
        errors = [problem for problem in submission.problems if problem.severity is Severity.ERROR]
        assert errors, "refused without a reason"
        for problem in errors:
            assert problem.message and problem.fix and "\n" not in str(problem)
        return
    episode = Episode(
        "child-a",
        episode_guid(SHOW.id, "child-a"),
        submission.briefing,
        "media/child-a-00000000.mp3",
        1000,
        47.0,
        "briefings/child-a/index.html",
        None,
        None,
        None,
    )
    feed = render_feed(SHOW, [episode], "artwork.jpg")
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    podcast = podcastparser.parse("https://briefings.example.org/feed.xml", io.BytesIO(feed))
    stored = " ".join(text.split())  # the schema folds whitespace
    if field == ("title",):
        assert parsed.entries[0].title == stored
        assert podcast["episodes"][0]["title"] == stored
    if field == ("chapters", 1, "title"):
        assert podcast["episodes"][0]["chapters"][1]["title"] == stored
    pages = render_site(SHOW, [episode], "feed.xml", {})
    if field == ("title",):
        # Shown escaped, exactly as Jinja escapes it: never as markup.
        assert str(escape(stored)).encode() in pages["index.html"]
