"""`briefings serve`: a podcast app on this machine or the network can subscribe and play."""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import podcastparser
import pytest
import requests

from briefings.errors import printable
from briefings.serve import byte_range
from tests.conftest import run, serving


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
        ("bytes=-" + "9" * 19, False),
        ("bytes=0-" + "9" * 19, False),
    ],
)
def test_byte_range(header: str | None, expected: object) -> None:
    assert byte_range(header, 100) == expected


def test_hostile_requests_get_an_answer_not_a_traceback(published: Path, tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr, serving(published, None, stderr=stderr) as base:
        media = next((published / "feed" / "media").glob("child-a-*.mp3"))
        size = media.stat().st_size
        for header in ("bytes=-" + "9" * 5000, "bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000):
            huge = requests.get(f"{base}media/{media.name}", headers={"Range": header}, timeout=10)
            assert huge.status_code == 416
            assert huge.headers["Content-Range"] == f"bytes */{size}"
        for path in ("feed.xml%00.jpg", "%00", "index.html%00", "a" * 5000):
            assert requests.get(base + path, timeout=10).status_code == 404
        # A client that resets its connection mid-request (a browser leaving a page): no traceback either.
        host, port = base.removeprefix("http://").rstrip("/").split(":")
        with socket.create_connection((host, int(port))) as reset:
            reset.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: ")
            reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The server still answers after them all.
        assert requests.get(base + "feed.xml", timeout=10).status_code == 200
    assert log.read_text() == ""


def test_served_links_ignore_the_host_header(server: str) -> None:
    for host in ("evil.example", "evil.example:8000", "127.0.0.1:1"):
        for key in ("feed.xml", "index.html", "feeds.opml"):
            text = requests.get(server + key, headers={"Host": host}, timeout=10).text
            assert host not in text
            assert server in text


def test_public_url_names_the_links(published: Path) -> None:
    public = "http://briefings.lan:8080/preview/"
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings", "-C", str(published), "serve", "--port", "0", "--public-url", public],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        listening = process.stdout.readline().rsplit(" at ", 1)[1].strip()
        assert process.stdout.readline().strip() == f"Subscribe in a podcast app to: {public}feed.xml"
        feed = requests.get(listening + "feed.xml", headers={"Host": "evil.example"}, timeout=10).content
        podcast = podcastparser.parse(public + "feed.xml", io.BytesIO(feed))
        for episode in podcast["episodes"]:
            assert episode["enclosures"][0]["url"].startswith(public + "media/")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "url",
    ["ftp://host/", "http://user:secret@host/", "http://host/?q=1", "http://host/#top", "http://evil\x1b[2J/", "host"],
)
def test_public_url_must_be_a_plain_address(published: Path, url: str) -> None:
    result = run(published, "serve", "--port", "0", "--public-url", url)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --public-url {printable(url)}: not a plain http(s) address (fix: give the scheme, host, port and "
        "path only, e.g. http://192.168.1.20:8000/)\n"
    )
