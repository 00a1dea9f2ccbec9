"""Stopping: SIGTERM ends every ffmpeg and the command, whatever it was doing at that moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from briefings.runner import STOPPED

# Starts ffmpeg over and over from the main thread and from a worker, so a SIGTERM lands at every
# point of starting, running and reaping one, including inside Popen itself.
BUSY = """
import threading
from briefings.runner import Runner, stop_on_sigterm
stop_on_sigterm()
runner = Runner()
def work():
    while True:
        runner.ffmpeg_run(["-version"])
threading.Thread(target=work).start()  # not a daemon: like the pool of --jobs
print("ready", flush=True)
work()
"""


def test_sigterm_stops_at_any_moment_without_hanging_or_leaving_ffmpeg() -> None:
    chance = random.Random(4)
    for _ in range(25):
        process = subprocess.Popen(
            [sys.executable, "-c", BUSY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        time.sleep(chance.uniform(0.0, 0.3))
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("hung after SIGTERM") from None
        assert process.returncode == STOPPED, process.stderr.read() if process.stderr else ""
        assert _session_ends(process.pid), "an ffmpeg outlived the stop"


def _session_ends(session: int) -> bool:
    """Whether every process of `session` is gone within a few seconds (killed ones are reaped by init)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(session, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.killpg(session, signal.SIGKILL)
    return False
