"""Tell podcast apps the minute a public feed changes, instead of when they next poll it.

Two pings, both set in show.toml's [notify]: a WebSub publish (https://www.w3.org/TR/websub/#publishing,
as the PubSubHubbub core 0.4 spec gives it: a form POST of hub.mode=publish and hub.url) to each hub the
feeds name, and Podcast Index's pubnotify. They go out only once the anonymous check has fetched the new
main feed from its public address: a hub fetches the feed when pinged, and one that found the old feed
would tell apps that nothing changed. A feed whose pings could not go out yet (the check did not see it, a
hub did not answer) waits in the workspace, and the next publish tries again, for up to a day.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

import requests

from briefings import web
from briefings.config import STATE_DIR, NotifySettings, state_name
from briefings.progress import Reporter

TIMEOUT_SECONDS = 15
# A ping still not delivered after this long is news nobody needs: apps have polled the feed by then.
GIVE_UP_AFTER = timedelta(days=1)


class Hub(Enum):
    """How an address is pinged."""

    WEBSUB = "websub"  # a form POST: hub.mode=publish, hub.url
    PODCAST_INDEX = "podcast-index"  # a GET ?url=: https://podcastindex-org.github.io/docs-api/#get-/hub/pubnotify


def pending_file(workspace: Path, destination: str) -> Path:
    """Where the pings not yet delivered for `destination` wait (hub -> feed URL -> when first due)."""
    return workspace / STATE_DIR / "pings" / f"{state_name(destination)}.json"


def hubs(settings: NotifySettings) -> dict[str, Hub]:
    """Every address pinged, with how: the WebSub hubs, then Podcast Index's pubnotify if it is on."""
    addresses = {str(hub): Hub.WEBSUB for hub in settings.websub_hubs}
    return addresses | ({str(settings.podcast_index_url): Hub.PODCAST_INDEX} if settings.podcast_index else {})


def send(kind: Hub, hub: str, feed: str, client: requests.Session) -> str | None:
    """Ping `hub` that `feed` changed; None when the hub accepted it, else why not."""
    try:
        if kind is Hub.PODCAST_INDEX:
            response = client.get(hub, params={"url": feed}, timeout=TIMEOUT_SECONDS)
        else:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": feed}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return web.reason(error, TIMEOUT_SECONDS)
    # WebSub hubs answer 2xx (often 204 No Content) when they accept a publish.
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code} {response.reason}"


def ping(
    workspace: Path,
    destination: str,
    settings: NotifySettings,
    changed: Sequence[str],
    seen: bool,
    moment: datetime,
    reporter: Reporter,
) -> list[dict[str, str]]:
    """Queue a ping to every hub for each feed URL in `changed`; if `seen` (the anonymous check fetched the new
    main feed), send every queued one. The pings delivered, as {"hub", "feed"}; failures are warnings."""
    path = pending_file(workspace, destination)
    try:
        pending: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pending = {}
    addresses = hubs(settings)
    pending = {hub: feeds for hub, feeds in pending.items() if hub in addresses}  # a hub since taken out: forget
    for hub in addresses:
        for feed in changed:
            pending.setdefault(hub, {}).setdefault(feed, moment.isoformat())
    waiting = [(hub, feed, since) for hub, feeds in pending.items() for feed, since in feeds.items()]
    if waiting and not seen:
        reporter.problem(
            f"warning: {len(waiting)} ping(s) to podcast apps' hubs wait until the new feed can be fetched at its "
            "public address; the next publish sends them (the public check's warning says why)"
        )
    delivered: list[dict[str, str]] = []
    if waiting and seen:
        with web.session("WebSub publisher") as client:
            for hub, feed, since in waiting:
                problem = send(addresses[hub], hub, feed, client)
                if problem is None:
                    delivered.append({"hub": hub, "feed": feed})
                    del pending[hub][feed]
                elif moment - datetime.fromisoformat(since) >= GIVE_UP_AFTER:
                    reporter.problem(
                        f"warning: {hub}: did not take the ping for {feed} for a day ({problem}); given up"
                    )
                    del pending[hub][feed]
                else:
                    reporter.problem(
                        f"warning: {hub}: did not take the ping for {feed} ({problem}); the next publish tries again "
                        "(fix: check [notify] in show.toml if this persists)"
                    )
    pending = {hub: feeds for hub, feeds in pending.items() if feeds}
    if pending:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(pending, indent=1, sort_keys=True), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    return delivered
