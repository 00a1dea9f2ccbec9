"""`briefings serve`: a podcast app on this machine or the network can subscribe and play."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import podcastparser
import pytest
import requests

from briefings.serve import byte_range
from tests.conftest import serving


@pytest.fixture
def server(published: Path) -> Iterator[str]:
    """`briefings serve --port 0` running on the published example; yields its base URL."""
    with serving(published) as base:
        yield base


def test_served_feed_names_the_server_and_every_enclosure_downloads(server: str, published: Path) -> None:
    response = requests.get(server + "feed.xml", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    podcast = podcastparser.parse(server + "feed.xml", io.BytesIO(response.content))
    assert len(podcast["episodes"]) == 2
    for episode in podcast["episodes"]:
        (enclosure,) = episode["enclosures"]
        assert enclosure["url"].startswith(server + "media/")
        audio = requests.get(enclosure["url"], timeout=10)
        assert audio.status_code == 200
        assert len(audio.content) == enclosure["file_size"]
        on_disk = published / "feed" / enclosure["url"].removeprefix(server)
        assert hashlib.sha256(audio.content).digest() == hashlib.sha256(on_disk.read_bytes()).digest()


def test_range_and_head_requests(server: str, published: Path) -> None:
    media = next((published / "feed" / "media").glob("child-a-*.mp3"))
    url = f"{server}media/{media.name}"
    size = media.stat().st_size
    head = requests.head(url, timeout=10)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(size)
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.content == b""
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.content == media.read_bytes()[100:200]
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.status_code == 206 and tail.content == media.read_bytes()[-10:]
    beyond = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


def test_pages_served_and_private_state_hidden(server: str) -> None:
    page = requests.get(server, timeout=10)
    assert page.status_code == 200 and "Child A: the baby nobody saw" in page.text
    assert f'href="{server}feed.xml"' in page.text
    assert requests.get(server + ".briefings/manifest.json", timeout=10).status_code == 404
    assert requests.get(server + "../show.toml", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-", (5, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=-20", (80, 99)),
        ("bytes=100-", False),
        ("bytes=50-10", False),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_byte_range(header: str | None, expected: object) -> None:
    assert byte_range(header, 100) == expected
