"""Pings to podcast apps' hubs: a test server on 127.0.0.1 serves the published folder at the show's public
address (as a bucket or CDN would) and records the WebSub publish pings and Podcast Index pubnotify calls."""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from lxml import etree

from briefings import Reporter, Workspace
from tests.conftest import run

RELEASE = datetime.fromisoformat("2027-01-10T09:00:00+00:00")
ATOM = "{http://www.w3.org/2005/Atom}link"


@dataclass
class Hub:
    """What the test server saw, in order, and how it answers."""

    url: str = ""
    log: list[tuple[str, str]] = field(default_factory=list)  # ("GET", path) or ("websub"|"index", feed URL)
    serving: bool = True  # False: the public address answers 404, as before a bucket policy is set
    accepting: bool = True  # False: the hub answers 503

    def pings(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if entry[0] != "GET"]


class Handler(SimpleHTTPRequestHandler):
    hub: Hub

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        assert self.path == "/hub" and form["hub.mode"] == ["publish"]
        self.hub.log.append(("websub", form["hub.url"][0]))
        self.send_response(204 if self.hub.accepting else 503)
        self.end_headers()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/pubnotify":
            self.hub.log.append(("index", parse_qs(parts.query)["url"][0]))
            self.send_response(200 if self.hub.accepting else 503)
            self.end_headers()
            return
        self.hub.log.append(("GET", parts.path))
        if self.hub.serving:
            super().do_GET()
        else:
            self.send_error(404)

    def log_message(self, *arguments: object) -> None:
        pass


@pytest.fixture
def hub(workspace: Path) -> Iterator[Hub]:
    """The workspace's feed/ at http://127.0.0.1:PORT/, its WebSub hub at /hub, Podcast Index at /pubnotify."""
    recorder = Hub()
    handler = type("Bound", (Handler,), {"hub": recorder})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(workspace / "feed")))
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    show = workspace / "show.toml"
    text = show.read_text().replace('base_url = "https://briefings.example.org/"', f'base_url = "{recorder.url}"')
    show.write_text(
        text + f'\n[notify]\nwebsub_hubs = ["{recorder.url}hub"]\npodcast_index = true\n'
        f'podcast_index_url = "{recorder.url}pubnotify"\n'
    )
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


class Warnings(Reporter):
    lines: ClassVar[list[str]] = []

    def problem(self, line: str) -> None:
        self.lines.append(line)


def publish(workspace: Path, minutes: int) -> dict:
    Warnings.lines.clear()
    return Workspace(workspace, now=RELEASE + timedelta(minutes=minutes), reporter=Warnings()).publish().summary


def digests(folder: Path) -> dict[str, str]:
    """Each public feed's URL path and the hash of its bytes."""
    feeds = [folder / "feed.xml", *sorted((folder / "feeds").rglob("*.xml"))]
    return {"/" + path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in feeds}


def test_every_public_feed_names_the_hub_beside_its_own_address(workspace: Path, hub: Hub) -> None:
    publish(workspace, 0)
    for path in digests(workspace / "feed"):
        channel = etree.parse(workspace / "feed" / path.lstrip("/")).getroot().find("channel")
        links = {link.get("rel"): link.get("href") for link in channel.iter(ATOM)}
        assert links == {"self": hub.url + path.lstrip("/"), "hub": hub.url + "hub"}, path
        # Podcast apps' parsers find the hub as WebSub subscribers do.
        parsed = feedparser.parse(workspace / "feed" / path.lstrip("/"))
        assert {"rel": "hub", "href": hub.url + "hub"}.items() <= next(
            link for link in parsed.feed.links if link["rel"] == "hub"
        ).items()


def test_changed_feeds_are_pinged_only_once_the_public_address_serves_them(workspace: Path, hub: Hub) -> None:
    # The public address does not serve the new feed yet: nothing is pinged; the pings wait.
    hub.serving = False
    summary = publish(workspace, 0)
    feeds = digests(workspace / "feed")
    assert summary["pinged"] == [] and hub.pings() == []
    assert summary["public_check"].startswith(f"{hub.url}feed.xml: not found (HTTP 404)")
    assert any(
        "ping(s) to podcast apps' hubs wait until the new feed can be fetched" in line for line in Warnings.lines
    )

    # Served now: the next publish (nothing else changed) checks the feed, then sends every waiting ping.
    hub.serving = True
    hub.log.clear()
    summary = publish(workspace, 1)
    expected = {(kind, hub.url + path.lstrip("/")) for kind in ("websub", "index") for path in feeds}
    assert set(hub.pings()) == expected and len(hub.pings()) == len(expected)
    assert hub.log[0] == ("GET", "/feed.xml")  # the anonymous check came first
    assert {(ping["hub"], ping["feed"]) for ping in summary["pinged"]} == {
        (hub.url + ("hub" if kind == "websub" else "pubnotify"), feed) for kind, feed in expected
    }

    # Nothing changed: no pings.
    hub.log.clear()
    assert publish(workspace, 2)["pinged"] == [] and hub.pings() == []

    # An edit changes some feeds, not all: only those are pinged.
    briefing = workspace / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace('title: "', 'title: "Revised: ', 1))
    publish(workspace, 3)
    changed = {path for path, digest in digests(workspace / "feed").items() if feeds.get(path) != digest}
    assert changed and len(changed) < len(feeds)
    assert set(hub.pings()) == {(kind, hub.url + path.lstrip("/")) for kind in ("websub", "index") for path in changed}


def test_an_embargoed_briefing_pings_nobody_until_it_is_released(workspace: Path, hub: Hub) -> None:
    publish(workspace, 0)
    folder = workspace / "episodes" / "child-z"
    shutil.copytree(workspace / "episodes" / "child-a", folder)
    briefing = folder / "briefing.yaml"
    text = briefing.read_text()
    start = text.index("published: ") + len("published: ")
    end = text.index("\n", start)
    briefing.write_text(text[:start] + (RELEASE + timedelta(hours=1)).isoformat() + text[end:])
    hub.log.clear()
    assert publish(workspace, 10)["pinged"] == [] and hub.pings() == []
    pinged = publish(workspace, 61)["pinged"]
    assert {"hub": hub.url + "hub", "feed": hub.url + "feed.xml"} in pinged


def test_a_hub_that_fails_is_a_warning_and_the_next_publish_retries(workspace: Path, hub: Hub) -> None:
    hub.accepting = False
    summary = publish(workspace, 0)
    assert summary["pinged"] == [] and hub.pings()  # tried, refused
    refused = [line for line in Warnings.lines if "did not take the ping" in line]
    assert refused and all("(HTTP 503 Service Unavailable); the next publish tries again" in line for line in refused)
    tried = set(hub.pings())

    hub.accepting = True
    hub.log.clear()
    summary = publish(workspace, 1)
    assert {(ping["feed"]) for ping in summary["pinged"]} == {feed for _, feed in tried}
    assert set(hub.pings()) == tried
    hub.log.clear()
    publish(workspace, 2)
    assert hub.pings() == []


def test_a_dry_run_says_what_it_would_ping_and_sends_nothing(workspace: Path, hub: Hub) -> None:
    summary = Workspace(workspace, now=RELEASE).publish(dry_run=True).summary
    assert {"hub": hub.url + "pubnotify", "feed": hub.url + "feed.xml"} in summary["would_ping"]
    feeds = len(digests(workspace / "feed"))
    result = run(workspace, "publish", "--dry-run")
    assert f"Would ping {hub.url}hub about {feeds} changed feed(s).\n" in result.stdout
    assert hub.log == []


def test_a_hub_must_be_https(workspace: Path) -> None:
    with (workspace / "show.toml").open("a") as show:
        show.write('\n[notify]\nwebsub_hubs = ["http://hub.example.org/"]\n')
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert "websub_hubs" in result.stderr and "http://hub.example.org/ is not https" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
