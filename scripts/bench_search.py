"""Measure the archive's search at national scale: 10,000 synthetic briefings with transcripts (issue 13).

Renders the archive (`render_site`, Pagefind's index included) of synthetic briefings made as
scripts/bench_site.py makes them, serves it over HTTP on 127.0.0.1 with `briefings serve`'s server
(which compresses text as a CDN does: gzip, for a browser that accepts it) and, in headless Chromium
(Debian's `chromium`, driven by Playwright, nothing cached), searches as a person does on a phone:

- a first search: click the search box (or, with a filter, open the filters and choose it first), then
  type the query key by key, 150 ms a key (a steady typist; faster typing leaves the search less time
  to load). The page searches as it is typed, so every search the typing started counts.
- figures, each with its target: (a) every byte transferred from the first touch of the search form to
  the results shown (each response's transferSize: headers and body as sent, compressed or not; the
  search loaded on the touch, the parts fetched for words half typed, the results' records; nothing is
  left out, and whatever the page fetched after it loaded and before the touch counts too), and (b) the
  time from the last keystroke to the results on screen (the next frame drawn after the status line says
  how many briefings match the whole query), the target's measure, of which the first 300 ms are the
  pause the search waits for (archive.js: TYPING_PAUSE, as Pagefind's own search box waits); then (c),
  with no target, the time from the first touch to the results, which includes the typing.
- (d) the same first search typed and ended with Enter, which searches at once: Enter to results shown,
  the search's own time.
- each first search is made three times, each in a fresh browser: times are the median (each run's is
  printed too), bytes the most.
- later searches, with the search loaded: the box cleared and the next query typed the same way, timed
  from its last keystroke, and ended with Enter, timed from Enter.

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
from typing import TYPE_CHECKING, Any

from bench_site import CHROMIUM, CHROMIUM_ARGS, LESSON_PHRASE, ROOT, TRANSCRIPT_WORD, line, synthetic

from briefings.config import Show, load_show
from briefings.layout import FEED_KEY
from briefings.serve import PreviewServer
from briefings.site import render_site

if TYPE_CHECKING:
    from playwright.sync_api import Page

TRANSFER_TARGET = 300_000  # bytes, for the first search
TIME_TARGET = 100.0  # milliseconds to results
KEY_DELAY = 150  # milliseconds between keys: a steady typist
FIRST_RUNS = 3  # each first search, in a fresh browser each time: figures vary from run to run
# Notes, in the page, the first touch of the search form, each key pressed, and when the results of the
# whole `query` are on screen (the status line says how many briefings match it, and a frame is drawn).
WATCH = """(query) => {
    performance.setResourceTimingBufferSize(100000); // the default keeps 250: every fetch counts
    const watch = { touched: null, key: null, shown: null, before: performance.getEntriesByType("resource").length };
    window.benchWatch = watch;
    const form = document.getElementById("search");
    const touch = (event) => { if (watch.touched === null) watch.touched = event.timeStamp; };
    form.addEventListener("pointerdown", touch, true);
    form.addEventListener("focusin", touch, true);
    document.addEventListener("keydown", (event) => { watch.key = event.timeStamp; }, true);
    const status = document.getElementById("search-status");
    const observer = new MutationObserver(() => {
        if (!/^\\d+ briefings? match/.test(status.textContent) || !status.textContent.includes("\u201c" + query + "\u201d")) return;
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => { watch.shown = performance.now(); }, 0));
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
}"""
MEASURED = """() => {
    const watch = window.benchWatch;
    const fetched = performance.getEntriesByType("resource").slice(watch.before);
    return {
        bytes: fetched.reduce((total, entry) => total + entry.transferSize, 0),
        files: fetched.map((entry) => [entry.name.split("?")[0].split("/").slice(-2).join("/"), entry.transferSize]),
        after_key: watch.shown - watch.key,
        after_touch: watch.shown - watch.touched,
        status: document.getElementById("search-status").textContent,
    };
}"""


def typed(page: Page, query: str, enter: bool, watched: bool = False) -> dict[str, Any]:
    """Type `query` into the search box as a person does (then, if `enter`, press Enter), and what it took
    until its results showed (from the search form's first touch since `WATCH`: this click, unless `watched`
    began before it)."""
    if not watched:
        page.evaluate(WATCH, query)
    page.click("#search-query")
    page.keyboard.type(query, delay=KEY_DELAY)
    if enter:
        page.wait_for_timeout(KEY_DELAY)
        page.keyboard.press("Enter")
    page.wait_for_function("() => window.benchWatch.shown !== null", timeout=60_000)
    measured: dict[str, Any] = page.evaluate(MEASURED)
    return measured


def first_search(base: str, query: str, filters: dict[str, str], enter: bool, later: bool) -> dict[str, Any]:
    """A first search in a fresh browser (nothing cached), as typed (then Enter, if `enter`), then (if `later`)
    later ones in the same page, typed the same way."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(base + "index.html", wait_until="load")
        if filters:  # chosen first, as a person narrowing the list does: counted from opening the filters
            page.evaluate(WATCH, query)
            page.click("#more-filters summary")
            for name, value in filters.items():
                page.select_option(f"#filter-{name}", value)
        result = typed(page, query, enter, watched=bool(filters))
        result["later"] = []
        for word in ("neglect", "gas meter", TRANSCRIPT_WORD, "zzz qqq", "child") if later else ():
            for _ in range(3):
                page.fill("#search-query", "")
                result["later"].append(typed(page, word, enter)["after_key"])
        browser.close()
    return result


def figures(runs: list[dict[str, Any]], name: str, key: str, target: float | None = None) -> None:
    """One figure of the first search's runs: the median of times, the most of bytes."""
    values = [run[key] for run in runs]
    if key == "bytes":
        line(f"    {name}", max(values), "bytes", target)
    else:
        line(f"    {name}", statistics.median(values), "ms", target)
        print(f"      each run: {', '.join(f'{value:,.1f}' for value in values)} ms")


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
            print(
                "First search in headless Chromium, nothing cached, on the site served over HTTP on 127.0.0.1 (gzip):"
            )
            for name, query, filters in (
                ("a phrase from a key lesson", LESSON_PHRASE, {}),
                ("a common word and a theme filter", "child", {"theme": "neglect"}),
            ):
                typed_runs = [
                    first_search(base, query, filters, False, run == FIRST_RUNS) for run in range(1, 1 + FIRST_RUNS)
                ]
                entered_runs = [
                    first_search(base, query, filters, True, run == FIRST_RUNS) for run in range(1, 1 + FIRST_RUNS)
                ]
                result, entered = typed_runs[-1], entered_runs[-1]
                print(f"  {name}, typed at {KEY_DELAY} ms a key, {FIRST_RUNS} times: {result['status']}")
                figures(typed_runs, "(a) transferred, first touch to results", "bytes", TRANSFER_TARGET)
                figures(typed_runs, "(b) last keystroke to results shown", "after_key", TIME_TARGET)
                figures(typed_runs, "(c) first touch to results shown", "after_touch")
                for file, size in result["files"]:
                    print(f"      {file:<48} {size:>9,} bytes")
                figures(entered_runs, "(d) typed, then Enter: Enter to results shown", "after_key", TIME_TARGET)
                figures(entered_runs, "    transferred, first touch to results", "bytes", TRANSFER_TARGET)
            for how, later in (("last key", result["later"]), ("Enter", entered["later"])):
                line(f"later searches (median of 15), {how} to results", statistics.median(later), "ms", TIME_TARGET)
                line("  slowest of those", max(later), "ms", TIME_TARGET)
        finally:
            server.shutdown()
            server.server_close()
    print(f"Load average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
