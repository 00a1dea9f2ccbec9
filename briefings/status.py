"""Where each briefing stands at a destination: from the submissions and the destination's manifest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from briefings.publish import BY_COMMAND, Manifest
from briefings.submission import Submission


class State(Enum):
    """What `briefings status` says about a briefing."""

    DRAFT = "draft"
    INVALID = "invalid"
    EMBARGOED = "embargoed"
    PUBLISHED = "published"
    CHANGED = "changed since publish"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class BriefingState:
    """One briefing's state and the detail a producer needs (a release time, a date, a fix)."""

    slug: str
    state: State
    detail: str = ""


def briefing_states(
    submissions: Sequence[Submission], manifest: Manifest, now: datetime, fingerprints: Mapping[str, str]
) -> list[BriefingState]:
    """The state of every briefing in the workspace or the destination, sorted by slug.

    `fingerprints` maps slugs to their submission's fingerprint now, to compare with the one published.
    """
    states = []
    for submission in submissions:
        slug, briefing = submission.slug, submission.briefing
        published = manifest.episodes.get(slug)
        withdrawn = manifest.withdrawn.get(slug)
        if withdrawn is not None:
            how = "by `briefings withdraw`" if withdrawn.get("by") == BY_COMMAND else "after its withdraw_after date"
            undo = f"; undo: briefings withdraw --undo {slug}" if withdrawn.get("by") == BY_COMMAND else ""
            states.append(BriefingState(slug, State.WITHDRAWN, f"{how} at {withdrawn.get('at')}{undo}"))
        elif briefing is None or not submission.valid:
            errors = sum(1 for problem in submission.problems if problem.severity.value == "error")
            states.append(BriefingState(slug, State.INVALID, f"{errors} error(s): run briefings check {slug}"))
        elif published is None and briefing.review.published > now:
            states.append(BriefingState(slug, State.EMBARGOED, f"until {briefing.review.published.isoformat()}"))
        elif briefing.withdraw_after is not None and briefing.withdraw_after <= now.date():
            detail = f"withdraw_after {briefing.withdraw_after.isoformat()}"
            states.append(
                BriefingState(slug, State.WITHDRAWN, detail + ("; the next publish takes it down" if published else ""))
            )
        elif published is None:
            states.append(BriefingState(slug, State.DRAFT, "not published yet: the next publish releases it"))
        elif published.get("source") != fingerprints.get(slug):
            states.append(BriefingState(slug, State.CHANGED, "the next publish updates it"))
        else:
            states.append(BriefingState(slug, State.PUBLISHED, f"since {published.get('first_published')}"))
    local = {submission.slug for submission in submissions}
    for slug, record in manifest.episodes.items():
        if slug not in local:
            detail = f"since {record.get('first_published')}; its folder is not in this workspace"
            states.append(BriefingState(slug, State.PUBLISHED, detail))
    for slug, record in manifest.withdrawn.items():
        if slug not in local and slug not in manifest.episodes:
            states.append(BriefingState(slug, State.WITHDRAWN, f"at {record.get('at')}"))
    return sorted(states, key=lambda state: state.slug)
