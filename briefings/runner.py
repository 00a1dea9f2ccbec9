"""The only place that starts other programs (ffmpeg, and pagefind for the archive's search)."""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from briefings.errors import BriefingsError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# Exit status of a program ended by SIGTERM, as shells report it.
STOPPED = 128 + signal.SIGTERM

# Every ffmpeg running now, so that a stop can end them all, whichever thread started them. No lock:
# adding, discarding and copying a set are atomic in CPython, and the signal handler must never wait.
_running: set[subprocess.Popen[Any]] = set()
_stopping = threading.Event()
_spawning = threading.local()


def stop_on_sigterm() -> None:
    """Make SIGTERM end every ffmpeg, start no more and exit with STOPPED, running cleanup (`finally`
    blocks) on the way out so no partial file is left behind."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)


def _stop(signal_number: int, frame: object) -> None:
    if _stopping.is_set():
        return  # a second SIGTERM: already stopping
    _stopping.set()
    for process in list(_running):
        process.kill()
    # Raising inside Popen would lose the process it is starting: `_started` exits once it has it.
    if not getattr(_spawning, "now", False):
        raise SystemExit(STOPPED)


@contextmanager
def _started(argv: Sequence[str], **options: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start `argv`, tracked so a stop can end it; killed if the caller fails while it runs."""
    _spawning.now = True
    try:
        if _stopping.is_set():
            raise SystemExit(STOPPED)
        process = subprocess.Popen(argv, **options)
        _running.add(process)
    finally:
        _spawning.now = False
    try:
        with process:
            try:
                if _stopping.is_set():  # stopped while it started: the handler may not have seen it
                    raise SystemExit(STOPPED)
                yield process
            except BaseException:
                process.kill()
                raise
    finally:
        _running.discard(process)


def each(function: Callable[[T], R], items: Iterable[T], jobs: int) -> list[R]:
    """`function` applied to every item, `jobs` at a time, in order. If the caller is stopped (Ctrl+C,
    SIGTERM) or one item fails, items not yet started are not started."""
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        return list(pool.map(function, items))
    finally:
        pool.shutdown(cancel_futures=True)


def find_ffmpeg() -> str:
    """The ffmpeg to use: $FFMPEG_BINARY, else the imageio-ffmpeg wheel's, else the one on PATH."""
    configured = os.environ.get("FFMPEG_BINARY")
    if configured:
        if shutil.which(configured) is None:
            raise BriefingsError(
                f"FFMPEG_BINARY={configured}: no such program (fix: unset it or give the path to ffmpeg)"
            )
        return configured
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found is None:
            raise BriefingsError(
                "ffmpeg not found (fix: `pip install imageio-ffmpeg`, or install ffmpeg on PATH)"
            ) from None
        return found


@dataclass
class Runner:
    """Runs ffmpeg, counting runs so callers (and tests) can see what work was done."""

    ffmpeg: str = field(default_factory=find_ffmpeg)
    runs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _argv(self, *arguments: str) -> list[str]:
        """The command line for one ffmpeg run with `arguments`, logged and counted."""
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
        return argv

    def ffmpeg_run(self, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run ffmpeg with `arguments`; return the finished process (stderr holds its report)."""
        argv = self._argv(*arguments)
        options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "errors": "replace"}
        with _started(argv, **options) as process:
            stdout, stderr = process.communicate()
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)

    def ffmpeg_stream(
        self, arguments: Sequence[str], on_time: Callable[[float], None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ffmpeg with `arguments`, calling `on_time` with the seconds of output written so far."""
        # `-progress pipe:1` prints key=value blocks on stdout about twice a second (ffmpeg docs, "-progress");
        # stderr goes to a file so a long report can never fill a pipe and stall ffmpeg.
        argv = self._argv("-progress", "pipe:1", *arguments)
        with tempfile.TemporaryFile() as report:
            with _started(argv, stdout=subprocess.PIPE, stderr=report, text=True, errors="replace") as process:
                assert process.stdout is not None
                for line in process.stdout:
                    if on_time is not None and line.startswith("out_time_us="):
                        microseconds = line.partition("=")[2].strip()
                        if microseconds.isdigit():
                            on_time(int(microseconds) / 1_000_000)
            report.seek(0)
            stderr = report.read().decode("utf-8", errors="replace")
        return subprocess.CompletedProcess(argv, process.returncode, "", stderr)

    @contextmanager
    def ffmpeg_pipe(self, arguments: Sequence[str]) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
        """Run ffmpeg with its output on a pipe, to read it as it is made (never whole); also yields the
        file its report (stderr) goes to, which a pipe could not hold: a damaged file fills one with errors."""
        argv = self._argv("-loglevel", "error", *arguments)
        with tempfile.TemporaryFile() as report, _started(argv, stdout=subprocess.PIPE, stderr=report) as process:
            yield process, report


def _pagefind_message(number: int, payload: dict[str, object]) -> bytes:
    """One request to Pagefind's service: base64 of its JSON, then a comma (the framing of the pagefind
    wheel's own client, pagefind/service/__init__.py)."""
    return base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode("utf-8")) + b","


def _pagefind_answers(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The payload of each answer Pagefind's service writes to `stream`, framed as `_pagefind_message`."""
    buffer = bytearray()
    searched = 0  # where the next comma can be: the bundle comes in one answer of megabytes
    while chunk := stream.read1(1 << 20):  # type: ignore[attr-defined]  # a BufferedReader
        buffer += chunk
        while (end := buffer.find(b",", searched)) != -1:
            yield json.loads(base64.b64decode(buffer[:end]))["payload"]
            del buffer[: end + 1]
            searched = 0
        searched = len(buffer)


@dataclass(frozen=True)
class PagefindIndexing:
    """Pagefind indexing in its own process (`pagefind_indexing`): `add` gives it a document (HTML, by the
    address a result gives) to index at once; `done` says there are no more, so it makes the search bundle;
    `finished` waits for the bundle's files, by path; `stop` ends it when its bundle is not wanted after all."""

    add: Callable[[str, str], None]
    done: Callable[[], None]
    finished: Callable[[], dict[str, bytes]]
    stop: Callable[[], None]


# Documents go to Pagefind in writes of about this many bytes: handed one at a time to the thread that writes
# them, each would wait for Python's lock (up to 5 ms: sys.getswitchinterval) while the caller makes the next,
# and Pagefind, which takes half a millisecond a document, would wait for them.
_BATCH = 1 << 18


@contextmanager
def pagefind_indexing() -> Iterator[PagefindIndexing]:
    """Start Pagefind (the binary in the pagefind[bin] wheel) indexing the documents the context's `add` is
    given, as they come. Pagefind is killed if the caller fails, or leaves, before it has the bundle.

    Pagefind runs as a service (`pagefind --service`, which its own Python and Node indexing APIs drive:
    https://pagefind.app/docs/py-api/): the documents go to it down a pipe and the bundle comes back up one.
    Its command line indexes a folder into a folder: 10,500 documents written for it, then 10,500 files of its
    own written (one per result, which the archive does not publish), in 7 of its 9 seconds on a national
    archive (many files in one folder: https://github.com/Pagefind/pagefind/issues/842). Not through the
    wheel's Python API itself: that reads one answer each tenth of a second (17 minutes for 10,000
    documents) and no answer over 2 MiB, and the bundle is one answer.
    """
    from pagefind.service import get_executable  # only builds that index the archive need it

    executable = get_executable()
    if executable is None:
        raise BriefingsError("pagefind: its binary is missing (fix: pip install 'pagefind[bin]')")
    argv = [str(executable), "--service"]
    log.debug("running %s", subprocess.list2cmdline(argv))
    found: dict[str, bytes] = {}
    bundled = threading.Event()  # the bundle came, whole
    failed: list[str] = []
    # Its report (stderr) goes to a file, not a pipe: a pipe nobody reads while the pages render could fill
    # and stop it.
    with (
        tempfile.TemporaryFile() as report,
        _started(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=report) as process,
    ):
        assert process.stdin is not None and process.stdout is not None
        requests, answers = process.stdin, process.stdout
        # Requests encoded by the caller, written by a thread of their own: a pipe to a program slower than the
        # caller fills, and a write to a full pipe waits (without Python's lock). None: no more.
        queued: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        batch = [_pagefind_message(0, {"type": "NewIndex", "config": None})]
        added, batch_bytes = 0, len(batch[0])

        def add(url: str, html: str) -> None:
            nonlocal added, batch_bytes
            added += 1
            message = _pagefind_message(
                added, {"type": "AddFile", "index_id": 0, "url": url, "file_path": None, "file_contents": html}
            )
            batch.append(message)
            batch_bytes += len(message)
            if batch_bytes >= _BATCH:
                queued.put(b"".join(batch))
                batch.clear()
                batch_bytes = 0

        def send() -> None:
            try:
                while (data := queued.get()) is not None:
                    requests.write(data)
                requests.flush()
            except (BrokenPipeError, ValueError):
                pass  # it stopped (or was stopped): `finished` says why

        def receive() -> None:
            """Read its answers until the bundle (one answer: the service answers in the order asked) or an
            error; answers end early when it stops."""
            try:
                for payload in _pagefind_answers(answers):
                    if payload["type"] == "Error":
                        failed.append(str(payload.get("message")))
                        return
                    if payload["type"] == "GetFiles":
                        found.update({file["path"]: base64.b64decode(file["content"]) for file in payload["files"]})
                        bundled.set()
                        return
            except (ValueError, KeyError, TypeError):  # not an answer as its own client reads them
                failed.append(
                    "an answer it gave could not be read (fix: unset PAGEFIND_BINARY_PATH, or pip install -e .)"
                )

        threads = [threading.Thread(target=send, daemon=True), threading.Thread(target=receive, daemon=True)]
        for thread in threads:
            thread.start()
        closed = threading.Event()  # no more requests: the bundle asked for, or Pagefind stopped

        def stop() -> None:
            process.kill()
            if not closed.is_set():
                closed.set()
                queued.put(None)

        def done() -> None:
            if not closed.is_set():
                closed.set()
                batch.append(_pagefind_message(added + 1, {"type": "GetFiles", "index_id": 0}))
                queued.put(b"".join(batch))
                queued.put(None)

        def finished() -> dict[str, bytes]:
            done()
            threads[1].join()
            if not bundled.is_set():
                if not failed:  # its answers ended before the bundle: it is stopping, or has stopped
                    try:
                        failed.append(f"it stopped (exit status {process.wait(timeout=5)})")
                    except subprocess.TimeoutExpired:
                        failed.append("it stopped answering")
                process.kill()  # what else it would do is not wanted
            threads[0].join()
            with suppress(BrokenPipeError):  # it has ended: said below
                requests.close()  # the service ends when its requests do
            if process.wait() != 0 and not failed:
                failed.append(f"it stopped (exit status {process.returncode})")
            if failed:
                report.seek(0)
                printed = report.read().decode("utf-8", "replace").splitlines()
                said = " ".join(dict.fromkeys(line.strip() for line in printed if line.strip()))  # one line, no repeats
                # What went wrong whole, then the start of its report (a panic's message before its backtrace).
                raise BriefingsError(
                    f"pagefind: indexing the archive's search failed: {' '.join(failed)} {said[:400]}".rstrip()
                )
            return found

        try:
            yield PagefindIndexing(add, done, finished, stop)
        finally:
            if not bundled.is_set():
                stop()  # its bundle not wanted (kept from before), or the caller failed
