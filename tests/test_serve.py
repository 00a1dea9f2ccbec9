"""`briefings serve`: a podcast app on this machine or the network can subscribe and play."""

from __future__ import annotations

import gzip
import hashlib
import http.client
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
from briefings.serve import accepts_gzip, byte_range
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


def fetch(base: str, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A request as a browser sends it, answered as it came over the wire: status, headers and the body
    undecoded (requests would undo a Content-Encoding before the test saw it)."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, "/" + path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_text_is_sent_gzip_compressed_as_a_cdn_sends_it(server: str, published: Path) -> None:
    # CloudFront and Cloudflare compress text for a browser that accepts gzip; the preview does the same,
    # so what scripts/bench_search.py measures over it is what a listener downloads.
    site = published / "feed"
    script = (site / "pagefind" / "pagefind.js").read_bytes()
    status, headers, body = fetch(server, "pagefind/pagefind.js", **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert headers["Content-Length"] == str(len(body)) and headers["Content-Type"].startswith("text/javascript")
    assert gzip.decompress(body) == script and len(body) < len(script) / 2
    # HEAD says what GET sends; a page's links still name the server.
    status, head, empty = fetch(server, "pagefind/pagefind.js", "HEAD", **{"Accept-Encoding": "gzip"})
    assert status == 200 and head["Content-Length"] == str(len(body)) and empty == b""
    status, headers, body = fetch(server, "", **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and f'href="{server}feed.xml"'.encode() in gzip.decompress(body)
    # Unasked, refused (a weight of 0) or a range: the file as it is.
    for asked in ({}, {"Accept-Encoding": "gzip;q=0, identity"}, {"Accept-Encoding": "gzip", "Range": "bytes=0-99"}):
        status, headers, body = fetch(server, "pagefind/pagefind.js", **asked)
        assert "Content-Encoding" not in headers and body == script[: len(body)] and len(body) in (100, len(script))
        assert headers["Vary"] == "Accept-Encoding"
    # Pagefind's parts are gzip already (its script decompresses them), and audio is compressed: as they are.
    meta = next((site / "pagefind").glob("*.pf_meta"))
    media = next((site / "media").glob("*.mp3"))
    for path in (meta, site / "pagefind" / "wasm.en-gb.pagefind", media):
        status, headers, body = fetch(server, path.relative_to(site).as_posix(), **{"Accept-Encoding": "gzip"})
        assert status == 200 and "Content-Encoding" not in headers and body == path.read_bytes(), path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("br", False),
        ("*", True),
        ("*, gzip;q=0", False),
        ("x-gzip", True),
        ("gzip;q=nonsense", False),
    ],
)
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


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
