"""Preview a published folder over HTTP, as a podcast app would fetch it (HEAD and Range included)."""

from __future__ import annotations

import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from briefings.build import CONTENT_TYPES

# Text files whose absolute URLs name the public base URL; served with the preview's address instead.
REWRITTEN = {".xml", ".html", ".json", ".opml"}
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
    if not first:
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


class PreviewServer(ThreadingHTTPServer):
    """Serves `root`, replacing the show's public base URL with the address each request came to."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, public_base: str) -> None:
        super().__init__(address, PreviewHandler)
        self.root = root.resolve()
        self.public_base = public_base


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD with single byte ranges (RFC 9110), which podcast apps use to seek and resume."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        pass  # quiet: the CLI prints where to subscribe; access logs would drown it

    def _file(self) -> Path | None:
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        if any(part.startswith(".") for part in Path(relative).parts):
            return None  # the manifest and partial uploads are not for listeners
        path = (self.server.root / relative).resolve()
        if not path.is_relative_to(self.server.root):
            return None
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    def _base(self) -> str:
        host = self.headers.get("Host", "")
        if not SAFE_HOST.match(host):
            host = f"{self.server.server_name}:{self.server.server_port}"
        return f"http://{host}/"

    def _respond(self, send_body: bool) -> None:
        path = self._file()
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return
        data: bytes | None = None
        if path.suffix in REWRITTEN:
            data = path.read_bytes().replace(self.server.public_base.encode(), self._base().encode())
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
        self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
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
