"""Where each briefing stands at a destination: from the submissions and the destination's manifest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from briefings.lifecycle import State, state_of
from briefings.publish import BY_COMMAND, Manifest
from briefings.submission import Submission


@dataclass(frozen=True)
class BriefingState:
    """One briefing's state and the detail a producer needs (a release time, a date, a fix)."""

    slug: str
    state: State
    detail: str = ""
    # `audience: staff`: never in a public file, so never due at the public destination.
    staff: bool = False

    @property
    def due(self) -> bool:
        """Ready, past its release time, and not published: what `status --check` alarms on."""
        return self.state is State.DRAFT and not self.staff


def briefing_states(
    submissions: Sequence[Submission],
    manifest: Manifest,
    now: datetime,
    fingerprints: Mapping[str, str],
    private_feeds: Mapping[str, int] | None = None,
) -> list[BriefingState]:
    """The state of every briefing in the workspace or the destination, sorted by slug.

    `fingerprints` maps slugs to their submission's fingerprint now, to compare with the one published;
    `private_feeds` maps the staff-only briefings the private feeds list to how many feeds there are.
    """
    states = []
    for submission in submissions:
        state = state_of(submission, manifest, now, fingerprint=fingerprints.get(submission.slug))
        states.append(_described(submission, state, manifest, private_feeds or {}))
    local = {submission.slug for submission in submissions}
    for slug, record in manifest.episodes.items():
        if slug not in local:
            detail = f"since {record.get('first_published')}; its folder is not in this workspace"
            states.append(BriefingState(slug, State.PUBLISHED, detail))
    for slug, record in manifest.withdrawn.items():
        if slug not in local and slug not in manifest.episodes:
            states.append(BriefingState(slug, State.WITHDRAWN, f"at {record.get('at')}"))
    return sorted(states, key=lambda state: state.slug)


def _described(
    submission: Submission, state: State, manifest: Manifest, private_feeds: Mapping[str, int]
) -> BriefingState:
    """A workspace briefing's `state`, with the detail a producer needs."""
    slug, briefing = submission.slug, submission.briefing
    published, withdrawn = manifest.episodes.get(slug), manifest.withdrawn.get(slug)
    if state is State.WITHDRAWN and withdrawn is not None:
        how = "by `briefings withdraw`" if withdrawn.get("by") == BY_COMMAND else "after its withdraw_after date"
        undo = f"; undo: briefings withdraw --undo {slug}" if withdrawn.get("by") == BY_COMMAND else ""
        return BriefingState(slug, state, f"{how} at {withdrawn.get('at')}{undo}")
    if state is State.INVALID or briefing is None:
        errors = sum(1 for problem in submission.problems if problem.severity.value == "error")
        return BriefingState(slug, State.INVALID, f"{errors} error(s): run briefings check {slug}")
    if state is State.WITHDRAWN:
        detail = f"withdraw_after {briefing.withdraw_after}"
        return BriefingState(slug, state, detail + ("; the next publish takes it down" if published else ""))
    release = briefing.review.published.isoformat()
    if briefing.staff_only and state in (State.DRAFT, State.PUBLISHED, State.CHANGED):
        feeds = private_feeds.get(slug)
        where = (
            f"in {feeds} private feed(s)" if feeds else "in no private feed yet (`briefings staff add`, then publish)"
        )
        return BriefingState(slug, state, f"staff only: in no public file; {where}", True)
    if state is State.EMBARGOED and published is not None:
        # Its last published version stays live until the new one is released.
        detail = f"since {published.get('first_published')}; its changes are embargoed until {release}"
        return BriefingState(slug, State.PUBLISHED, detail)
    if state is State.EMBARGOED:
        return BriefingState(slug, state, f"until {release}")
    if published is None:
        # Its release time has passed (else it would be embargoed): a publish on schedule would have released it.
        return BriefingState(slug, state, f"due since {release}, not published: is the schedule running?")
    if state is State.CHANGED:
        return BriefingState(slug, state, "the next publish updates it")
    return BriefingState(slug, state, f"since {published.get('first_published')}")
