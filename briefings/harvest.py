"""Gather the published shows of other partnerships into this workspace: `briefings harvest`.

Each source is a show's main feed. Its `briefings:catalogue` (briefings.namespace) lists every published
briefing and a tombstone per withdrawn one, so the harvest is complete; a source without one gives what
its feed items carry. Everything fetched is untrusted: sizes and times are capped, XML is parsed with
entities and DTDs off (a feed that declares a DTD is refused), JSON is validated field by field, links
must be http(s) and enclosures audio. What each source gave last is kept in `.briefings/harvest/`: a
source that fails keeps its last good harvest.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any

import requests
from lxml import etree
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
)
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from briefings import namespace, web
from briefings.config import STATE_DIR, Show, state_name, url_slug
from briefings.episode import Episode, Origin
from briefings.errors import printable
from briefings.feed import ITUNES_NS
from briefings.namespace import NAMESPACE
from briefings.submission import MAX_KEY_LESSONS, Briefing, ReviewType
from briefings.submission import Author as BriefingAuthor
from briefings.submission import Review as BriefingReview
from briefings.validation import visible

MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_CATALOGUE_BYTES = 20 * 1024 * 1024
TIMEOUT_SECONDS = 20  # per request: connecting, and each wait for data
SOURCE_SECONDS = 60  # per source, everything included
MAX_REDIRECTS = 5
PARALLEL = 8
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _web_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("is not an http(s) address")
    HttpUrl(value)  # and a well-formed one
    return value


def _audio(value: str) -> str:
    if not value.startswith("audio/"):
        raise ValueError(f"{value!r} is not an audio type")
    return value


# Text is refused with the invisible characters a briefing.yaml may not hold either (validation.visible): control
# characters no feed can carry, and those that make text read otherwise than it is.
Url = Annotated[str, Field(max_length=2000), BeforeValidator(visible), AfterValidator(_web_url)]
Short = Annotated[str, Field(min_length=1, max_length=500), BeforeValidator(visible)]
Long = Annotated[str, Field(min_length=1, max_length=4000), BeforeValidator(visible)]


class _Untrusted(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Audio(_Untrusted):
    url: Url
    type: Annotated[str, Field(max_length=100), AfterValidator(_audio)]
    length: Annotated[int, Field(ge=0)]
    duration: Annotated[int, Field(ge=0)] = 0


class Author(_Untrusted):
    name: Short
    role: Short | None = None


class Review(_Untrusted):
    type: ReviewType
    subject: Short
    partnership: Short
    region: Short
    published: AwareDatetime
    report: Url


class Harvested(_Untrusted):
    """One briefing as a source published it (its catalogue entry, or its feed item)."""

    guid: Short
    title: Short
    summary: Long
    published: AwareDatetime
    page: Url
    audio: Audio
    author: Author
    review: Review
    lessons: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=1000), BeforeValidator(visible)]],
        Field(min_length=1, max_length=MAX_KEY_LESSONS),
    ]
    themes: Annotated[list[Short], Field(max_length=30)] = []
    chapters: Url | None = None


class Source(_Untrusted):
    """The show a source is: its title and its home page."""

    title: Short
    url: Url


@dataclass(frozen=True)
class Fetched:
    """What a source publishes now: its valid briefings, notes on what was skipped, and the show itself."""

    entries: list[Harvested]
    notes: list[str]
    show: Source


@dataclass
class SourceResult:
    """What one source gave this harvest, for the line `harvest` prints and its --json."""

    url: str
    status: str  # new, changed, withdrawn, unchanged, failed
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    briefings: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.error is not None:
            return f"{self.url}: failed: {self.error}; kept its last good harvest ({self.briefings} briefing(s))"
        counts = [(len(self.new), "new"), (len(self.changed), "changed"), (len(self.withdrawn), "withdrawn")]
        said = ", ".join(f"{count} {what}" for count, what in counts if count)
        return f"{self.url}: {said or 'unchanged'} ({self.briefings} briefing(s))"

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "new": self.new,
            "changed": self.changed,
            "withdrawn": self.withdrawn,
            "briefings": self.briefings,
            "error": self.error,
            "notes": self.notes,
        }


class SourceError(Exception):
    """A source could not be harvested: the message says why, with the fix."""


def state_file(workspace: Path, url: str) -> Path:
    """Where a source's last good harvest is kept."""
    return workspace / STATE_DIR / "harvest" / f"{state_name(url)}.json"


def read_state(workspace: Path, url: str) -> dict[str, Any]:
    try:
        state = json.loads(state_file(workspace, url).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def source_urls(show: Show) -> list[str]:
    """The [harvest] sources' addresses, in the order show.toml lists them."""
    return [str(source) for source in show.harvest.sources] if show.harvest else []


def harvested(workspace: Path, show: Show) -> list[tuple[str, Source, Harvested]]:
    """Every briefing of the last good harvest, with its source's address and show, each GUID once (the first
    source's)."""
    seen: set[str] = set()
    briefings: list[tuple[str, Source, Harvested]] = []
    for url in source_urls(show):
        state = read_state(workspace, url)
        try:
            source = Source.model_validate(state.get("show") or {"title": url, "url": url})
        except ValidationError:  # edited by hand, as below: named by its address until the next harvest
            source = Source(title=url, url=url)
        for item in state.get("briefings", []):
            try:
                briefing = Harvested.model_validate(item)
            except ValidationError:
                continue  # the kept state was edited by hand: the next harvest writes it again
            if briefing.guid not in seen:
                seen.add(briefing.guid)
                briefings.append((url, source, briefing))
    return briefings


def harvested_episodes(workspace: Path, show: Show, taken: Collection[str]) -> list[Episode]:
    """The harvested briefings as this show lists them, except any whose GUID is in `taken` (this show's
    own): their themes mapped through [harvest.themes] (themes that map to none of this show's are left
    out), their audio, report and original page linked where the source published them."""
    mapping = show.harvest.themes if show.harvest else {}
    episodes = []
    for url, source, item in harvested(workspace, show):
        if item.guid in taken:
            continue
        themes = list(dict.fromkeys(mapping.get(theme, theme) for theme in item.themes))
        review = item.review
        briefing = Briefing.model_construct(
            title=item.title,
            summary=item.summary,
            review=BriefingReview.model_construct(
                type=review.type,
                subject=review.subject,
                partnership=review.partnership,
                region=review.region,
                report_url=HttpUrl(review.report),
                published=review.published,
            ),
            author=BriefingAuthor.model_construct(name=item.author.name, role=item.author.role or ""),
            key_lessons=list(item.lessons),
            themes=[theme for theme in themes if theme in show.themes],
            chapters=[],
            recording="",
            transcript=None,
            explicit=False,
            episode=None,
            artwork=None,
            withdraw_after=None,
        )
        slug = f"{url_slug(review.subject)[:40].strip('-')}-{hashlib.sha256(item.guid.encode()).hexdigest()[:8]}"
        origin = Origin(
            feed=url,
            show_title=source.title,
            show_url=source.url,
            page=item.page,
            media_url=item.audio.url,
            media_type=item.audio.type,
        )
        episodes.append(
            Episode(
                slug=slug,
                guid=item.guid,
                briefing=briefing,
                media_key="",
                media_size=item.audio.length,
                duration=float(item.audio.duration),
                page_key=f"briefings/{slug}/index.html",
                origin=origin,
            )
        )
    return episodes


def source_states(workspace: Path, show: Show) -> list[dict[str, Any]]:
    """Each source's last harvest: when, how many briefings, and the last try's error, if it failed."""
    states = []
    for url in source_urls(show):
        state = read_state(workspace, url)
        briefings = state.get("briefings", [])
        states.append(
            {
                "url": url,
                "harvested": state.get("harvested"),
                "briefings": len(briefings) if isinstance(briefings, list) else 0,
                "last_error": state.get("last_error"),
            }
        )
    return states


def _session() -> requests.Session:
    client = web.session("harvest")
    client.max_redirects = MAX_REDIRECTS
    # Connection failures and a busy server (502-504) are retried twice, a second apart, then reported.
    retry = Retry(total=2, backoff_factor=0.5, status_forcelist=(502, 503, 504), allowed_methods=("GET",))
    client.mount("https://", HTTPAdapter(max_retries=retry))
    client.mount("http://", HTTPAdapter(max_retries=retry))
    return client


def _get(client: requests.Session, url: str, limit: int, cached: dict[str, Any], deadline: float) -> bytes | None:
    """The body at `url` (at most `limit` bytes), or None when it is unchanged since `cached`'s validators;
    `cached` gets the new ones. Raises SourceError."""
    headers = {}
    if cached.get("etag"):
        headers["If-None-Match"] = str(cached["etag"])
    if cached.get("last_modified"):
        headers["If-Modified-Since"] = str(cached["last_modified"])
    try:
        with client.get(url, headers=headers, timeout=TIMEOUT_SECONDS, stream=True) as response:
            if response.status_code == 304 and headers:
                return None
            if response.status_code != 200:
                raise SourceError(
                    f"{url} answered HTTP {response.status_code} (fix: check the address with its publisher)"
                )
            data = bytearray()
            for chunk in response.iter_content(256 * 1024):
                data += chunk
                if len(data) > limit:
                    raise SourceError(f"{url} is over {limit // (1024 * 1024)} MB (fix: ask its publisher to check it)")
                if time.monotonic() > deadline:
                    raise SourceError(f"{url} took over {SOURCE_SECONDS} s (fix: try again later)")
            cached["etag"] = response.headers.get("ETag")
            cached["last_modified"] = response.headers.get("Last-Modified")
            return bytes(data)
    except requests.TooManyRedirects:
        raise SourceError(f"{url} redirects more than {MAX_REDIRECTS} times (fix: check the address)") from None
    except requests.RequestException as error:
        raise SourceError(
            f"{url} cannot be reached ({web.reason(error, TIMEOUT_SECONDS)}) (fix: try again later)"
        ) from None


def parse_feed(data: bytes, url: str) -> etree._Element:
    """The feed's channel, parsed safely; SourceError for anything else."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise SourceError(f"{url} is not well-formed XML ({error.msg}) (fix: ask its publisher)") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise SourceError(f"{url} declares a DTD, refused as untrusted XML (fix: a podcast feed needs none)")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise SourceError(f"{url} is not an RSS feed (fix: give the address of the show's feed.xml)")
    return channel


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, {"itunes": ITUNES_NS})
    return (found.text or "").strip() if found is not None else ""


def _from_item(item: etree._Element) -> dict[str, Any]:
    """A feed item as a catalogue entry (for a source without a catalogue)."""
    enclosure = item.find("enclosure")
    attributes = dict(enclosure.attrib) if enclosure is not None else {}
    try:
        when = parsedate_to_datetime(_text(item, "pubDate"))
    except (TypeError, ValueError):
        when = None
    return {
        "guid": _text(item, "guid"),
        "title": _text(item, "title"),
        "summary": _text(item, "itunes:summary") or _text(item, "description"),
        "published": when,
        "page": _text(item, "link"),
        "audio": {
            "url": attributes.get("url", ""),
            "type": attributes.get("type", ""),
            "length": attributes.get("length"),
        },
        "author": {"name": _text(item, "itunes:author")},
        **namespace.read_item(item),
    }


def _entries(raw: Sequence[Any], url: str, notes: list[str]) -> list[Harvested]:
    """The valid entries of `raw`; each refused one noted in a line naming what is wrong."""
    entries: list[Harvested] = []
    refused: dict[str, int] = {}
    for item in raw[:20000]:
        try:
            entries.append(Harvested.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            refused[f"{where}: {first['msg']}"] = refused.get(f"{where}: {first['msg']}", 0) + 1
    for problem, count in refused.items():
        notes.append(
            f"{url}: {count} briefing(s) skipped, {printable(problem)} (not a briefings show, or a broken entry)"
        )
    return entries


def fetch_source(url: str, cached: dict[str, Any], client: requests.Session) -> Fetched | None:
    """What `url` publishes now, with notes on what was skipped; None when nothing changed since `cached`.

    Once a source's catalogue is known, only the catalogue is fetched: one request, a 304 when unchanged.
    """
    deadline = time.monotonic() + SOURCE_SECONDS
    notes: list[str] = []
    catalogue_url = cached.get("catalogue_url")
    if not catalogue_url:
        feed = _get(client, url, MAX_FEED_BYTES, cached.setdefault("feed", {}), deadline)
        if feed is None:
            return None
        channel = parse_feed(feed, url)
        link = channel.find(f"{{{NAMESPACE}}}catalogue")
        if link is None:
            items = channel.findall("item")
            described = [item for item in items if item.find(f"{{{NAMESPACE}}}reviewType") is not None]
            if len(described) < len(items):
                notes.append(
                    f"{url}: {len(items) - len(described)} item(s) skipped: no review metadata (briefings:reviewType "
                    "and the rest of the briefings namespace), so not a briefings show (fix: harvest only shows "
                    "published with briefings, or ask the source to add the metadata)"
                )
            try:
                about = Source(title=_text(channel, "title"), url=_text(channel, "link"))
            except ValidationError:
                about = Source(title=url, url=url)
            return Fetched(_entries([_from_item(item) for item in described], url, notes), notes, about)
        catalogue_url = link.get("url", "")
        if not catalogue_url.startswith(("https://", "http://")):
            raise SourceError(f"{url}: its catalogue address is not http(s) (fix: ask its publisher)")
        cached["catalogue_url"] = catalogue_url
    data = _get(client, catalogue_url, MAX_CATALOGUE_BYTES, cached.setdefault("catalogue", {}), deadline)
    if data is None:
        return None
    try:
        catalogue = json.loads(data)
    except (ValueError, RecursionError):
        raise SourceError(f"{catalogue_url} is not JSON (fix: ask its publisher)") from None
    if not isinstance(catalogue, dict) or not isinstance(catalogue.get("briefings"), list):
        raise SourceError(f"{catalogue_url} is not a briefings catalogue (fix: ask its publisher)")
    try:
        about = Source.model_validate(catalogue.get("show"))
    except ValidationError:
        raise SourceError(f"{catalogue_url}: its show's title or address is missing (fix: ask its publisher)") from None
    return Fetched(_entries(catalogue["briefings"], url, notes), notes, about)


def harvest(
    workspace: Path, show: Show, moment: datetime, on_result: Callable[[SourceResult], None] | None = None
) -> list[SourceResult]:
    """Fetch every source at once (a few at a time), keep what each gives, and say what changed."""
    sources = source_urls(show)
    themes = set(show.themes) | set(show.harvest.themes if show.harvest else {})

    def one(url: str) -> SourceResult:
        state = read_state(workspace, url)
        cached = dict(state.get("http", {}))
        before = {item.get("guid"): item for item in state.get("briefings", []) if isinstance(item, dict)}
        try:
            with _session() as client:
                fetched = fetch_source(url, cached, client)
        except SourceError as error:
            state["last_error"] = str(error)
            state["http"] = {}  # ask afresh next time, finding the catalogue from the feed again
            state["tried"] = moment.isoformat()
            _save(workspace, url, state)
            return SourceResult(url, "failed", briefings=len(before), error=printable(str(error)))
        if fetched is None:
            state |= {"tried": moment.isoformat(), "harvested": moment.isoformat(), "last_error": None}
            _save(workspace, url, state)
            return SourceResult(url, "unchanged", briefings=len(before))
        entries, notes = fetched.entries, fetched.notes
        after = {entry.guid: entry.model_dump(mode="json") for entry in entries}
        unmapped = sorted({theme for entry in entries for theme in entry.themes} - themes)
        if unmapped:
            notes.append(
                f"{url}: themes this show neither has nor maps: {', '.join(printable(t) for t in unmapped)} "
                "(fix: add them to [harvest.themes] in show.toml; those briefings appear under the others)"
            )
        result = SourceResult(
            url,
            "unchanged",
            new=[guid for guid in after if guid not in before],
            changed=[guid for guid in after if guid in before and before[guid] != after[guid]],
            withdrawn=[str(guid) for guid in before if guid not in after],
            briefings=len(after),
            notes=notes,
        )
        result.status = next(
            (
                name
                for name, found in (("new", result.new), ("changed", result.changed), ("withdrawn", result.withdrawn))
                if found
            ),
            "unchanged",
        )
        _save(
            workspace,
            url,
            {
                "url": url,
                "http": cached,
                "briefings": list(after.values()),
                "show": fetched.show.model_dump(),
                "harvested": moment.isoformat(),
                "tried": moment.isoformat(),
                "last_error": None,
            },
        )
        return result

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(one, sources))
    _claims(workspace, sources, results)
    for result in results:
        if on_result is not None:
            on_result(result)
    return results


def _claims(workspace: Path, sources: Sequence[str], results: Sequence[SourceResult]) -> None:
    """Note each GUID a source lists that an earlier source already has: shown once, from the first."""
    owner: dict[str, str] = {}
    for url, result in zip(sources, results, strict=True):
        guids = [item.get("guid") for item in read_state(workspace, url).get("briefings", []) if isinstance(item, dict)]
        for guid in guids:
            first = owner.setdefault(str(guid), url)
            if first != url:
                result.notes.append(
                    f"{url}: lists briefing {printable(str(guid))}, which {first} has too; shown once, from {first}"
                )


def _save(workspace: Path, url: str, state: dict[str, Any]) -> None:
    path = state_file(workspace, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".partial")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)
