"""The one rule set for a briefing's state, case by case (no ffmpeg: the example's metadata only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from briefings.config import load_show
from briefings.errors import Problem, Severity
from briefings.lifecycle import State, state_of, taken_down_at
from briefings.publish import BY_COMMAND, BY_DATE, Manifest
from briefings.status import BriefingState, briefing_states
from briefings.submission import Submission, load_submission

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2099, 1, 1, 9, 0, tzinfo=UTC)
PUBLISHED = {"child-a": {"guid": "g", "source": "same", "first_published": "2026-03-12T10:00:00+00:00"}}


@pytest.fixture(scope="module")
def child_a() -> Submission:
    return load_submission(REPO / "episodes" / "child-a", load_show(REPO))


def changed(submission: Submission, **fields: Any) -> Submission:
    """The submission with its briefing's fields (and `published`, the embargo) replaced."""
    assert submission.briefing is not None
    briefing = submission.briefing
    if "published" in fields:
        review = briefing.review.model_copy(update={"published": fields.pop("published")})
        fields["review"] = review
    return replace(submission, briefing=briefing.model_copy(update=fields))


def refused(submission: Submission, severity: Severity = Severity.ERROR) -> Submission:
    return replace(
        submission, problems=(Problem("episodes/child-a/briefing.yaml", "bad", "fix it", severity=severity),)
    )


def withdrawn(by: str) -> dict[str, dict[str, Any]]:
    return {"child-a": {"by": by, "at": "2027-05-01T00:00:00+00:00"}}


# (name, submission edit, manifest, keyword arguments, expected state)
CASES: list[tuple[str, Any, Manifest, dict[str, Any], State]] = [
    ("never published", lambda s: s, Manifest(), {}, State.DRAFT),
    ("only warnings", lambda s: refused(s, Severity.WARNING), Manifest(), {}, State.DRAFT),
    ("published, same files", lambda s: s, Manifest(episodes=PUBLISHED), {"fingerprint": "same"}, State.PUBLISHED),
    ("published, edited", lambda s: s, Manifest(episodes=PUBLISHED), {"fingerprint": "other"}, State.CHANGED),
    ("published, no fingerprint to compare", lambda s: s, Manifest(episodes=PUBLISHED), {}, State.PUBLISHED),
    ("invalid", refused, Manifest(), {}, State.INVALID),
    ("no briefing", lambda s: replace(s, briefing=None), Manifest(), {}, State.INVALID),
    ("embargoed", lambda s: changed(s, published=LATER), Manifest(), {}, State.EMBARGOED),
    # The new version waits; the published one stays live (the build keeps it, status says published).
    ("published, embargo moved later", lambda s: changed(s, published=LATER), Manifest(episodes=PUBLISHED), {}, State.EMBARGOED),
    ("embargo lifts at its time", lambda s: changed(s, published=NOW), Manifest(), {}, State.DRAFT),
    ("withdrawn by command", lambda s: s, Manifest(withdrawn=withdrawn(BY_COMMAND)), {}, State.WITHDRAWN),
    ("withdrawn by command, now invalid", refused, Manifest(withdrawn=withdrawn(BY_COMMAND)), {}, State.WITHDRAWN),
    ("withdrawn by command, restored", lambda s: s, Manifest(withdrawn=withdrawn(BY_COMMAND)), {"restore": {"child-a"}}, State.DRAFT),
    ("withdrawn by this command", lambda s: s, Manifest(episodes=PUBLISHED), {"withdraw": {"child-a"}}, State.WITHDRAWN),
    ("withdrawn and restored at once", lambda s: s, Manifest(), {"withdraw": {"child-a"}, "restore": {"child-a"}}, State.DRAFT),
    ("withdraw_after today", lambda s: changed(s, withdraw_after=NOW.date()), Manifest(episodes=PUBLISHED), {}, State.WITHDRAWN),
    ("withdraw_after tomorrow", lambda s: changed(s, withdraw_after=date(2027, 6, 2)), Manifest(episodes=PUBLISHED), {}, State.PUBLISHED),
    ("withdrawn by date, still past", lambda s: changed(s, withdraw_after=date(2027, 5, 1)), Manifest(withdrawn=withdrawn(BY_DATE)), {}, State.WITHDRAWN),
    # Moving the date later lifts a withdrawal by date: the next publish releases the briefing again.
    ("withdrawn by date, date moved later", lambda s: changed(s, withdraw_after=date(2028, 1, 1)), Manifest(withdrawn=withdrawn(BY_DATE)), {}, State.DRAFT),
    ("withdrawn by date, date removed", lambda s: s, Manifest(withdrawn=withdrawn(BY_DATE)), {}, State.DRAFT),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "manifest", "arguments", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_state_of(
    child_a: Submission, edit: Any, manifest: Manifest, arguments: dict[str, Any], expected: State
) -> None:
    assert state_of(edit(child_a), manifest, NOW, **arguments) is expected


def test_a_withdraw_after_date_takes_effect_at_the_start_of_that_day_in_the_clock_zone(child_a: Submission) -> None:
    briefing = changed(child_a, withdraw_after=date(2027, 6, 2))
    assert briefing.briefing is not None and child_a.briefing is not None
    zone = timezone(timedelta(hours=1))  # e.g. British Summer Time
    assert taken_down_at(briefing.briefing, zone) == datetime(2027, 6, 2, tzinfo=zone)
    assert taken_down_at(child_a.briefing, UTC) is None
    just_before = datetime(2027, 6, 1, 23, 59, 59, tzinfo=zone)
    assert state_of(briefing, Manifest(), just_before) is State.DRAFT
    assert state_of(briefing, Manifest(), just_before + timedelta(seconds=1)) is State.WITHDRAWN


def test_status_says_a_published_briefing_whose_embargo_moved_later_stays_live(child_a: Submission) -> None:
    moved = changed(child_a, published=LATER)
    states = briefing_states([moved], Manifest(episodes=PUBLISHED), NOW, {"child-a": "other"})
    detail = "since 2026-03-12T10:00:00+00:00; its changes are embargoed until 2099-01-01T09:00:00+00:00"
    assert states == [BriefingState("child-a", State.PUBLISHED, detail)]
