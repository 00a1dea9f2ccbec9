"""Real S3 over HTTP for the tests: moto's server on 127.0.0.1, and a proxy in front of it that records
every request and injects the faults a network and a store produce (dropped connections, 500, 503)."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WRITE_METHODS = ("PUT", "POST", "DELETE")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Run `moto_server` on 127.0.0.1 and yield its endpoint URL; stop it afterwards."""
    port = free_port()
    executable = Path(sys.executable).parent / "moto_server"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
    with log.open("wb") as output:
        process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start: {log.read_text(errors='replace')}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Fault:
    """Answer matching requests with `action`, `times` times (0: always), after letting `skip` of them pass.

    Actions: "drop" (close the connection unanswered), "hang", "lose" (forward the request, so the store
    carries it out, then close the connection: the answer is lost), or an HTTP status.
    """

    method: str
    path: str  # a regular expression searched in the request path
    action: str | int
    times: int = 0
    body: bytes = b""
    hits: int = 0
    skip: int = 0
    passed: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            method == self.method
            and re.search(self.path, path) is not None
            and (self.times == 0 or self.hits < self.times)
        )


@dataclass(frozen=True)
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    headers: dict[str, str]
    status: int | str


@dataclass
class Barrier:
    """Hold requests matching (method, path) until `parties` of them have arrived (or `timeout` passes)."""

    method: str
    path: str
    parties: int
    timeout: float = 20.0
    arrived: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, method: str, path: str) -> None:
        if method != self.method or re.search(self.path, path) is None:
            return
        with self.condition:
            self.arrived += 1
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.arrived >= self.parties, timeout=self.timeout)


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of an S3 endpoint: records requests, injects faults."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.faults: list[Fault] = []
        self.barriers: list[Barrier] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        # Set `policies` to check browser POST uploads as S3 does (moto does not): see PostPolicy.
        self.policies: PostPolicy | None = None
        self.hanging = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass  # the test reads `seen`, not a log

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                for barrier in proxy.barriers:
                    barrier.wait(self.command, self.path)
                refusal = (
                    proxy.policies.refusal(self.path, headers, body)
                    if proxy.policies and self.command == "POST"
                    else None
                )
                if refusal is not None:
                    status, code, message = refusal
                    data = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
                    proxy._record(Seen(self.command, self.path, headers, status))
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                fault = proxy._fault(self.command, self.path)
                if fault is not None and fault.action == "lose":
                    upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                    forwarded = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
                    upstream.request(self.command, self.path, body=body, headers=forwarded)
                    response = upstream.getresponse()
                    response.read()
                    upstream.close()
                    proxy._record(Seen(self.command, self.path, headers, f"lose {response.status}"))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    proxy._record(Seen(self.command, self.path, headers, str(fault.action)))
                    if fault.action == "drop":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if fault.action == "hang":
                        proxy.hanging.set()
                        proxy.release.wait(60)
                        self.close_connection = True
                        return
                    status = int(fault.action)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(fault.body)))
                    self.end_headers()
                    self.wfile.write(fault.body)
                    return
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                forwarded = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=forwarded)
                response = upstream.getresponse()
                data = response.read()
                proxy._record(Seen(self.command, self.path, headers, response.status))
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.passed < fault.skip:
                        fault.passed += 1
                        continue
                    fault.hits += 1
                    return fault
        return None

    def _record(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)

    def reset(self) -> None:
        """Forget recorded requests, faults and barriers."""
        with self.lock:
            self.seen.clear()
            self.faults.clear()
            self.barriers.clear()

    def writes(self) -> list[Seen]:
        """Requests that would change the bucket."""
        with self.lock:
            return [seen for seen in self.seen if seen.method in WRITE_METHODS]

    def close(self) -> None:
        """Stop the proxy."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def form_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (name, value) of each part of a multipart/form-data body, in order, byte for byte."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        return []
    parts = []
    for chunk in body.split(b"--" + boundary.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, value = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        parts.append((name.group(1).decode() if name else "", value.removesuffix(b"\r\n")))
    return parts


@dataclass
class PostPolicy:
    """Check a browser POST upload as S3 does: the SigV4 signature of the policy, its expiry, every
    condition, and no form field the policy does not name.
    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html"""

    secret: str
    # Seconds to add to the clock, to see an invitation as it will be after it expires.
    ahead: float = 0.0

    def refusal(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str] | None:
        """(status, S3 error code, message) for a POST S3 would refuse; None for one it would accept."""
        parts = form_parts(headers.get("content-type", ""), body)
        names = [name for name, _ in parts]
        if "file" not in names:
            return None  # not a browser upload
        form = {name.lower(): value.decode("utf-8", "replace") for name, value in parts[: names.index("file")]}
        size = len(dict(parts)["file"])
        credential = form.get("x-amz-credential", "")
        _, day, region, service, _ = (credential.split("/") + [""] * 5)[:5]
        key = b"AWS4" + self.secret.encode()
        for step in (day, region, service, "aws4_request"):
            key = hmac.new(key, step.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, form.get("policy", "").encode(), hashlib.sha256).hexdigest()
        if form.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or not hmac.compare_digest(
            expected, form.get("x-amz-signature", "")
        ):
            return (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        policy = json.loads(base64.b64decode(form["policy"]))
        expires = calendar.timegm(time.strptime(policy["expiration"][:19], "%Y-%m-%dT%H:%M:%S"))
        if time.time() + self.ahead > expires:
            return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
        form["bucket"] = path.strip("/").split("/")[0]
        covered = {"policy", "x-amz-signature", "bucket"}
        for condition in policy["conditions"]:
            if isinstance(condition, dict):
                ((name, value),) = condition.items()
                condition = ["eq", f"${name}", value]
            operator, name, value = condition
            if operator == "content-length-range":
                if not name <= size <= value:
                    return (
                        400,
                        "EntityTooLarge" if size > value else "EntityTooSmall",
                        "Your proposed upload size is outside the range the policy allows.",
                    )
                continue
            field_name = name.lstrip("$").lower()
            covered.add(field_name)
            given = form.get(field_name, "")
            if (operator == "eq" and given != value) or (operator == "starts-with" and not given.startswith(value)):
                return (
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
                )
        extra = sorted(set(form) - covered)
        if extra:
            return 403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}"
        return None


def s3_error(code: str, message: str, status: int) -> Fault:
    """A canned S3 error response body for a fault (status is given separately)."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"<RequestId>TEST</RequestId></Error>"
    ).encode()
    return Fault("GET", "", status, body=body)
