"""Measure the archive's search at national scale: 10,000 synthetic briefings with transcripts (issue 13).

Renders the archive (`render_site`, Pagefind's index included) of synthetic briefings made as
scripts/bench_site.py makes them, serves it over HTTP on 127.0.0.1 and, in headless Chromium (Debian's
`chromium`, driven by Playwright), opens the index page and runs a first search: the bytes transferred
for it (every response after the page loaded: Pagefind's script, WebAssembly, index parts and the
shown results' details) and the time from typing to the results on screen. Then the same for later
searches, with the search loaded. Each figure is printed with its target and the ratio of the two.
Timings vary with the machine and whatever else runs on it: compare ratios, not raw times, between runs.

Usage: python scripts/bench_search.py [--briefings N] [--keep DIR]
       python scripts/bench_search.py --site DIR    (searches only, in a site written before with --keep)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_site import CHROMIUM, CHROMIUM_ARGS, LESSON_PHRASE, ROOT, TRANSCRIPT_WORD, line, synthetic

from briefings.config import Show, load_show
from briefings.layout import FEED_KEY
from briefings.serve import PreviewServer
from briefings.site import render_site

TRANSFER_TARGET = 300_000  # bytes, for the first search
TIME_TARGET = 100.0  # milliseconds to results
# Typed into the search box, then timed until the status line says how many briefings match.
SEARCH = """async ([query, filters]) => {
    const form = document.getElementById("search");
    for (const [name, value] of Object.entries(filters)) form.elements.namedItem(name).value = value;
    const input = document.getElementById("search-query");
    input.value = "";
    input.dispatchEvent(new Event("input"));
    const status = document.getElementById("search-status");
    const mark = performance.now();
    const before = performance.getEntriesByType("resource").length;
    input.value = query;
    input.dispatchEvent(new Event("input"));
    while (!/^\\d+ briefings? match/.test(status.textContent)) await new Promise((done) => setTimeout(done, 1));
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
    const fetched = performance.getEntriesByType("resource").slice(before);
    return {
        ms: performance.now() - mark,
        bytes: fetched.reduce((total, entry) => total + entry.transferSize, 0),
        files: fetched.map((entry) => [entry.name.split("/").slice(-2).join("/"), entry.transferSize]),
        status: status.textContent,
    };
}"""


def first_search(base: str, query: str, filters: dict[str, str]) -> dict[str, Any]:
    """A first search in a fresh browser (nothing cached): what it fetched, and how long it took."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(base + "index.html", wait_until="load")
        result: dict[str, Any] = page.evaluate(SEARCH, [query, filters])
        later = []
        for word in ("neglect", "gas meter", TRANSCRIPT_WORD, "zzz qqq", "child"):
            for _ in range(3):
                later.append(page.evaluate(SEARCH, [word, {}])["ms"])
        result["later"] = later
        browser.close()
    return result


def render(show: Show, count: int, site: Path) -> None:
    """Render an archive of `count` synthetic briefings into `site`, and print how long it took."""
    print(f"Generating {count:,} synthetic briefings with eight-to-fifteen-minute transcripts...")
    episodes, transcripts = synthetic(count)  # from some 150 partnerships, as a national archive gathers
    started = time.perf_counter()
    files = render_site(show, episodes, FEED_KEY, transcripts)
    line("render_site, Pagefind's index included", time.perf_counter() - started, "s")
    bundle = {key: len(data) for key, data in files.items() if key.startswith("pagefind/")}
    line(f"search bundle, pagefind/ ({len(bundle):,} files)", sum(bundle.values()), "bytes")
    for key, data in files.items():
        (site / key).parent.mkdir(parents=True, exist_ok=True)
        (site / key).write_bytes(data)
    (site / FEED_KEY).write_text("<rss/>")  # the preview server wants a feed; the site does not read it


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefings", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the site here and keep it")
    parser.add_argument("--site", type=Path, help="search this site (written before with --keep) instead")
    arguments = parser.parse_args()
    show = load_show(ROOT)
    print(f"Load average before: {' '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:
        site = arguments.site or arguments.keep or Path(scratch) / "site"
        if not arguments.site:
            render(show, arguments.briefings, site)
        server = PreviewServer(("127.0.0.1", 0), site, show.url)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            print("First search in headless Chromium, nothing cached, on the site served over HTTP on 127.0.0.1:")
            for name, query, filters in (
                ("a phrase from a key lesson", LESSON_PHRASE, {}),
                ("a common word and a theme filter", "child", {"theme": "neglect"}),
            ):
                result = first_search(base, query, filters)
                print(f"  {name}: {result['status']}")
                line("    transferred", result["bytes"], "bytes", TRANSFER_TARGET)
                line("    from typing to results shown", result["ms"], "ms", TIME_TARGET)
                for file, size in result["files"]:
                    print(f"      {file:<48} {size:>9,} bytes")
            later = result["later"]
            line("later searches (median of 15), to results shown", statistics.median(later), "ms", TIME_TARGET)
            line("slowest of those", max(later), "ms", TIME_TARGET)
        finally:
            server.shutdown()
            server.server_close()
    print(f"Load average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
