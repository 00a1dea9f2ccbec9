"""Preview a published folder over HTTP, as a podcast app would fetch it (HEAD and Range included)."""

from __future__ import annotations

import gzip
import re
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from briefings.config import SHOW_FILE, load_show
from briefings.errors import BriefingsError, UsageError, printable, shown
from briefings.layout import FEED_KEY, content_type

# Text files whose absolute URLs name the public base URL; served with the preview's address instead.
REWRITTEN = {".xml", ".html", ".json", ".opml"}
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Text a CDN compresses on its way to a browser that accepts it (CloudFront's "Compress objects
# automatically", Cloudflare's default compressed content types), so the preview sends what a listener
# gets: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html and
# https://developers.cloudflare.com/speed/optimization/content/compression/. Not audio, images or Pagefind's
# parts (.pagefind, .pf_*), which are compressed already.
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".xml", ".svg", ".opml", ".vtt", ".srt", ".txt"}
# CloudFront compresses files of 1,000 to 10,000,000 bytes (its "Conditions for compression").
COMPRESSIBLE_SIZES = range(1000, 10_000_001)
# Compressed files kept by the server: a search fetches the same script and records again and again.
COMPRESSED_FILES_KEPT = 1024
# A byte position of more digits names no file that exists (and Python refuses to convert more than 4300).
MAX_POSITION_DIGITS = 18


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """The (first, last) bytes a Range header asks for; None for the whole file; False if unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match:
        return None  # several ranges or another unit: RFC 9110 lets a server answer with the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if max(len(first), len(last)) > MAX_POSITION_DIGITS:
        return False
    if not first:
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip: named, or by "*", with a weight above 0 (RFC 9110, 12.5.3)."""
    weights: dict[str, str] = {}
    for coding in (header or "").split(","):
        name, _, parameter = coding.partition(";")
        parameter = parameter.strip().lower()
        weights[name.strip().lower()] = parameter.removeprefix("q=") if parameter.startswith("q=") else "1"
    weight = weights.get("gzip", weights.get("x-gzip", weights.get("*", "0")))
    try:
        return float(weight) > 0
    except ValueError:
        return False


class PreviewServer(ThreadingHTTPServer):
    """Serves `root`, replacing the show's public base URL with `served_base`: by default the address
    it listens on, never the request's Host header (which any client can set to any site)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, public_base: str) -> None:
        super().__init__(address, PreviewHandler)
        self.root = root.resolve()
        self.public_base = public_base
        self.listening = f"http://{address[0]}:{self.server_address[1]}/"
        self.served_base = self.listening
        self._compressed: dict[tuple[Path, int, int], bytes] = {}
        self._compressed_lock = threading.Lock()

    def compressed(self, path: Path, body: Callable[[], bytes]) -> bytes:
        """The `body` served for `path`, gzip-compressed: once while the file stays as it is (its size and
        modification time), not at every request."""
        status = path.stat()
        key = (path, status.st_mtime_ns, status.st_size)
        with self._compressed_lock:
            found = self._compressed.get(key)
        if found is None:
            found = gzip.compress(body(), compresslevel=6, mtime=0)  # zlib's default level, as web servers use
            with self._compressed_lock:
                if len(self._compressed) >= COMPRESSED_FILES_KEPT:
                    self._compressed.clear()  # simple, and rare: a preview serves few distinct text files
                self._compressed[key] = found
        return found

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser closing a connection it no longer needs (a page left while loading) is no error to
        print, let alone with socketserver's traceback; anything else is a bug, reported as it is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD with single byte ranges (RFC 9110), which podcast apps use to seek and resume."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the body of a small response waited
    # for the client's delayed acknowledgement of the headers, 40 ms on Linux, for each index part and
    # record the archive's search fetches (TCP_NODELAY, RFC 896 and RFC 1122 4.2.3.2; socketserver's
    # StreamRequestHandler sets it with this).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        pass  # quiet: the CLI prints where to subscribe; access logs would drown it

    def _file(self) -> Path | None:
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        if "\0" in relative or any(part.startswith(".") for part in Path(relative).parts):
            return None  # no file name holds a NUL; the manifest and partial uploads are not for listeners
        try:
            path = (self.server.root / relative).resolve()
            if path.is_dir():
                path = path / "index.html"
            found = path.is_relative_to(self.server.root) and path.is_file()
        except OSError:  # a name too long, or a link loop: nothing to serve
            return None
        return path if found else None

    def _body(self, path: Path) -> bytes:
        """The file at `path` as served: a text file with absolute URLs names the served base."""
        data = path.read_bytes()
        if path.suffix in REWRITTEN:
            data = data.replace(self.server.public_base.encode(), self.server.served_base.encode())
        return data

    def _respond(self, send_body: bool) -> None:
        path = self._file()
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return
        compressible = path.suffix in COMPRESSIBLE and path.stat().st_size in COMPRESSIBLE_SIZES
        # A range names bytes of the file as it is: a request for one gets them uncompressed.
        if compressible and not self.headers.get("Range") and accepts_gzip(self.headers.get("Accept-Encoding")):
            body = self.server.compressed(path, lambda: self._body(path))
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(path.name))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        data = self._body(path) if path.suffix in REWRITTEN else None
        size = len(data) if data is not None else path.stat().st_size
        wanted = byte_range(self.headers.get("Range"), size)
        if wanted is False:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(wanted, tuple) else HTTPStatus.OK)
        if isinstance(wanted, tuple):
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Type", content_type(path.name))
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        if compressible:
            self.send_header("Vary", "Accept-Encoding")  # another request may get it compressed
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not send_body:
            return
        if data is not None:
            self.wfile.write(data[first : last + 1])
            return
        with path.open("rb") as source:
            source.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = source.read(min(remaining, 256 * 1024))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)


def _lan_address() -> str:
    # The address other devices on the network reach us at; connecting a UDP socket sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


# An http(s) address with a host name or IPv4 address, an optional port and a plain path: no user and
# password, query or fragment, which would be copied into every link of the served feed.
PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~%/\-]*)?$")


def _public_url(url: str) -> str:
    """A --public-url checked to be a plain http(s) address, ending in a slash."""
    if not PUBLIC_URL.match(url):
        raise UsageError(
            f"--public-url {printable(url)}: not a plain http(s) address (fix: give the scheme, host, port and "
            "path only, e.g. http://192.168.1.20:8000/)"
        )
    return url if url.endswith("/") else url + "/"


def preview(
    workspace: Path, host: str, port: int, folder: Path | None = None, public_url: str | None = None
) -> PreviewServer:
    """A server (not yet serving) for `folder`, by default the workspace's publish folder, with the feed's
    links naming `public_url`, by default the address it listens on."""
    if public_url is not None:
        public_url = _public_url(public_url)
    show = load_show(workspace)
    if folder is None and "://" in show.publish.to:
        raise UsageError(
            f"{SHOW_FILE}: publish.to is {show.publish.to}, not a folder (fix: give the folder to serve with --dir, "
            "e.g. publish with --to feed first)"
        )
    root = folder or workspace / show.publish.to
    if not (root / FEED_KEY).is_file():
        raise BriefingsError(f"{shown(root)}/{FEED_KEY}: nothing published yet (fix: run `briefings publish` first)")
    try:
        server = PreviewServer((host, port), root, show.url)
    except OSError as error:
        raise UsageError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror}) (fix: choose another --port)"
        ) from None
    address = _lan_address() if host == "0.0.0.0" else host
    server.listening = f"http://{address}:{server.server_address[1]}/"
    server.served_base = public_url or server.listening
    return server
