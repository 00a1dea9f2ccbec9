"""The only place that starts other programs (ffmpeg)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
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

    def ffmpeg_stream(self, arguments: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start ffmpeg with its output on a pipe, to read it as it is made (never whole)."""
        argv = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", *arguments]
        log.debug("running %s", subprocess.list2cmdline(argv))
        with self._lock:
            self.runs += 1
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
