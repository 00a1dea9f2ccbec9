"""Check a podcast feed the way directories do (Apple Podcasts, Spotify, Podcast Index): every problem at once.

The rules come from Apple's "Podcast RSS feed requirements"
(https://podcasters.apple.com/support/823-podcast-requirements), the Podcasting 2.0 namespace
(https://podcastindex.org/namespace/1.0), JSON chapters 1.2
(https://github.com/Podcastindex-org/podcast-namespace/blob/main/chapters/jsonChapters.md) and Podlove
Simple Chapters (https://podlove.org/simple-chapters/). Errors stop a feed being listed or played;
warnings are recommendations.
"""

from __future__ import annotations

import email.utils
import json
import re
import typing
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from briefings import namespace
from briefings.artwork import artwork_problem
from briefings.config import LANGUAGE, MAX_DESCRIPTION_BYTES, SHOW_FILE, AppleCategory, Show, load_show
from briefings.errors import BriefingsError, Problem, Severity, UsageError, shown
from briefings.feed import ATOM_NS, ITUNES_NS, PODCAST_NS, PSC_NS
from briefings.layout import FEED_KEY, Build
from briefings.progress import Reporter
from briefings.publish import Manifest, read_manifest
from briefings.resolver import (
    Head,
    HttpResolver,
    KnownFiles,
    ReadableStorage,
    Resolver,
    StagedFiles,
    StorageResolver,
    UnreachableError,
)
from briefings.staff import FEEDS_PREFIX, private_storage, read_state
from briefings.storage import LocalStorage
from briefings.transcript import TIMED_TYPES, read_cues

# Clients must treat the namespace's first address as identical to the current one (Podcasting 2.0, 1.0.md).
LEGACY_PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
APPLE_CATEGORIES = frozenset(typing.get_args(AppleCategory))
# The enclosure types Apple Podcasts accepts.
ENCLOSURE_TYPES = frozenset(
    {"audio/mpeg", "audio/x-m4a", "audio/mp4", "audio/aac", "video/mp4", "video/quicktime", "video/x-m4v"}
)
TRANSCRIPT_TYPES = frozenset({*TIMED_TYPES, "text/plain", "text/html"})
EPISODE_TYPES = frozenset({"full", "trailer", "bonus"})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DURATION = re.compile(r"^\d+$|^(\d+:)?\d{1,2}:\d{2}$")
NPT = re.compile(r"^(\d+:)?(\d{1,2}:)?\d{1,2}(\.\d{1,3})?$")
DATE_FIX = "write it as RFC 2822, e.g. `Thu, 12 Mar 2026 10:00:00 +0000`"
# Feeds bigger than this are not podcast feeds (and would take minutes to parse).
MAX_FEED_BYTES = 64 * 1024 * 1024
# An XML parser that never fetches or expands anything a feed from the web asks it to.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class PublishedEpisode:
    """What the publish manifest recorded about an episode: its folder name and its permanent GUID."""

    slug: str
    guid: str


@dataclass(frozen=True)
class FeedReport:
    """The result of checking one feed."""

    feed: str
    items: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        """How many problems are errors (not warnings)."""
        return sum(1 for problem in self.problems if problem.severity is Severity.ERROR)

    def to_dict(self) -> dict[str, Any]:
        """As `briefings validate --json` prints it."""
        return {
            "feed": self.feed,
            "items": self.items,
            "errors": self.errors,
            "warnings": len(self.problems) - self.errors,
            "problems": [str(problem) for problem in self.problems],
        }


def date_problem(text: str, now: datetime | None = None) -> str | None:
    """What is wrong with an RFC 2822 date as feeds carry it, or None."""
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return f"`{text}` is not an RFC 2822 date"
    if moment.tzinfo is None:
        return f"`{text}` has no timezone"
    named = re.match(r"\s*([A-Za-z]{3}),", text)
    if named and named.group(1) != WEEKDAYS[moment.weekday()]:
        return f"`{text}` names the wrong day: that date is a {WEEKDAYS[moment.weekday()]}"
    if now is not None and moment > now:
        return f"`{text}` is in the future, so apps hide the episode or list it out of order"
    return None


def chapters_problem(data: bytes) -> str | None:
    """What is wrong with a JSON chapters file (Podcasting 2.0 JSON chapters 1.2), or None."""
    try:
        document = json.loads(data)
    except ValueError:
        return "is not JSON"
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("version"), str)
        or not isinstance(document.get("chapters"), list)
    ):
        return 'is not JSON chapters: it needs "version" (text) and "chapters" (a list)'
    previous = 0.0
    for number, chapter in enumerate(document["chapters"], 1):
        start = chapter.get("startTime") if isinstance(chapter, dict) else None
        if isinstance(start, bool) or not isinstance(start, int | float) or start < 0:
            return f"chapter {number} has no startTime in seconds"
        if start < previous:
            return f"chapter {number} starts before chapter {number - 1}; chapters must be in order"
        if "title" in chapter and not isinstance(chapter["title"], str):
            return f"chapter {number} has a title that is not text"
        previous = float(start)
    return None


def transcript_problem(data: bytes, kind: str) -> str | None:
    """What is wrong with a transcript file of the given MIME type, or None."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    if kind == "text/vtt" or kind in ("application/x-subrip", "application/srt", "text/srt"):
        name = "WebVTT" if kind == "text/vtt" else "SRT"
        try:
            cues = read_cues(text, "text/vtt" if kind == "text/vtt" else "application/x-subrip")
        except ValueError:
            return f"is not a readable {name} file"
        return None if cues else f"is a {name} file without captions"
    if kind == "text/html":
        try:
            words = lxml.html.document_fromstring(text).text_content().strip() if text.strip() else ""
        except etree.ParserError:
            words = ""
        return None if words else "is an HTML page without text"
    if kind == "application/json":
        try:
            segments = json.loads(text).get("segments")
        except (ValueError, AttributeError):
            segments = None
        return None if isinstance(segments, list) else 'is not a JSON transcript: it needs "segments" (a list)'
    return None if text.strip() else "is empty"


def _is_web_url(text: str | None) -> bool:
    if not text:
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


class _Collector:
    """Collects the problems of one feed, located by line."""

    def __init__(self, feed: str) -> None:
        self.feed = feed
        self.problems: list[Problem] = []

    def add(
        self,
        where: etree._Element | None,
        field: str,
        message: str,
        fix: str,
        severity: Severity = Severity.ERROR,
    ) -> None:
        line = where.sourceline if where is not None else None
        self.problems.append(Problem(self.feed, message, fix, field, line, severity))

    def warn(self, where: etree._Element | None, field: str, message: str, fix: str) -> None:
        self.add(where, field, message, fix, Severity.WARNING)


class FeedValidator:
    """Checks feeds against the rules directories apply, fetching what they name through a resolver.

    One validator can check several feeds: each URL is fetched once, and a problem with a shared file
    (an enclosure, a transcript) is reported once, under the first feed that names it.
    """

    def __init__(
        self,
        resolver: Resolver,
        now: datetime | None = None,
        published: Mapping[str, PublishedEpisode] | None = None,
        allow_empty: bool = False,
        jobs: int = 8,
        base_url: str | None = None,
    ) -> None:
        self.resolver = resolver
        self.now = now
        # Enclosure URL -> what the manifest says was published there; None when there is no workspace.
        self.published = published
        # The show's own files are under base_url: only their GUIDs are in its manifest (not harvested ones).
        self.base_url = base_url
        self.allow_empty = allow_empty
        self.jobs = jobs
        self._heads: dict[str, Head | UnreachableError] = {}
        self._bodies: dict[str, bytes | UnreachableError] = {}
        self._reported: set[tuple[str, str]] = set()

    def _fetch(self, heads: Iterable[str], bodies: Iterable[str]) -> None:
        """Fetch every URL not fetched yet, several at a time (most time goes on waiting for servers)."""

        def head(url: str) -> tuple[str, Head | UnreachableError]:
            try:
                return url, self.resolver.head(url)
            except UnreachableError as error:
                return url, error

        def get(url: str) -> tuple[str, bytes | UnreachableError]:
            try:
                return url, self.resolver.get(url)
            except UnreachableError as error:
                return url, error

        new_heads = sorted({url for url in heads if _is_web_url(url)} - set(self._heads))
        new_bodies = sorted({url for url in bodies if _is_web_url(url)} - set(self._bodies))
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            self._heads.update(pool.map(head, new_heads))
            self._bodies.update(pool.map(get, new_bodies))

    def _once(self, url: str, message: str) -> bool:
        """True the first time a problem with a shared URL comes up in this run."""
        key = (url, message)
        if key in self._reported:
            return False
        self._reported.add(key)
        return True

    def validate(self, feed: str, data: bytes) -> FeedReport:
        """Check one feed's bytes; `feed` names it in every problem (its path or URL)."""
        out = _Collector(feed)
        if len(data) > MAX_FEED_BYTES:
            out.add(None, "", f"is {len(data) // (1024 * 1024)} MiB, too big for a podcast feed", "list fewer items")
            return FeedReport(feed, 0, tuple(out.problems))
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as error:
            problem = Problem(feed, f"is not well-formed XML ({error.msg})", "fix the XML", line=error.lineno)
            return FeedReport(feed, 0, (problem,))
        channel = root.find("channel")
        if root.tag != "rss" or channel is None:
            out.add(root, "", "is not an RSS feed (no <rss><channel>)", "podcast directories read RSS 2.0 only")
            return FeedReport(feed, 0, tuple(out.problems))
        if root.get("version") != "2.0":
            out.add(root, "rss", f'version is "{root.get("version")}", not "2.0"', 'write <rss version="2.0">')
        for prefix, uri in root.nsmap.items():
            if uri and uri.lower() == ITUNES_NS.lower() and uri != ITUNES_NS:
                out.add(root, f"xmlns:{prefix}", f"is `{uri}`", f"use `{ITUNES_NS}` exactly: Apple matches case")
        podcast_ns = LEGACY_PODCAST_NS if LEGACY_PODCAST_NS in root.nsmap.values() else PODCAST_NS
        names = {"itunes": ITUNES_NS, "podcast": podcast_ns, "psc": PSC_NS, "atom": ATOM_NS, "content": CONTENT_NS}
        items = channel.findall("item")
        self._prefetch(channel, items, names)
        self._check_channel(out, channel, names)
        if not items and not self.allow_empty:
            out.warn(channel, "", "has no episodes", "Apple Podcasts and Spotify accept a show once it has one")
        guids: dict[str, int] = {}
        enclosures: dict[str, int] = {}
        for number, item in enumerate(items, 1):
            self._check_item(out, item, number, names, guids, enclosures)
        if namespace.declares(root):
            # A briefings show: each item carries its review for harvesters (briefings.namespace).
            for element, tag, message, fix in namespace.channel_problems(channel):
                out.add(element, tag, message, fix)
            for number, item in enumerate(items, 1):
                for element, tag, message, fix in namespace.item_problems(item):
                    out.add(element, f"item[{number}] {tag}", message, fix)
        problems = sorted(out.problems, key=lambda problem: problem.line or 0)
        return FeedReport(feed, len(items), tuple(problems))

    def _prefetch(self, channel: etree._Element, items: list[etree._Element], names: dict[str, str]) -> None:
        heads, bodies = [], []
        image = channel.find("itunes:image", names)
        if image is not None and image.get("href"):
            heads.append(image.get("href", ""))
            bodies.append(image.get("href", ""))
        for item in items:
            enclosure = item.find("enclosure")
            if enclosure is not None:
                heads.append(enclosure.get("url", ""))
            for tag in ("podcast:transcript", "podcast:chapters"):
                bodies.extend(element.get("url", "") for element in item.findall(tag, names))
        self._fetch(heads, bodies)

    def _check_channel(self, out: _Collector, channel: etree._Element, names: dict[str, str]) -> None:
        def find(path: str) -> etree._Element | None:
            return channel.find(path, names)

        for tag in ("title", "description"):
            if not _text(find(tag)):
                out.add(channel, tag, "is missing or empty", f"give the show a {tag}")
        for tag in ("description", "itunes:summary"):
            text = _text(find(tag))
            if _size(text) > MAX_DESCRIPTION_BYTES:
                out.add(
                    find(tag),
                    tag,
                    f"is {_size(text)} bytes; Apple Podcasts allows {MAX_DESCRIPTION_BYTES}",
                    "shorten the show's description",
                )
        language = _text(find("language"))
        if not language:
            out.add(channel, "language", "is missing", "add the show's language, e.g. <language>en-GB</language>")
        elif not LANGUAGE.match(language):
            out.add(find("language"), "language", f"`{language}` is not an ISO 639 language code", "use e.g. en-GB")
        link = _text(find("link"))
        if not link:
            out.warn(channel, "link", "is missing", "link to the show's website")
        elif not _is_web_url(link):
            out.add(find("link"), "link", f"`{link}` is not a web address", "give a full http(s) address")
        self._check_artwork(out, find("itunes:image"))
        category = find("itunes:category")
        if category is None:
            out.add(channel, "itunes:category", "is missing", 'add one, e.g. <itunes:category text="Government"/>')
        elif category.get("text") not in APPLE_CATEGORIES:
            out.add(
                category,
                "itunes:category",
                f'"{category.get("text")}" is not an Apple Podcasts category',
                f"use one of: {', '.join(sorted(APPLE_CATEGORIES))} (case matters)",
            )
        self._check_explicit(out, find("itunes:explicit"), "itunes:explicit", required=True, parent=channel)
        for path, what in (
            ("itunes:author", "who makes the show"),
            ("itunes:owner/itunes:email", "the email address directories contact"),
            ("copyright", "the show's copyright notice"),
        ):
            if not _text(find(path)):
                out.warn(channel, path, "is missing", f"add {what}")
        show_type = _text(find("itunes:type"))
        if show_type and show_type not in ("episodic", "serial"):
            out.add(find("itunes:type"), "itunes:type", f"is `{show_type}`", "use episodic or serial")
        if not any(link.get("rel") == "self" for link in channel.findall("atom:link", names)):
            out.warn(channel, "atom:link", 'has no rel="self" link', "name the feed's own address")
        guid = find("podcast:guid")
        if guid is None:
            out.warn(channel, "podcast:guid", "is missing", "add a UUIDv5 of the feed's address (Podcasting 2.0)")
        else:
            try:
                uuid.UUID(_text(guid))
            except ValueError:
                out.add(guid, "podcast:guid", f"`{_text(guid)}` is not a UUID", "use a UUIDv5 of the feed's address")
        locked = find("podcast:locked")
        if locked is None:
            out.warn(channel, "podcast:locked", "is missing", "add <podcast:locked>yes</podcast:locked>")
        elif _text(locked) not in ("yes", "no"):
            out.add(locked, "podcast:locked", f"is `{_text(locked)}`", "write yes or no")
        for tag in ("lastBuildDate", "pubDate"):
            if find(tag) is not None:
                problem = date_problem(_text(find(tag)))
                if problem:
                    out.add(find(tag), tag, problem, DATE_FIX)

    def _check_artwork(self, out: _Collector, image: etree._Element | None) -> None:
        fix = "link square RGB JPEG or PNG artwork of 1400 to 3000 pixels"
        href = image.get("href", "") if image is not None else ""
        if not href:
            out.add(image, "itunes:image", "is missing", f"{fix} with <itunes:image href=...>")
            return
        if not _is_web_url(href):
            out.add(image, "itunes:image", f"`{href}` is not a web address", fix)
            return
        if not urlsplit(href).path.lower().endswith((".jpg", ".jpeg", ".png")):
            out.warn(image, "itunes:image", f"{href} does not end in .jpg or .png", "Apple asks for such a name")
        head = self._heads.get(href)
        if isinstance(head, UnreachableError):
            if self._once(href, str(head)):
                out.add(image, "itunes:image", f"{href} {head}", head.fix or "artwork must be served with HEAD support")
            return
        body = self._bodies.get(href)
        if isinstance(body, UnreachableError):
            if self._once(href, str(body)):
                out.add(image, "itunes:image", f"{href} {body}", body.fix or "publish the artwork there")
            return
        problem = artwork_problem(body, href) if body is not None else None
        if problem is not None and self._once(href, problem.message):
            out.add(image, "itunes:image", f"{href}: {problem.message}", problem.fix)

    def _check_explicit(
        self, out: _Collector, element: etree._Element | None, field: str, required: bool, parent: etree._Element
    ) -> None:
        if element is None:
            if required:
                out.add(parent, field, "is missing", "add <itunes:explicit>false</itunes:explicit>")
            return
        value = _text(element)
        if value in ("yes", "no", "clean"):
            out.warn(element, field, f"is `{value}`, which Apple has deprecated", "write true or false")
        elif value not in ("true", "false"):
            out.add(element, field, f"is `{value}`", "write true or false")

    def _check_item(
        self,
        out: _Collector,
        item: etree._Element,
        number: int,
        names: dict[str, str],
        guids: dict[str, int],
        enclosures: dict[str, int],
    ) -> None:
        def find(path: str) -> etree._Element | None:
            return item.find(path, names)

        def field(tag: str) -> str:
            return f"item[{number}] {tag}"

        if not _text(find("title")):
            out.add(item, field("title"), "is missing or empty", "give every episode a title")
        guid_element = find("guid")
        guid = _text(guid_element)
        if not guid:
            out.add(item, field("guid"), "is missing", "give every episode a GUID that never changes")
        else:
            if guid in guids:
                out.add(
                    guid_element,
                    field("guid"),
                    f"`{guid}` is also the GUID of item[{guids[guid]}]",
                    "give every episode its own GUID; apps show only one of the two",
                )
            guids.setdefault(guid, number)
            assert guid_element is not None
            if guid_element.get("isPermaLink", "true") == "true" and not _is_web_url(guid):
                out.add(
                    guid_element,
                    field("guid"),
                    "is not a web address, but isPermaLink is true (the default)",
                    'add isPermaLink="false"',
                )
        enclosure_url = self._check_enclosure(out, find("enclosure"), item, field, enclosures, number)
        own = self.base_url is None or (enclosure_url or "").startswith(self.base_url)
        if guid and enclosure_url and self.published is not None and own:
            self._check_stable_guid(out, guid_element, field("guid"), guid, enclosure_url)
        date = find("pubDate")
        if date is None:
            out.add(item, field("pubDate"), "is missing", "give the date the episode was published")
        else:
            problem = date_problem(_text(date), self.now)
            if problem:
                out.add(date, field("pubDate"), problem, DATE_FIX)
        duration = find("itunes:duration")
        if duration is None:
            out.warn(item, field("itunes:duration"), "is missing", "give the length in seconds")
        elif not DURATION.match(_text(duration)):
            out.add(duration, field("itunes:duration"), f"`{_text(duration)}` is not a duration", "give seconds")
        episode_type = find("itunes:episodeType")
        if episode_type is not None and _text(episode_type) not in EPISODE_TYPES:
            out.add(
                episode_type, field("itunes:episodeType"), f"is `{_text(episode_type)}`", "use full, trailer or bonus"
            )
        self._check_explicit(out, find("itunes:explicit"), field("itunes:explicit"), required=False, parent=item)
        if find("description") is None and find("content:encoded") is None:
            out.warn(item, field("description"), "is missing", "describe the episode")
        for tag in ("description", "itunes:summary", "content:encoded"):
            size = _size(_text(find(tag)))
            if size > MAX_DESCRIPTION_BYTES:
                out.add(
                    find(tag),
                    field(tag),
                    f"is {size} bytes; Apple Podcasts allows {MAX_DESCRIPTION_BYTES}",
                    "shorten the episode's summary",
                )
        link = find("link")
        if link is not None and not _is_web_url(_text(link)):
            out.add(link, field("link"), f"`{_text(link)}` is not a web address", "give a full http(s) address")
        for person in item.findall("podcast:person", names):
            if not _text(person):
                out.add(person, field("podcast:person"), "has no name", "write the person's name in the tag")
        for transcript in item.findall("podcast:transcript", names):
            self._check_transcript(out, transcript, field("podcast:transcript"))
        for chapters in item.findall("podcast:chapters", names):
            self._check_json_chapters(out, chapters, field("podcast:chapters"))
        podlove = find("psc:chapters")
        if podlove is not None:
            self._check_podlove(out, podlove, field("psc:chapters"), names)

    def _check_enclosure(
        self,
        out: _Collector,
        enclosure: etree._Element | None,
        item: etree._Element,
        field: typing.Callable[[str], str],
        enclosures: dict[str, int],
        number: int,
    ) -> str | None:
        name = field("enclosure")
        if enclosure is None:
            out.add(item, name, "is missing", "attach the audio with <enclosure url=... length=... type=...>")
            return None
        url, kind = str(enclosure.get("url", "")), str(enclosure.get("type", ""))
        length = str(enclosure.get("length", ""))
        if not _is_web_url(url):
            out.add(enclosure, name, f"url `{url}` is not a web address", "give a full http(s) address")
            return None
        if not url.isascii():
            out.add(enclosure, name, f"url {url} is not ASCII", "Apple asks for file names of a-z, A-Z and 0-9")
        if url in enclosures:
            out.add(enclosure, name, f"{url} is also the enclosure of item[{enclosures[url]}]", "Apple ignores repeats")
        enclosures.setdefault(url, number)
        if kind not in ENCLOSURE_TYPES:
            shown = f"type `{kind}`" if kind else "has no type"
            out.add(enclosure, name, f"{shown}: not a type Apple Podcasts plays", "use audio/mpeg for MP3")
        if not length.isdigit() or int(length) == 0:
            out.add(
                enclosure,
                name,
                f"length `{length}` is not the file's size in bytes",
                "give the exact size (Spotify refuses a missing or zero length)",
            )
            return url
        head = self._heads.get(url)
        if isinstance(head, UnreachableError):
            if self._once(url, str(head)):
                fix = head.fix or "publish the audio there; apps download it with HEAD and GET"
                out.add(enclosure, name, f"{url} {head}", fix)
        elif head is not None and head.size is None:
            if self._once(url, "no length"):
                out.add(enclosure, name, f"{url} is served without a Content-Length", "serve it with its size")
        elif head is not None and head.size != int(length) and self._once(url, f"length {length}"):
            out.add(
                enclosure,
                name,
                f"length is {length} bytes, but {url} is {head.size} bytes",
                "publish again so the feed and the file agree; length must be the file's exact size",
            )
        return url

    def _check_stable_guid(
        self, out: _Collector, element: etree._Element | None, name: str, guid: str, enclosure_url: str
    ) -> None:
        assert self.published is not None
        record = self.published.get(enclosure_url)
        if record is None:
            if self._once(enclosure_url, "not in the manifest"):
                out.add(
                    element,
                    name,
                    f"the episode at {enclosure_url} is not in the publish manifest",
                    "publish with `briefings publish`, which records every episode and its GUID",
                )
        elif record.guid != guid and self._once(enclosure_url, f"guid {guid}"):
            out.add(
                element,
                name,
                f"is {guid}, but {record.slug} was first published with GUID {record.guid}",
                "restore the show's `id` in show.toml, from which GUIDs derive; apps take a new GUID for a new episode",
            )

    def _fetched(self, out: _Collector, element: etree._Element, name: str, url: str) -> bytes | None:
        body = self._bodies.get(url)
        if isinstance(body, UnreachableError):
            if self._once(url, str(body)):
                out.add(element, name, f"{url} {body}", body.fix or "publish the file there, or remove the tag")
            return None
        return body

    def _check_transcript(self, out: _Collector, element: etree._Element, name: str) -> None:
        url, kind = element.get("url", ""), element.get("type", "")
        if not _is_web_url(url):
            out.add(element, name, f"url `{url}` is not a web address", "give a full http(s) address")
            return
        if not kind:
            out.add(element, name, "has no type", "give its MIME type, e.g. text/vtt")
            return
        if kind not in TRANSCRIPT_TYPES:
            out.warn(
                element, name, f"type `{kind}` is not one apps know", "use text/vtt, application/x-subrip or text/html"
            )
        if element.get("rel") == "captions" and kind not in TIMED_TYPES:
            out.warn(element, name, f'rel="captions" on {kind}, which has no timings', "drop rel, or link VTT or SRT")
        body = self._fetched(out, element, name, url)
        problem = transcript_problem(body, kind) if body is not None and kind in TRANSCRIPT_TYPES else None
        if problem and self._once(url, problem):
            out.add(element, name, f"{url} {problem}", "publish a well-formed transcript")

    def _check_json_chapters(self, out: _Collector, element: etree._Element, name: str) -> None:
        url, kind = element.get("url", ""), element.get("type", "")
        if not _is_web_url(url):
            out.add(element, name, f"url `{url}` is not a web address", "give a full http(s) address")
            return
        if kind != "application/json+chapters":
            out.add(element, name, f"type is `{kind}`", 'write type="application/json+chapters"')
        body = self._fetched(out, element, name, url)
        problem = chapters_problem(body) if body is not None else None
        if problem and self._once(url, problem):
            out.add(element, name, f"{url} {problem}", "publish JSON chapters 1.2: {version, chapters: [{startTime}]}")

    def _check_podlove(self, out: _Collector, element: etree._Element, name: str, names: dict[str, str]) -> None:
        previous = -1.0
        for number, chapter in enumerate(element.findall("psc:chapter", names), 1):
            start, title = chapter.get("start", ""), chapter.get("title", "")
            if not NPT.match(start):
                out.add(chapter, name, f"chapter {number} start `{start}` is not a time", "write hh:mm:ss.mmm")
                continue
            seconds = 0.0
            for part in start.split(":"):
                seconds = seconds * 60 + float(part)
            if seconds < previous:
                out.add(chapter, name, f"chapter {number} starts before chapter {number - 1}", "list chapters in order")
            previous = seconds
            if not title.strip():
                out.add(chapter, name, f"chapter {number} has no title", "give every chapter a title")


def is_feed_key(key: str) -> bool:
    """Whether a published key is one of the show's feeds (the main feed or one under feeds/)."""
    return key == FEED_KEY or (key.startswith("feeds/") and key.endswith(".xml"))


def published_episodes(show: Show, manifest: Manifest) -> dict[str, PublishedEpisode]:
    """The manifest's episodes keyed by their enclosure URL, to compare each feed item's GUID with."""
    return {
        show.url + str(record["media"]): PublishedEpisode(slug, str(record["guid"]))
        for slug, record in manifest.episodes.items()
        if "media" in record and "guid" in record
    }


def check_feeds(
    show: Show,
    storage: ReadableStorage,
    keys: Sequence[str],
    manifest: Manifest | None,
    now: datetime,
    outside: Resolver | None = None,
) -> list[FeedReport]:
    """Check the feeds at `keys` in `storage`, answering the show's URLs from that storage (no network) and
    any other URL (a harvested briefing's audio) through `outside`.

    With a manifest, every item's GUID must be the one its episode was first published with.
    """
    published = published_episodes(show, manifest) if manifest is not None else None
    # Theme feeds are published before their first briefing, so that their address never changes.
    validator = FeedValidator(
        StorageResolver(show.url, storage, outside), now, published, allow_empty=True, base_url=show.url
    )
    reports = []
    for key in keys:
        data = storage.read(key)
        label = storage.describe() + key
        if data is None:
            reports.append(FeedReport(label, 0, (Problem(label, "is missing", "publish again"),)))
        else:
            reports.append(validator.validate(label, data))
    return reports


def check_staged(
    build: Build, manifest: Manifest, now: datetime, destination: ReadableStorage | None = None
) -> list[FeedReport]:
    """Check the feeds a build staged against the files it staged (and those it keeps at `destination`)."""
    keys = [output.key for output in build.outputs if is_feed_key(output.key)]
    staged = StagedFiles(build.outputs, destination, build.retained)
    return check_feeds(build.show, staged, keys, manifest, now, harvested_files(build))


def harvested_files(build: Build) -> KnownFiles:
    """The harvested briefings' audio as their catalogues describe it: checked there by `harvest`, not fetched again."""
    return KnownFiles({episode.media_url(""): Head(episode.media_size, None) for episode in build.harvested})


def _self_link(data: bytes) -> str | None:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None
    for link in root.iterfind("channel/atom:link", {"atom": ATOM_NS}):
        if link.get("rel") == "self":
            return str(link.get("href", ""))
    return None


def _manifest_for(storage: LocalStorage, key: str) -> Manifest:
    """The manifest a published feed's GUIDs are checked against: a subscriber's private feed also lists the
    staff-only briefings, whose GUIDs the private state records (briefings.staff)."""
    manifest = read_manifest(storage)
    if not key.startswith(FEEDS_PREFIX):
        return manifest
    state, _ = read_state(private_storage(storage))
    return replace(manifest, episodes={**manifest.episodes, **state.episodes})


def validate_target(
    workspace: Path, feed: str | None, now: datetime, reporter: Reporter | None = None
) -> list[FeedReport]:
    """Check FEED (a URL or file), or every feed the workspace published; what `briefings validate` does."""
    report = (reporter or Reporter()).step
    show = load_show(workspace) if feed is None or (workspace / SHOW_FILE).is_file() else None
    folder = workspace / show.publish.to if show is not None else None
    if feed is None:
        assert show is not None and folder is not None
        storage = LocalStorage(folder)
        keys = sorted(key for key in storage.sizes() if is_feed_key(key))
        if FEED_KEY not in keys:
            raise BriefingsError(
                f"{shown(folder)}/{FEED_KEY}: nothing published yet "
                "(fix: run `briefings publish` first, or give the FEED to check)"
            )
        report(f"checking {len(keys)} feed(s) in {storage.describe()}")
        return check_feeds(show, storage, keys, read_manifest(storage), now, HttpResolver())
    if _is_web_url(feed):
        report(f"fetching {feed}")
        try:
            data = HttpResolver(max_bytes=MAX_FEED_BYTES).get(feed)
        except UnreachableError as error:
            raise BriefingsError(f"{feed}: {error} (fix: {error.fix or 'check the address'})") from None
        label = feed
    else:
        path = Path(feed)
        if not path.is_file():
            raise UsageError(f"{feed}: no such file, and not an http(s) address (fix: give a feed's file or URL)")
        if show is not None and folder is not None and path.resolve().is_relative_to(folder.resolve()):
            # A published file: its URLs name files in this folder, which may not be online yet.
            storage = LocalStorage(folder)
            key = path.resolve().relative_to(folder.resolve()).as_posix()
            report(f"checking {storage.describe()}{key}")
            return check_feeds(show, storage, [key], _manifest_for(storage, key), now, HttpResolver())
        data = path.read_bytes()
        label = shown(path)
    published = None
    address = _self_link(data) or feed
    if show is not None and folder is not None and address.startswith(show.url):
        manifest = read_manifest(LocalStorage(folder))
        # Without a manifest (nothing published from here yet) there is nothing to compare GUIDs with.
        published = published_episodes(show, manifest) if manifest.episodes else None
    report(f"checking {label}")
    base = show.url if show is not None else None
    return [FeedValidator(HttpResolver(), now, published, base_url=base).validate(label, data)]
