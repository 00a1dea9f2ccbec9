#!/usr/bin/env python3
"""Benchmark publishing 200 small briefings to S3 (moto's server on 127.0.0.1).

Prints: the first publish to the bucket; a re-publish with nothing changed (its write requests must be
0 and its time at most 3 s); the same re-publish without the workspace's record of the last publish
(a full build and compare, also 0 writes); and the first and second runs to a local folder, as a
reference measured on the same machine in the same run. Every run is the real command line (`python -m briefings ... --json`).

All 200 briefings share one 30-second tone recording: the audio cache keys on content, so it is
encoded once (in a `briefings build` before the timed runs); each briefing still gets its own tagged
MP3, page, chapters and feed entry, as a producer's would.

Usage: scripts/bench_publish.py [--episodes N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
BUCKET = "briefings-bench"
PREFIX = "podcast"
BRIEFING = """title: "Briefing {number}: lessons for all professionals"
summary: >-
  A short fictional briefing made for the publishing benchmark, number {number}.
review:
  type: LCSPR
  subject: Child {number}
  partnership: Benchmark Safeguarding Children Partnership
  region: North West
  report_url: https://example.org/reviews/{number}.pdf
  published: 2026-01-01T09:00:00+00:00
author:
  name: Dr Bench Mark
  role: Independent reviewer
key_lessons:
  - Share what you know about the child with every agency involved.
themes: [neglect]
chapters:
  - start: "00:00"
    title: Introduction
  - start: "00:15"
    title: The lesson
recording: recording.wav
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def briefings(workspace: Path, *arguments: str, env: dict[str, str]) -> tuple[float, dict]:
    """Run the CLI once; return its wall time and its JSON summary."""
    start = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "briefings", "-q", "-C", str(workspace), *arguments, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"briefings {' '.join(arguments)} failed:\n{process.stderr}")
    return elapsed, json.loads(process.stdout)


def make_workspace(root: Path, count: int, base_url: str, env: dict[str, str]) -> Path:
    """A workspace with `count` briefings sharing one 30-second tone."""
    from briefings.runner import find_ffmpeg

    workspace = root / "workspace"
    subprocess.run(
        [sys.executable, "-m", "briefings", "init", str(workspace)], check=True, env=env, capture_output=True
    )
    show = workspace / "show.toml"
    show.write_text(
        show.read_text()
        .replace('base_url = "https://briefings.example.org/"', f'base_url = "{base_url}"')
        .replace("briefings@example.org", "briefings@bench.invalid")
    )
    # A publish to a bucket refuses init's placeholder artwork: a plain square stands in for the show's own.
    Image.new("RGB", (1400, 1400), (30, 90, 60)).save(workspace / "artwork.jpg", quality=85)
    tone = root / "tone.wav"
    # A tone with a slow tremolo: 30 s, never silent, like a voice at a steady level.
    subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "sine=frequency=220:duration=30:sample_rate=44100,tremolo=f=3:d=0.4", "-ac", "1", str(tone)],
        check=True,
    )  # fmt: skip
    for number in range(1, count + 1):
        folder = workspace / "episodes" / f"briefing-{number:03d}"
        folder.mkdir(parents=True)
        (folder / "briefing.yaml").write_text(BRIEFING.format(number=number))
        os.link(tone, folder / "recording.wav")
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep the workspace in this folder")
    arguments = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto_log = (root / "moto.log").open("wb")
    server_command = Path(sys.executable).parent / "moto_server"
    server = subprocess.Popen(
        [str(server_command), "-H", "127.0.0.1", "-p", str(port)], stdout=moto_log, stderr=moto_log
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("moto_server did not start") from None
                time.sleep(0.1)
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        s3.create_bucket(Bucket=BUCKET)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
            ],
        }
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

        workspace = make_workspace(root, arguments.episodes, f"{endpoint}/{BUCKET}/{PREFIX}/", env)
        encode_time, built = briefings(workspace, "build", env=env)
        destination = f"s3://{BUCKET}/{PREFIX}"
        first_time, first = briefings(workspace, "publish", "--to", destination, env=env)
        again_time, again = briefings(workspace, "publish", "--to", destination, env=env)
        # Without the workspace's record of the last publish, a re-publish builds and compares everything.
        (workspace / ".briefings" / "published.json").unlink()
        full_time, full = briefings(workspace, "publish", "--to", destination, env=env)
        folder = str(root / "folder")
        local_first_time, _ = briefings(workspace, "publish", "--to", folder, env=env)
        local_again_time, _ = briefings(workspace, "publish", "--to", folder, env=env)

        objects = len(first["written"])
        print(f"briefings: {arguments.episodes} (one shared 30 s recording: {built['encoded']} encode(s), "
              f"first build {encode_time:.1f} s)")  # fmt: skip
        print(
            f"first publish to S3 (moto): {first_time:.2f} s, {objects} objects, {first['write_requests']} write requests"
        )
        print(f"re-publish, nothing changed: {again_time:.2f} s, {again['write_requests']} write requests, "
              f"requests {again['requests']}")  # fmt: skip
        print(f"re-publish without the local record (full build and compare): {full_time:.2f} s, "
              f"{full['write_requests']} write requests")  # fmt: skip
        print(f"reference, same run, local folder: first {local_first_time:.2f} s, re-publish {local_again_time:.2f} s")
        print(
            f"ratios S3/folder: first {first_time / local_first_time:.2f}, re-publish {again_time / local_again_time:.2f}"
        )
        ok = again["write_requests"] == 0 and full["write_requests"] == 0 and again_time <= 3.0
        print(f"re-publish target (0 writes, <= 3 s): {'met' if ok else 'NOT met'}")
        if arguments.keep:
            shutil.copytree(workspace, arguments.keep, dirs_exist_ok=True)
        if not ok:
            sys.exit(1)
    finally:
        server.terminate()
        server.wait()
        moto_log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
