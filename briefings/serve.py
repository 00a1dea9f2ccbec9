"""Preview a published folder over HTTP, as a podcast app would fetch it (HEAD and Range included)."""

from __future__ import annotations

import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from briefings.layout import content_type

# Text files whose absolute URLs name the public base URL; served with the preview's address instead.
REWRITTEN = {".xml", ".html", ".json", ".opml"}
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
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


class PreviewServer(ThreadingHTTPServer):
    """Serves `root`, replacing the show's public base URL with `served_base`: by default the address
    it listens on, never the request's Host header (which any client can set to any site)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, public_base: str) -> None:
        super().__init__(address, PreviewHandler)
        self.root = root.resolve()
        self.public_base = public_base
        self.served_base = f"http://{address[0]}:{self.server_address[1]}/"


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

    def _respond(self, send_body: bool) -> None:
        path = self._file()
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return
        data: bytes | None = None
        if path.suffix in REWRITTEN:
            data = path.read_bytes().replace(self.server.public_base.encode(), self.server.served_base.encode())
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
