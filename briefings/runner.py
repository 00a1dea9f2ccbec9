"""The only place that starts other programs (ffmpeg)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from briefings.errors import BriefingsError

log = logging.getLogger(__name__)

# Every ffmpeg running now, so that a stop (SIGTERM) can end them all, whichever thread started them.
_running: set[subprocess.Popen[Any]] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def stop_all() -> None:
    """End every ffmpeg this process started and start no more: the command is being stopped."""
    _stopping.set()
    with _running_lock:
        for process in _running:
            process.kill()


@contextmanager
def _started(argv: Sequence[str], **options: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start `argv`, tracked so `stop_all` can end it; killed if the caller fails while it runs."""
    with _running_lock:
        if _stopping.is_set():
            raise BriefingsError("stopped")
        process = subprocess.Popen(argv, **options)
        _running.add(process)
    try:
        with process:
            try:
                yield process
            except BaseException:
                process.kill()
                raise
    finally:
        with _running_lock:
            _running.discard(process)


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

    def ffmpeg_run(self, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run ffmpeg with `arguments`; return the finished process (stderr holds its report)."""
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
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
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
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
    def ffmpeg_pipe(self, arguments: Sequence[str]) -> Iterator[subprocess.Popen[bytes]]:
        """Run ffmpeg with its output on a pipe, to read it as it is made (never whole)."""
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
        with _started(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
            yield process
