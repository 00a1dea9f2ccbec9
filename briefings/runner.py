"""The only place that starts other programs (ffmpeg, and pagefind for the archive's search)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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


@contextmanager
def pagefind_started(site: Path, output: Path) -> Iterator[Callable[[], None]]:
    """Start indexing the HTML files under `site` with Pagefind (the binary in the pagefind[bin] wheel) into
    `output`, in its own process; the context gives a function that waits for it to finish. Pagefind is
    killed if the caller fails before."""
    from pagefind.service import get_executable  # only builds that index the archive need it

    executable = get_executable()
    if executable is None:
        raise BriefingsError("pagefind: its binary is missing (fix: pip install 'pagefind[bin]')")
    argv = [str(executable), "--site", str(site), "--output-path", str(output), "--silent"]
    log.debug("running %s", subprocess.list2cmdline(argv))
    # What it prints goes to a file, not a pipe: a pipe nobody reads while the pages render could fill and stop it.
    with tempfile.TemporaryFile() as report, _started(argv, stdout=report, stderr=subprocess.STDOUT) as process:

        def finished() -> None:
            if process.wait() != 0:
                report.seek(0)
                lines = report.read().decode("utf-8", "replace").splitlines()
                said = " ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))  # one line, no repeats
                raise BriefingsError(f"pagefind: indexing the archive's search failed: {said[-500:]}")

        yield finished
