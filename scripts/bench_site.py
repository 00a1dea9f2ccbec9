"""Measure the archive at scale: 2,000 synthetic briefings, against the budgets in issue 7.

Prints how long `render_site` takes and how long writing its files takes (the site's share of a build;
audio is excluded), the size of the pages and of the search index, and how long a search takes in
headless Chromium (Debian's `chromium`, driven by Playwright) on the site served over HTTP on 127.0.0.1.
Each figure is printed with its budget and the ratio of the two. Timings vary with the machine and
whatever else runs on it: run it on a quiet machine, and compare ratios, not raw times, between runs.

Usage: python scripts/bench_site.py [--briefings N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from briefings.build import Stager
from briefings.config import load_show
from briefings.episode import Episode, episode_guid
from briefings.layout import FEED_KEY, PAGES
from briefings.serve import PreviewServer
from briefings.site import render_site
from briefings.submission import Briefing

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
BUILD_BUDGET = 3.0  # seconds
INDEX_BUDGET = 1_000_000  # bytes
SEARCH_BUDGET = 100.0  # milliseconds
# A needle planted in one briefing's key lessons, and a word planted only in one transcript.
LESSON_PHRASE = "check the gas meter readings"
TRANSCRIPT_WORD = "quarterdeck"
REGIONS = [
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales",
]  # fmt: skip
TYPES = ["SCR", "LCSPR", "national", "SAR", "DHR"]
PARTNERSHIPS = 150


class Words:
    """Pseudo-English drawn with Zipf's law, so text has the repetition (and distinct words) of speech."""

    def __init__(self, generator: random.Random, size: int = 6000) -> None:
        syllables = [c + v for c in "bcdfghklmnprstvwy" for v in ("a", "e", "i", "o", "u", "ai", "ea", "ou")]
        common = [
            "the",
            "of",
            "and",
            "to",
            "a",
            "in",
            "is",
            "that",
            "it",
            "for",
            "you",
            "was",
            "on",
            "are",
            "with",
            "as",
            "be",
            "this",
            "have",
            "they",
            "at",
            "or",
            "by",
        ]
        vocabulary = list(common)
        while len(vocabulary) < size:
            word = "".join(generator.choice(syllables) for _ in range(generator.choice((1, 2, 2, 3, 3, 4))))
            if word not in vocabulary:
                vocabulary.append(word)
        self.vocabulary = vocabulary
        self.cumulative = list(itertools.accumulate(1 / rank for rank in range(1, size + 1)))
        self.generator = generator

    def sentence(self, count: int) -> str:
        """A sentence of `count` words."""
        text = " ".join(self.generator.choices(self.vocabulary, cum_weights=self.cumulative, k=count))
        return text[0].upper() + text[1:] + "."


def vtt(words: Words, seconds: float, words_per_minute: int = 130) -> str:
    """A WebVTT transcript of speech at `words_per_minute` lasting `seconds`: 15-word cues."""
    cues, start, total = ["WEBVTT", ""], 0.0, int(seconds / 60 * words_per_minute)
    while total > 0:
        count = min(15, total)
        end = start + count * 60 / words_per_minute

        def stamp(moment: float) -> str:
            return f"{int(moment // 3600):02d}:{int(moment % 3600 // 60):02d}:{moment % 60:06.3f}"

        cues += [f"{stamp(start)} --> {stamp(end)}", words.sentence(count), ""]
        start, total = end, total - count
    return "\n".join(cues)


def synthetic(count: int) -> tuple[list[Episode], dict[str, str]]:
    """`count` valid briefings (validated like a real submission) and their transcripts."""
    show = load_show(ROOT)
    generator = random.Random(7)
    words = Words(generator)
    first = datetime(2014, 1, 6, 10, tzinfo=UTC)
    # England has some 150 safeguarding partnerships: an archive's partnership filter offers each once.
    partnerships = [f"{words.sentence(2)[:-1]} Safeguarding Children Partnership" for _ in range(PARTNERSHIPS)]
    episodes, transcripts = [], {}
    for number in range(count):
        slug = f"child-{number:04d}"
        lessons = [words.sentence(generator.randint(12, 30)) for _ in range(generator.randint(3, 5))]
        if number == count // 3:
            lessons[0] = f"Always {LESSON_PHRASE} when you visit a cold home."
        duration = generator.uniform(480, 900)
        briefing = Briefing.model_validate(
            {
                "title": f"Child {number}: {words.sentence(generator.randint(4, 9))[:-1]}",
                "summary": " ".join(words.sentence(generator.randint(10, 20)) for _ in range(3)),
                "review": {
                    "type": generator.choice(TYPES),
                    "subject": f"Child {number}",
                    "partnership": partnerships[number % PARTNERSHIPS],
                    "region": generator.choice(REGIONS),
                    "report_url": f"https://reviews.example.org/{slug}.pdf",
                    "published": (first + timedelta(days=number * 2.2)).isoformat(),
                },
                "author": {"name": words.sentence(2)[:-1], "role": "Independent lead reviewer"},
                "key_lessons": lessons,
                "themes": generator.sample(show.themes, generator.randint(1, 3)),
                "chapters": [
                    {"start": int(index * duration / 5), "title": words.sentence(5)[:-1]} for index in range(5)
                ],
                "recording": "recording.wav",
                "transcript": "transcript.vtt",
            },
            context={"themes": show.themes},
        )
        transcripts[slug] = vtt(words, duration)
        if number == 2 * count // 3:
            transcripts[slug] += f"\n\n00:20:00.000 --> 00:20:02.000\nOn the {TRANSCRIPT_WORD}.\n"
        episodes.append(
            Episode(
                slug=slug,
                guid=episode_guid(show.id, slug),
                briefing=briefing,
                media_key=f"media/{slug}-0123abcd.mp3",
                media_size=int(duration * 12_000),
                duration=duration,
                page_key=f"briefings/{slug}/index.html",
                chapters_key=f"briefings/{slug}/chapters.json",
                transcript_key=f"briefings/{slug}/transcript.vtt",
                transcript_type="text/vtt",
            )
        )
    return episodes, transcripts


def line(name: str, value: float, unit: str, budget: float | None = None) -> None:
    """One figure, with its budget and the ratio to it when it has one."""
    shown = f"{value:,.1f} {unit}" if unit != "bytes" else f"{value:,.0f} bytes"
    if budget is None:
        print(f"  {name:<44} {shown:>18}")
    else:
        limit = f"{budget:,.0f} {unit}" if unit != "s" else f"{budget:.1f} s"
        print(f"  {name:<44} {shown:>18}   budget {limit:>14}   ratio {value / budget:.2f}")


def browser_search(site: Path) -> None:
    """Serve `site` on 127.0.0.1 and time searches in headless Chromium."""
    from playwright.sync_api import sync_playwright

    server = PreviewServer(("127.0.0.1", 0), site, load_show(ROOT).url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            page.goto(base + "index.html", wait_until="load")
            line("index page loaded (navigation to load event)", (time.perf_counter() - started) * 1000, "ms")
            started = time.perf_counter()
            page.focus("#search-query")
            page.wait_for_selector("#search[data-loaded=all]", state="attached", timeout=60_000)
            line("search (Pagefind) fetched and started", (time.perf_counter() - started) * 1000, "ms")
            cases = [
                # "the" and other words too common to index are not searched for (briefings/search.py STOP_WORDS).
                ("a word in every briefing", "child", {}),
                ("a phrase from a key lesson", LESSON_PHRASE, {}),
                ("a word only in one transcript", TRANSCRIPT_WORD, {}),
                ("two words, no match", "zzz qqq", {}),
                ("a word and a theme filter", "child", {"#filter-theme": "neglect"}),
            ]
            worst = 0.0
            for name, query, filters in cases:
                for selector, value in filters.items():
                    page.select_option(selector, value)
                script, frame = [], []
                for _ in range(7):
                    result = page.evaluate(
                        """async (query) => {
                            const input = document.getElementById("search-query");
                            performance.clearMeasures("briefings-search");
                            // Submitted as Enter submits it: searched at once, without the pause typing
                            // waits for (scripts/bench_search.py times typing).
                            input.value = "";
                            input.form.requestSubmit();
                            performance.clearMeasures("briefings-search");
                            const started = performance.now();
                            input.value = query;
                            input.form.requestSubmit();
                            // The search answers asynchronously (Pagefind fetches what the query needs).
                            while (performance.getEntriesByName("briefings-search").length === 0) {
                                await new Promise((done) => setTimeout(done, 1));
                            }
                            await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
                            const measured = performance.getEntriesByName("briefings-search");
                            return [measured[measured.length - 1].duration, performance.now() - started,
                                    document.getElementById("search-status").textContent];
                        }""",
                        query,
                    )
                    script.append(result[0])
                    frame.append(result[1])
                for selector in filters:
                    page.select_option(selector, "")
                print(f"  search: {name} ({result[2]})")
                line("    in the script (median of 7)", statistics.median(script), "ms", SEARCH_BUDGET)
                line("    to the next frame drawn (median of 7)", statistics.median(frame), "ms", SEARCH_BUDGET)
                worst = max(worst, max(frame))
            line("slowest search, to the next frame drawn", worst, "ms", SEARCH_BUDGET)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefings", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="write the site here and keep it")
    arguments = parser.parse_args()
    show = load_show(ROOT)
    print(f"Load average before: {' '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"Generating {arguments.briefings} synthetic briefings with ten-to-fifteen-minute transcripts...")
    episodes, transcripts = synthetic(arguments.briefings)

    print("Building the site (render_site, then writing every file as a build stages it):")
    renders, cpu = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        files = render_site(show, episodes, FEED_KEY, transcripts)
        renders.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    with tempfile.TemporaryDirectory() as scratch:
        site = arguments.keep or Path(scratch) / "site"
        started, started_cpu = time.perf_counter(), time.process_time()
        stager = Stager(site)
        for key, data in files.items():
            stager.add_bytes(key, data, PAGES)
        writing, writing_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        (site / FEED_KEY).write_text("<rss/>")  # the preview server wants a feed; the site does not read it
        line("render_site (median of 3)", statistics.median(renders), "s")
        # CPU time is what the render costs this process; wall time is that plus waiting for a shared CPU.
        line("render_site, CPU time (median of 3)", statistics.median(cpu), "s")
        line("writing and hashing the files", writing, "s")
        line("writing and hashing the files, CPU time", writing_cpu, "s")
        line("site build, excluding audio", statistics.median(renders) + writing, "s", BUILD_BUDGET)
        # The build is one thread: on an idle machine its wall time is its CPU time.
        line("site build, excluding audio, CPU time", statistics.median(cpu) + writing_cpu, "s", BUILD_BUDGET)
        line("files", len(files), "")

        print("Sizes:")
        listings = {key: data for key, data in files.items() if key == "index.html" or key.startswith("page/")}
        briefing_pages = [len(data) for key, data in files.items() if key.startswith("briefings/")]
        theme_pages = [len(data) for key, data in files.items() if key.startswith("themes/")]
        first_load = sum(len(files[key]) for key in ("index.html", "style.css", "archive.js", "favicon.svg"))
        line("index.html", len(files["index.html"]), "bytes", INDEX_BUDGET)
        line("index page with its style, script and icon", first_load, "bytes", INDEX_BUDGET)
        line(f"largest of {len(listings)} listing pages", max(map(len, listings.values())), "bytes", INDEX_BUDGET)
        line("largest briefing page", max(briefing_pages), "bytes")
        line("largest theme page", max(theme_pages), "bytes")
        bundle = [len(data) for key, data in files.items() if key.startswith("pagefind/")]
        line(
            f"search bundle, pagefind/ ({len(bundle)} files; scripts/bench_search.py: what a search fetches)",
            sum(bundle),
            "bytes",
        )

        print("Search in headless Chromium, on the site served over HTTP on 127.0.0.1:")
        browser_search(site)
    print(f"Load average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
