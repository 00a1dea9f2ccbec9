"""Benchmark a national archive: `briefings harvest` of 150 sources and the central build of 10,000 briefings.

Generates 150 source shows of 70 briefings each (their feed.xml and catalogue.json, as briefings
publishes them, with invented text) and serves them from 127.0.0.1 with ETags, as S3 and CDNs answer.
Then, in one run, times and measures:

  (a) the first harvest of all 150 sources into a new central workspace;
  (b) a harvest with nothing changed (target: at most 10 s, each source one request answered 304),
      next to a reference measured in the same run: the same 150 conditional GETs made one after
      another by a bare `requests` loop;
  (c) a harvest after one source changed a briefing;
  (d) `briefings build` of the central show: 10,500 briefings in the archive, feeds and catalogue
      (target: at most 15 s, the median of three builds from nothing; the memory of the process and
      Pagefind's at most 1 GB).

Each line gives the measurement, its target and the ratio. Needs the `bench` extra (psutil):
pip install -e '.[bench]'. Usage: python scripts/bench_harvest.py [--sources 150] [--briefings 70]
It is not part of the test suite: timings depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests
from bench_audio import timed  # the same timing and memory watch as the audio benchmark

BUILDS = 3
THEMES = ["neglect", "domestic abuse", "parental mental health", "information sharing", "professional curiosity"]
TYPES = ["serious case review", "local child safeguarding practice review", "safeguarding adults review"]
WORDS = [
    "child",
    "home",
    "school",
    "health",
    "visitor",
    "referral",
    "police",
    "record",
    "share",
    "concern",
    "family",
    "worker",
    "agency",
]


class Handler(BaseHTTPRequestHandler):
    root: Path
    answered: list[int]

    def do_GET(self) -> None:
        file = self.root / self.path.lstrip("/")
        if not file.is_file():
            self.send_response(404)
            self.end_headers()
            return
        data = file.read_bytes()
        tag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == tag:
            self.answered.append(304)
            self.send_response(304)
            self.end_headers()
            return
        self.answered.append(200)
        self.send_response(200)
        self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments: object) -> None:
        pass


@contextlib.contextmanager
def serving(root: Path, answered: list[int]) -> Iterator[str]:
    handler = type("Bound", (Handler,), {"root": root, "answered": answered})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def sentence(number: int, length: int) -> str:
    return " ".join(WORDS[(number * 7 + index * 3) % len(WORDS)] for index in range(length)).capitalize() + "."


def entry(base: str, source: int, number: int) -> dict[str, object]:
    """One briefing as a source's catalogue gives it (invented text)."""
    slug = f"child-{number}"
    published = datetime(2020, 1, 1, 10, tzinfo=UTC) + timedelta(days=(source * 70 + number) % 2500)
    return {
        "guid": f"{source:03d}-{number:03d}-guid",
        "slug": slug,
        "title": f"Child {number} of partnership {source}: {sentence(number, 5)}",
        "summary": sentence(number, 60),
        "published": published.isoformat(),
        "page": f"{base}briefings/{slug}/index.html",
        "audio": {"url": f"{base}media/{slug}.mp3", "type": "audio/mpeg", "length": 1_000_000, "duration": 600},
        "author": {"name": f"Reviewer {number}", "role": "Independent reviewer"},
        "review": {
            "type": TYPES[number % len(TYPES)],
            "subject": f"Child {number}",
            "partnership": f"Partnership {source}",
            "region": f"Region {source % 9}",
            "published": published.isoformat(),
            "report": f"https://partnership-{source}.example.org/reports/{slug}.pdf",
        },
        "lessons": [sentence(number + lesson, 20) for lesson in range(3)],
        "themes": [THEMES[number % len(THEMES)], THEMES[(number + 2) % len(THEMES)]],
        "chapters": None,
        "transcript": None,
        "feeds": [],
    }


def write_source(root: Path, url: str, source: int, briefings: int, edited: bool = False) -> None:
    folder = root / f"source-{source}"
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{url}source-{source}/"
    entries = [entry(base, source, number) for number in range(briefings)]
    if edited:
        entries[0]["title"] = "Revised: " + str(entries[0]["title"])
    catalogue = {"version": "1.0", "show": {"title": f"Partnership {source} briefings", "url": base},
                 "briefings": entries, "withdrawn": []}  # fmt: skip
    (folder / "catalogue.json").write_text(json.dumps(catalogue))
    (folder / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:briefings="https://briefings.example.org/namespace/1.0">'
        f"<channel><title>Partnership {source}</title><link>{base}</link><description>Briefings</description>"
        f'<briefings:catalogue url="{base}catalogue.json" type="application/json"/></channel></rss>'
    )


def line(what: str, measured: float, unit: str, target: float | None = None) -> str:
    if target is None:
        return f"  {what:<44} {measured:8.2f} {unit}"
    verdict = "met" if measured <= target else "NOT met"
    return f"  {what:<44} {measured:8.2f} {unit}  target <= {target:g} {unit}: {measured / target:.2f}x ({verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=150)
    parser.add_argument("--briefings", type=int, default=70)
    arguments = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    print(f"{platform.system()} {cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    briefings_cli = [sys.executable, "-m", "briefings"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        answered: list[int] = []
        with serving(folder / "www", answered) as url:
            for source in range(arguments.sources):
                write_source(folder / "www", url, source, arguments.briefings)
            central = folder / "central"
            subprocess.run(
                [*briefings_cli, "init", str(central), "--title", "National"], check=True, capture_output=True
            )
            sources = ", ".join(f'"{url}source-{source}/feed.xml"' for source in range(arguments.sources))
            with (central / "show.toml").open("a") as show:
                show.write(f"\n[harvest]\nsources = [{sources}]\n")
            harvest = [*briefings_cli, "-q", "-C", str(central), "harvest"]
            total = arguments.sources * arguments.briefings
            print(f"{arguments.sources} sources of {arguments.briefings} briefings ({total} in all):")
            print(line("first harvest", timed(harvest).seconds, "s"))

            answered.clear()
            seconds = timed(harvest).seconds
            not_modified = answered.count(304)
            print(line("harvest, nothing changed", seconds, "s", 10))
            print(f"  {'':<44} {len(answered)} requests, {not_modified} answered 304 (target: "
                  f"{arguments.sources} and {arguments.sources})")  # fmt: skip
            with requests.Session() as client:
                start = time.perf_counter()
                for source in range(arguments.sources):
                    catalogue = f"{url}source-{source}/catalogue.json"
                    tag = client.get(catalogue).headers["ETag"]
                    client.get(catalogue, headers={"If-None-Match": tag})
                bare = (time.perf_counter() - start) / 2
            print(line("reference: the same conditional GETs, bare loop", bare, "s"))

            write_source(folder / "www", url, 0, arguments.briefings, edited=True)
            seconds = timed(harvest).seconds
            print(line("harvest, one source changed", seconds, "s"))

            # Three builds from nothing, the median judged: this machine's time for the same work varies by a
            # third from minute to minute. Each one's outputs are moved aside, not deleted: on a disk mounted
            # with `discard`, deleting 20,000 files slows the writes that follow for a minute or more.
            builds = []
            for number in range(BUILDS):
                if number:
                    for made in (central / ".briefings").iterdir():
                        if made.name != "harvest":
                            made.rename(folder / f"{made.name}-{number}")
                builds.append(timed([*briefings_cli, "-q", "-C", str(central), "build"]))
            seconds = sorted(build.seconds for build in builds)
            print(line(f"central build (median of {BUILDS})", statistics.median(seconds), "s", 15))
            print(f"  {'':<44} {', '.join(f'{each:.2f}' for each in seconds)} s")
            print(line("  its peak memory, the highest", max(build.peak_mb for build in builds), "MB", 1024))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
