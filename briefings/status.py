"""Where each briefing stands at a destination: from the submissions and the destination's manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from briefings.publish import BY_COMMAND, Manifest
from briefings.submission import BRIEFING_FILE, Submission


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


def fingerprint(submission: Submission) -> str:
    """SHA-256 over the files a briefing is made from, to tell whether it changed since it was published."""
    digest = hashlib.sha256()
    names = [BRIEFING_FILE]
    if submission.briefing is not None:
        names += [
            name
            for name in (submission.briefing.recording, submission.briefing.transcript, submission.briefing.artwork)
            if name
        ]
    for name in names:
        path = submission.folder / name
        digest.update(name.encode("utf-8") + b"\0")
        if path.is_file():
            with path.open("rb") as data:
                digest.update(hashlib.file_digest(data, "sha256").digest())
    return digest.hexdigest()


def briefing_states(submissions: Sequence[Submission], manifest: Manifest, now: datetime) -> list[BriefingState]:
    """The state of every briefing in the workspace or the destination, sorted by slug."""
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
        elif published.get("source") != fingerprint(submission):
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
