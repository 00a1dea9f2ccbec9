"""Where a briefing is in its life: draft, invalid, embargoed, published, changed or withdrawn (one rule set)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, tzinfo
from enum import Enum

from briefings.publish import Manifest, excluded
from briefings.submission import Briefing, Submission


class State(Enum):
    """A briefing's state, as `briefings status` names it."""

    DRAFT = "draft"
    INVALID = "invalid"
    EMBARGOED = "embargoed"
    PUBLISHED = "published"
    CHANGED = "changed since publish"
    WITHDRAWN = "withdrawn"


def taken_down_at(briefing: Briefing, zone: tzinfo | None) -> datetime | None:
    """When the briefing's `withdraw_after` date takes it down: the start of that day in `zone`, if it has one."""
    if briefing.withdraw_after is None:
        return None
    return datetime.combine(briefing.withdraw_after, time(0), tzinfo=zone)


def state_of(
    submission: Submission,
    manifest: Manifest,
    now: datetime,
    *,
    withdraw: Collection[str] = (),
    restore: Collection[str] = (),
    fingerprint: str | None = None,
) -> State:
    """The state of `submission` at the destination `manifest` describes, as of `now`.

    `withdraw` and `restore` are slugs this command takes down or brings back; `fingerprint` is the
    submission's now, compared with the one published (without it a published briefing counts as unchanged).
    A briefing withdrawn by command stays withdrawn whatever its folder holds; a version embargoed until later
    is not released, even when an earlier version is published (that one stays live).
    """
    slug, briefing = submission.slug, submission.briefing
    if (slug in excluded(manifest) or slug in withdraw) and slug not in restore:
        return State.WITHDRAWN
    if briefing is None or not submission.valid:
        return State.INVALID
    if briefing.review.published > now:
        return State.EMBARGOED
    taken_down = taken_down_at(briefing, now.tzinfo)
    if taken_down is not None and taken_down <= now:
        return State.WITHDRAWN
    published = manifest.episodes.get(slug)
    if published is None:
        return State.DRAFT
    if fingerprint is not None and published.get("source") != fingerprint:
        return State.CHANGED
    return State.PUBLISHED
