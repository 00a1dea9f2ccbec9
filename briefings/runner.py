"""The only place that starts other programs (ffmpeg)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from briefings.errors import BriefingsError

log = logging.getLogger(__name__)


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
        return subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)

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
            with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=report, text=True, errors="replace") as process:
                assert process.stdout is not None
                for line in process.stdout:
                    if on_time is not None and line.startswith("out_time_us="):
                        microseconds = line.partition("=")[2].strip()
                        if microseconds.isdigit():
                            on_time(int(microseconds) / 1_000_000)
            report.seek(0)
            stderr = report.read().decode("utf-8", errors="replace")
        return subprocess.CompletedProcess(argv, process.returncode, "", stderr)

    def ffmpeg_pipe(self, arguments: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start ffmpeg with its output on a pipe, to read it as it is made (never whole)."""
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
