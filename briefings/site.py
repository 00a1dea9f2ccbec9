"""Render the static archive: listing pages, a page per briefing and per theme, search index (bytes out)."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from briefings.config import Show, url_slug
from briefings.episode import Episode
from briefings.feed import review_type_feed_key, theme_feed_key, theme_feed_title
from briefings.layout import OPML_KEY
from briefings.search import (
    SEARCH_SCRIPT_KEY,
    length_label,
    long_date,
    page_url,
    pagefind_version,
    search_index,
    stop_words,
    transcript_words,
)
from briefings.submission import ReviewType
from briefings.submit_form import origin, submission_schema, upload_origins, upload_urls
from briefings.subscribe import app_links, qr_code, subscribe_page_key
from briefings.timecode import clock
from briefings.transcript import parse

# Autoescape everything: author text is never trusted, a <script> in a title must show as text.
# The templates ship in the package and never change while it runs: no need to check their files each render.
_templates = Environment(
    loader=PackageLoader("briefings"), autoescape=select_autoescape(default=True), auto_reload=False
)

# Static files shipped in the package and published beside the pages, unchanged.
ASSETS = ("style.css", "archive.js", "favicon.svg")
# Briefings per listing page: 50 full entries keep a page near 100 kB, so 2,000 briefings make 40 pages
# rather than one page of several megabytes; the search covers them all.
PAGE_SIZE = 50
# The page an invited author submits a briefing from (`briefings invite` links to its folder), its script and the
# JSON Schema its form is checked against.
SUBMIT_PAGE_KEY = "submit/index.html"
SUBMIT_SCRIPT_KEY = "submit/submit.js"
SUBMIT_SCHEMA_KEY = "submit/schema.json"


def listing_page_key(number: int) -> str:
    """Where page `number` (from 1) of the list of every briefing is published."""
    return "index.html" if number == 1 else f"page/{number}/index.html"


def theme_page_key(theme: str, number: int = 1) -> str:
    """Where page `number` (from 1) of the theme's key lessons is published: paged as the listing is (a
    national archive has thousands of briefings on a theme)."""
    return f"themes/{url_slug(theme)}/{listing_page_key(number)}"


@dataclass(frozen=True)
class Theme:
    """A theme, with how many published briefings it has (its feed exists even before the first)."""

    name: str
    count: int

    @property
    def page_key(self) -> str:
        """Where its page is published."""
        return theme_page_key(self.name)

    @property
    def page_url(self) -> str:
        """Its page's folder, relative to the site root."""
        return self.page_key

    @property
    def feed_key(self) -> str:
        """Where its feed is published."""
        return theme_feed_key(self.name)

    @property
    def subscribe_key(self) -> str:
        """Where its subscribe page is published."""
        return subscribe_page_key(self.name)


@dataclass(frozen=True)
class Filters:
    """The values each search filter offers, with how many briefings have each."""

    themes: list[Theme]
    types: list[tuple[str, int]]
    regions: list[tuple[str, int]]
    years: list[tuple[int, int]]
    partnerships: list[tuple[str, int]]


def transcript_paragraphs(text: str, kind: str) -> list[tuple[float | None, str]]:
    """Readable paragraphs of a transcript, each with its start time when the format has one."""
    cues, _ = parse(text, kind, "")
    return [(cue.start, cue.text) for cue in cues]


def transcript_html(paragraphs: Sequence[tuple[float | None, str]]) -> Markup:
    """A transcript's paragraphs as HTML, each led by its start time when it has one."""
    # Written here rather than as a template loop: it is most of a briefing page, and this is several times
    # faster for a site of thousands of briefings. `escape` is the escaping Jinja's autoescape applies, done
    # once for the whole transcript (paragraphs hold no newlines: their whitespace is collapsed).
    # Each start time is a button that plays the briefing from there, as the chapters do (archive.js); its
    # name says what it does and starts with the time shown (WCAG 2.5.3, label in name).
    texts = str(escape("\n".join(text for _, text in paragraphs))).split("\n")
    return Markup(
        "".join(
            f'<p><button type="button" class="start" data-start="{start}" aria-controls="player" '
            f'aria-label="Play from {clock(start)}">{clock(start)}</button> {text}</p>\n'
            if start is not None
            else f"<p>{text}</p>\n"
            for (start, _), text in zip(paragraphs, texts, strict=True)
        )
    )


def themes_of(show: Show, episodes: Sequence[Episode]) -> list[Theme]:
    """Every theme in the show's order (then any others briefings use, by name), with its briefings counted."""
    counts = Counter(theme for episode in episodes for theme in episode.briefing.themes)
    return [Theme(theme, counts[theme]) for theme in [*show.themes, *sorted(set(counts) - set(show.themes))]]


def review_type_feeds(episodes: Sequence[Episode]) -> list[tuple[str, str, int]]:
    """The feed of each review type, as (type, feed key, briefings), as feed.py publishes them."""
    counts = Counter(episode.briefing.review.type for episode in episodes)
    return [(kind.value, review_type_feed_key(kind), counts[kind]) for kind in ReviewType]


# A review type's name in the filter: the select shows one line, and at a phone's 360 px the longest name
# ("Local child safeguarding practice review", about 350 px) was cut off; its usual short form fits.
FILTER_NAMES = {ReviewType.LCSPR.value: "Local review, LCSPR"}


def filter_name(review_type: str) -> str:
    """How the review-type filter names a type: in full, or in a short form a phone can show whole."""
    return FILTER_NAMES.get(review_type, review_type.capitalize())


# The partnership filter names a partnership as the sector shortens it (Westmarsh SCP): at 360 px a full
# name ("Westmarsh Safeguarding Children Partnership (12)") is cut off.
PARTNERSHIP_SHORT = (
    ("Local Safeguarding Children Board", "LSCB"),
    ("Safeguarding Children Partnership", "SCP"),
    ("Safeguarding Children Board", "SCB"),
    ("Safeguarding Adults Board", "SAB"),
    ("Safeguarding Partnership", "SP"),
)


def partnership_name(partnership: str) -> str:
    """How the partnership filter names a partnership: with its usual abbreviation, if it has one."""
    for words, short in PARTNERSHIP_SHORT:
        if partnership.endswith(words):
            return partnership.removesuffix(words) + short
    return partnership


def _counted(values: list[Any], reverse: bool = False) -> list[tuple[Any, int]]:
    return sorted(Counter(values).items(), key=lambda item: item[0], reverse=reverse)


def filters_of(show: Show, episodes: Sequence[Episode]) -> Filters:
    """The filter choices: only values some published briefing has, so no filter ever shows nothing."""
    return Filters(
        themes=[theme for theme in themes_of(show, episodes) if theme.count],
        types=_counted([episode.briefing.review.type.value for episode in episodes]),
        regions=_counted([episode.briefing.review.region for episode in episodes]),
        years=_counted([episode.published.year for episode in episodes], reverse=True),
        partnerships=_counted([episode.briefing.review.partnership for episode in episodes]),
    )


def page_links(current: int, count: int, around: int = 2) -> list[int | None]:
    """The page numbers a listing page links to: the first, the last and those near `current`; None for a gap."""
    shown = sorted({1, count, *range(max(1, current - around), min(count, current + around) + 1)})
    links: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous == 2:
            links.append(previous + 1)  # a gap of one page: show it rather than an ellipsis
        elif number - previous > 2:
            links.append(None)
        links.append(number)
        previous = number
    return links


def _versioned(key: str, sha256: str) -> str:
    # Pages and assets are cached for minutes; a content hash in the link makes a new page fetch its new script.
    return f"{key}?v={sha256[:10]}"


def _root(key: str) -> str:
    return "../" * key.count("/")


_templates.globals.update(
    clock=clock,
    length_label=length_label,
    long_date=long_date,
    page_url=page_url,
    filter_name=filter_name,
    partnership_name=partnership_name,
    theme_page_key=theme_page_key,
    subscribe_page_key=subscribe_page_key,
)


def _paragraphs(episodes: Sequence[Episode], transcripts: dict[str, str]) -> dict[str, list[tuple[float | None, str]]]:
    """Each briefing's transcript paragraphs, times placed in the published file."""
    paragraphs: dict[str, list[tuple[float | None, str]]] = {}
    for episode in episodes:
        if episode.slug in transcripts and episode.transcript_type:
            # Times in the author's recording, placed as the chapters are (trimmed silence, the intro), so
            # each plays the moment it names in the published file.
            paragraphs[episode.slug] = [
                (None if start is None else episode.timeline.place(start), text)
                for start, text in transcript_paragraphs(transcripts[episode.slug], episode.transcript_type)
            ]
    return paragraphs


def _words(paragraphs: dict[str, list[tuple[float | None, str]]]) -> dict[str, str]:
    """Each transcript's distinct words, as the search indexes them."""
    return {slug: transcript_words(text for _, text in found) for slug, found in paragraphs.items()}


def _shipped() -> dict[str, bytes]:
    """The static files published beside the pages, as the package ships them."""
    return {name: resources.files("briefings").joinpath(f"templates/{name}").read_bytes() for name in ASSETS}


def _assets(files: dict[str, bytes], searched: bool) -> dict[str, str]:
    """The links to the static files among `files`, each with its content's hash, and to Pagefind's script
    if there is a search: with Pagefind's version, which the script is the same for, so pages can be
    rendered while Pagefind is still indexing."""
    assets = {key: _versioned(key, hashlib.sha256(data).hexdigest()) for key, data in files.items() if key in ASSETS}
    if searched:
        assets[SEARCH_SCRIPT_KEY] = _search_script(SEARCH_SCRIPT_KEY)
    return assets


def _search_script(key: str) -> str:
    """The link to a Pagefind bundle's script at `key`, stamped with Pagefind's version, which it is the same for."""
    return _versioned(key, hashlib.sha256(pagefind_version().encode()).hexdigest())


def _common(show: Show, ordered: Sequence[Episode], feed_key: str, assets: dict[str, str]) -> dict[str, Any]:
    """What every page of the archive is rendered with."""
    return {
        "show": show,
        "feed_key": feed_key,
        "opml_key": OPML_KEY,
        # Every theme has a feed (feed.py makes one even before its first briefing); only used ones a page.
        "themes": themes_of(show, ordered),
        "review_type_feeds": review_type_feeds(ordered),
        "assets": assets,
        "stop_words": " ".join(sorted(stop_words(show.language))),
        "policy": _policy(sorted({origin(episode.origin.media_url) for episode in ordered if episode.origin})),
        "review_details": _review_details(),
    }


def _review_details() -> Callable[[Episode], Markup]:
    """A briefing's review details (macros.html's `details`), rendered once however many pages show them (its
    own page and a listing's)."""
    details = _templates.get_template("macros.html").module.details  # type: ignore[attr-defined]
    rendered: dict[str, Markup] = {}  # by GUID

    def review_details(episode: Episode) -> Markup:
        if episode.guid not in rendered:
            rendered[episode.guid] = details(episode)
        return rendered[episode.guid]

    return review_details


def _policy(media_origins: Sequence[str], connect_origins: Sequence[str] = ()) -> Markup:
    """The Content-Security-Policy meta tag of every page (csp.html), letting it play audio from and connect to
    these origins as well as the site's own."""
    macro = _templates.get_template("csp.html").module.policy  # type: ignore[attr-defined]
    policy: Markup = macro(media_origins, connect_origins)
    return policy


def _listing(
    ordered: Sequence[Episode], common: dict[str, Any], page_size: int, up: str = "", **extra: Any
) -> dict[str, str]:
    """The pages listing every briefing in `ordered`, keyed relative to the folder they are published in;
    `up` is the way from that folder back to the site root."""
    listing = _templates.get_template("index.html")
    filters = filters_of(common["show"], ordered)
    return {
        key: listing.render(
            total=len(ordered), filters=filters, root=up + _root(key), home=_root(key), **paging, **common, **extra
        )
        for key, paging in _paged(ordered, page_size, listing_page_key)
    }


def _paged(
    episodes: Sequence[Episode], page_size: int, key_of: Callable[[int], str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each page of a list of `episodes` `page_size` at a time (one, empty, for none): its key (`key_of` its
    number, from 1) and what the template's list and its links to the other pages need."""
    page_count = max(1, math.ceil(len(episodes) / page_size))
    for number in range(1, page_count + 1):
        key = key_of(number)
        yield (
            key,
            {
                "episodes": episodes[(number - 1) * page_size : number * page_size],
                "page": number,
                "first": (number - 1) * page_size + 1,
                "page_count": page_count,
                "page_links": page_links(number, page_count),
                "page_href": partial(_href, _root(key), key_of),
            },
        )


def _href(root: str, key_of: Callable[[int], str], number: int) -> str:
    """The address of page `number` of a list, from a page whose way to the site root is `root`."""
    return root + key_of(number)


def _briefing_pages(
    ordered: Sequence[Episode], paragraphs: dict[str, list[tuple[float | None, str]]], common: dict[str, Any]
) -> Iterator[tuple[str, str]]:
    """A page per briefing, with its key."""
    briefing = _templates.get_template("briefing.html")
    for episode in ordered:
        found = paragraphs.get(episode.slug)
        root = _root(episode.page_key)
        yield (
            episode.page_key,
            briefing.render(
                episode=episode,
                transcript=transcript_html(found) if found else None,
                root=root,
                home=root,
                # A staff-only briefing's page is in no public listing or search, and must not name its address
                # to the sites it links to (the report): robots and referrer meta tags (base.html).
                private=episode.briefing.staff_only,
                **common,
            ),
        )


def render_site(
    show: Show,
    episodes: Sequence[Episode],
    feed_key: str,
    transcripts: dict[str, str],
    page_size: int = PAGE_SIZE,
    search_cache: Path | None = None,
) -> dict[str, bytes]:
    """Every file of the archive, keyed by its path in the output; `transcripts` maps slug to text.

    The search index is Pagefind's (the one part that runs a program); `search_cache` keeps it between
    builds, so an unchanged archive gets the same bytes.
    """
    with site_rendering(show, episodes, feed_key, transcripts, page_size, search_cache) as site:
        return site.pages() | site.search()


@dataclass(frozen=True)
class SiteRendering:
    """An archive being rendered while Pagefind indexes its search: `pages` renders every file but the
    search's, `search` waits for Pagefind and gives the search bundle's, so the pages can be written out
    meanwhile."""

    pages: Callable[[], dict[str, bytes]]
    search: Callable[[], dict[str, bytes]]


@contextmanager
def site_rendering(
    show: Show,
    episodes: Sequence[Episode],
    feed_key: str,
    transcripts: dict[str, str],
    page_size: int = PAGE_SIZE,
    search_cache: Path | None = None,
) -> Iterator[SiteRendering]:
    """`render_site`, begun: Pagefind indexes in a process of its own from now on, while the caller does other
    work, renders the pages and writes them out."""
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    paragraphs = _paragraphs(ordered, transcripts)
    # On two cores Pagefind and the rendering here take about as long together as the longer alone (a
    # national archive's build, issue 13).
    with search_index(ordered, show.language, _words(paragraphs), search_cache) as search:

        def pages() -> dict[str, bytes]:
            files = _shipped()
            common = _common(show, ordered, feed_key, _assets(files, searched=bool(ordered)))
            files.update(_submit_files(show, common))
            # Each page encoded as it is rendered: a national archive's pages are over a hundred megabytes, held
            # once. (All rendered, then all written: rendering between writes took a fifth longer.)
            files.update(
                (key, text.encode("utf-8"))
                for key, text in _pages(show, ordered, feed_key, paragraphs, page_size, common)
            )
            return files

        yield SiteRendering(pages, search)


def _pages(
    show: Show,
    ordered: Sequence[Episode],
    feed_key: str,
    paragraphs: dict[str, list[tuple[float | None, str]]],
    page_size: int,
    common: dict[str, Any],
) -> Iterator[tuple[str, str]]:
    """The public archive's pages, each with its path in the output."""
    yield from _listing(ordered, common, page_size).items()
    yield from _briefing_pages(ordered, paragraphs, common)
    theme_page = _templates.get_template("theme.html")
    # A page for every theme, like its feed, even with no briefings (yet, or after a withdrawal): a link
    # someone shared keeps working.
    for theme in themes_of(show, ordered):
        on_theme = [episode for episode in ordered if theme.name in episode.briefing.themes]
        for key, paging in _paged(on_theme, page_size, partial(theme_page_key, theme.name)):
            yield key, theme_page.render(theme=theme, root=_root(key), home=_root(key), **paging, **common)
    yield "themes/index.html", _templates.get_template("themes.html").render(root="../", home="../", **common)
    subscribe = _templates.get_template("subscribe.html")
    choices: list[Theme | None] = [None, *themes_of(show, ordered)]
    for choice in choices:
        key = subscribe_page_key(choice.name if choice else None)
        feed_url = show.url + (choice.feed_key if choice else feed_key)
        root = _root(key)
        yield (
            key,
            subscribe.render(
                theme=choice,
                feed_url=feed_url,
                # The title an app shows while it fetches the feed: the feed's own (feed.py's feed_specs).
                apps=app_links(feed_url, theme_feed_title(show, choice.name) if choice else show.title),
                qr=qr_code(feed_url, "QR code of the address above"),
                root=root,
                home=root,
                **common,
            ),
        )


def _submit_files(show: Show, common: dict[str, Any]) -> dict[str, bytes]:
    """The page an invited author submits a briefing from, its script and its form's JSON Schema."""
    script = resources.files("briefings").joinpath("templates/submit.js").read_bytes()
    schema = json.dumps(submission_schema(show.themes), indent=1).encode("utf-8")
    page = _templates.get_template("submit.html").render(
        review_types=[kind.value for kind in ReviewType],
        script=_versioned("submit.js", hashlib.sha256(script).hexdigest()),
        schema=_versioned("schema.json", hashlib.sha256(schema).hexdigest()),
        root=_root(SUBMIT_PAGE_KEY),
        home=_root(SUBMIT_PAGE_KEY),
        # Its own recording plays from memory; uploads go to the show's bucket, and nowhere else.
        upload_urls=upload_urls(show),
        **(common | {"policy": _policy(["blob:"], upload_origins(show))}),
    )
    return {SUBMIT_SCRIPT_KEY: script, SUBMIT_SCHEMA_KEY: schema, SUBMIT_PAGE_KEY: page.encode("utf-8")}


def render_staff_pages(
    show: Show,
    episodes: Sequence[Episode],
    feed_key: str,
    transcripts: dict[str, str],
    search_folder: str,
    search_cache: Path | None = None,
) -> dict[str, bytes]:
    """The staff-only briefings' pages (at their private page keys) and their own Pagefind bundle under
    `search_folder`: never part of the public archive or its search, which `render_site` renders."""
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    paragraphs = _paragraphs(ordered, transcripts)
    # Pagefind indexes while the pages render, as in render_site.
    with search_index(ordered, show.language, _words(paragraphs), search_cache) as indexed:
        # The pages load the public archive's style and script (no private search on them: the subscriber's
        # archive page has it), named as the public pages name them.
        common = _common(show, ordered, feed_key, _assets(_shipped(), searched=False))
        pages = {key: text.encode("utf-8") for key, text in _briefing_pages(ordered, paragraphs, common)}
        search = indexed()
    return {**{search_folder + key: data for key, data in search.items()}, **pages}


def render_private_index(
    show: Show,
    episodes: Sequence[Episode],
    searches: Sequence[str],
    merged_results: Sequence[str],
    *,
    up: str,
    feed_name: str,
    page_size: int = PAGE_SIZE,
) -> dict[str, bytes]:
    """A subscriber's private archive: every briefing in `episodes`, public and staff-only (marked), listed
    as the public archive lists them, keyed relative to the subscriber's folder; `up` is the way from that
    folder back to the site root, and `feed_name` their feed's name in it. Every link is relative, so the
    same bytes serve every subscriber: nothing in them names a token.

    `searches` are the Pagefind bundles to search, as the key of each one's script: the first is loaded,
    the others merged into it in the browser (Pagefind's `mergeIndex`, https://pagefind.app/docs/multisite/);
    `merged_results` are the ids of the results whose records are in the merged bundles.
    """
    ordered = sorted(episodes, key=lambda episode: episode.published, reverse=True)
    scripts = [_search_script(key) for key in searches]
    assets = _assets(_shipped(), searched=False) | ({SEARCH_SCRIPT_KEY: scripts[0]} if scripts else {})
    common = _common(show, ordered, feed_name, assets)
    # Pagefind takes a merged bundle's folder (it fetches pagefind-entry.json and the index parts there).
    merge = [script.rsplit("/", 1)[0] + "/" for script in scripts[1:]]
    pages = _listing(
        ordered, common, page_size, up, private=True, subscriber=True, merge=merge, merged_results=merged_results
    )
    return {key: text.encode("utf-8") for key, text in pages.items()}
