"""The archive's search: a Pagefind index of the published briefings only, fetched in parts by the browser."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from markupsafe import escape

from briefings.episode import Episode
from briefings.frequent import NAME_CHARACTERS, Frequent, frequent_files, frequent_words, hex_name
from briefings.runner import PagefindIndexing, pagefind_indexing

# Pagefind's bundle: archive.js imports pagefind/pagefind.js, which fetches only the parts a query needs.
BUNDLE_DIR = "pagefind"
SEARCH_SCRIPT_KEY = f"{BUNDLE_DIR}/pagefind.js"
# What archive.js shows of each result: one small JSON file of ours per briefing, `record/<id>.json` in the
# bundle, named by the id Pagefind gives the briefing's result. Not Pagefind's own per-result file (its
# "fragment", which is not published): that repeats every word indexed (a transcript's too), and metadata
# given to Pagefind to keep there doubled its memory and time when indexing 10,000 briefings.
RECORD_DIR = "record"
FRAGMENT_DIR = "fragment"
# For each value of each filter, the briefings that have it, newest first, as [id, published] (the result's
# id, the time in UTC as 2026-03-04T09:00:00Z, which sorts as text), in `list/<filter>/<name>.json`.
# archive.js reads them for filters chosen without words, instead of asking Pagefind (whose search without
# words fetches every part of its word index: 20 MB at 10,000 briefings), and the years' lists to put
# results of equal score newest first (not Pagefind's sort, whose order of every briefing is in the list of
# briefings each first search fetches: 26 kB at 10,000). A value's file is named by the hex of its UTF-8
# (as archive.js names it), cut short for a file name; the file maps each value it holds to its list, so
# values whose names are cut alike share it.
LIST_DIR = "list"
# What a bundle kept in the cache holds: 2 since the lists, 3 since their dates, 4 since the documents' names
# (document_address) and the bundle kept as one file (KEPT_FILE), 5 since the frequent words' files (frequent.py).
BUNDLE_FORMAT = 5
KEPT_FILE = "bundle.zip"
# Pagefind's own search interfaces and their styles: archive.js draws the results itself.
UNUSED = frozenset(
    {
        "pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
        "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js",
        "pagefind-worker.js",  # archive.js runs Pagefind in the page (noWorker): one script less to fetch
    }
)  # fmt: skip
# English words in nearly every briefing, left out of the index: each would be a part of the word index
# listing every briefing (at 10,000 briefings one such part was 265 kB, most of a first search's bytes)
# and tells no briefing from another. Pagefind leaves a word it does not know out of a query, and
# archive.js (given these on the search form) does not require them.
STOP_WORDS = frozenset(
    {
        "a", "about", "an", "and", "are", "as", "at", "be", "been", "but", "by", "do", "for", "from", "had",
        "has", "have", "he", "her", "his", "i", "if", "in", "is", "it", "its", "of", "on", "or", "she", "so",
        "that", "the", "their", "there", "they", "this", "to", "was", "we", "were", "what", "will", "with",
        "you",
    }
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Letters and digits in any script; everything else separates words. archive.js tells an empty query the same way.
_WORD = re.compile(r"[^\W_]+")
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


def search_words(text: str) -> list[str]:
    """The words of `text` as the search matches them: lower case, accents removed, punctuation dropped."""
    lowered = text.lower()
    if not lowered.isascii():  # most text is: skip the slow part
        decomposed = unicodedata.normalize("NFKD", lowered)
        # Dropping every combining mark (category M) matches archive.js's `\p{M}`, so "café" finds "cafe".
        lowered = "".join(character for character in decomposed if not unicodedata.category(character).startswith("M"))
    return _WORD.findall(lowered)


def length_label(seconds: float) -> str:
    """A briefing's length as the archive shows it: 45 s, or 12 min."""
    return f"{round(seconds)} s" if seconds < 60 else f"{round(seconds / 60)} min"


def long_date(moment: datetime) -> str:
    """A date as people in the UK write it: 4 June 2026."""
    # English month names whatever the machine's locale (strftime's %B follows it, and is slow).
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def page_url(episode: Episode) -> str:
    """The briefing page's address relative to the site root (its folder, served as index.html)."""
    return episode.page_key


def index_record(episode: Episode) -> dict[str, object]:
    """What the browser needs to show a briefing as a search result (`record/<id>.json` in the bundle)."""
    briefing = episode.briefing
    review = briefing.review
    record: dict[str, object] = {
        "slug": episode.slug,
        "url": page_url(episode),
        "title": briefing.title,
        "lessons": list(briefing.key_lessons),
        "themes": list(briefing.themes),
        "type": review.type.value,
        "subject": review.subject,
        "partnership": review.partnership,
        "region": review.region,
        "published": episode.published.isoformat(),
        "date": long_date(episode.published),
        "length": length_label(episode.duration),
        # Relative to the site root, or a harvested briefing's own address at its source.
        "media": episode.media_url(""),
    }
    if episode.origin is not None:
        record["from"] = {"title": episode.origin.show_title, "url": episode.origin.show_url}
    if briefing.staff_only:  # only ever in a subscriber's private search (site.render_staff_pages)
        record["staff"] = True
    return record


def record_bytes(episode: Episode) -> bytes:
    """A briefing's record as published (record/<id>.json in the bundle)."""
    return json.dumps(index_record(episode), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stop_words(language: str) -> frozenset[str]:
    """The words left out of the index for a show in `language` (none but for English)."""
    return STOP_WORDS if language.lower().split("-")[0] == "en" else frozenset()


def without(words: frozenset[str], text: str) -> str:
    """`text` without `words` (whole words, any case): what the index holds of it."""
    if not words:
        return text
    return " ".join(word for word in text.split() if word.lower() not in words)


def search_filters(episode: Episode) -> list[tuple[str, str]]:
    """A briefing's values for each of the archive's filters (archive.js's FILTERS), as (filter, value)."""
    briefing = episode.briefing
    review = briefing.review
    return (
        [("theme", theme) for theme in briefing.themes]
        + [("type", review.type.value), ("region", review.region), ("year", str(episode.published.year))]
        + [("partnership", review.partnership)]
    )


def list_name(value: str) -> str:
    """The name of the file holding a filter value's list (without .json), as archive.js makes it."""
    return hex_name(value)[:NAME_CHARACTERS]


def search_document(episode: Episode, language: str, transcript: str | None, record: bytes) -> str:
    """A briefing as Pagefind indexes it: a small HTML document of what the search matches, weighted, with
    a hash of its `record` (record_bytes).

    Not the briefing's page: its player, chapters and links are not words to search, and a harvested
    briefing's transcript is not here at all. The weights follow the old in-browser search: a title match
    ranks above the lessons, themes, summary, review details and transcript, in that order.
    """
    briefing = episode.briefing
    details, author = _details(episode)
    left_out = stop_words(language)

    def text(words: str) -> str:
        return str(escape(without(left_out, words)))

    parts = [
        f'<!doctype html><html lang="{escape(language)}"><head><title>{escape(briefing.title)}</title></head>',
        "<body data-pagefind-body",
        # The hash of its record (record_bytes): in Pagefind's fragment, whose hash names the result, so a
        # changed record (a new audio address) has a new name, as every other file of the bundle, which
        # is cached as never changing. Tiny: Pagefind's memory grows with the metadata it keeps.
        f' data-pagefind-meta="record[data-record]" data-record="{hashlib.sha256(record).hexdigest()[:16]}">',
        '<div data-pagefind-ignore="index">',
        # Filters from attributes, so a value's text is never split or trimmed by markup.
        *(
            f'<span data-pagefind-filter="{name}[data-value]" data-value="{escape(value)}"></span>'
            for name, value in search_filters(episode)
        ),
        "</div>",
        f'<h1 data-pagefind-weight="10">{text(briefing.title)}</h1>',
        f'<ol data-pagefind-weight="5">{"".join(f"<li>{text(lesson)}</li>" for lesson in briefing.key_lessons)}</ol>',
        f'<p data-pagefind-weight="4">{text(", ".join(briefing.themes))}</p>',
        f'<p data-pagefind-weight="3">{text(briefing.summary)}</p>',
        f'<p data-pagefind-weight="2">{text(details)}. {text(author)}.</p>',
    ]
    if transcript:
        parts.append(f'<p data-pagefind-weight="1">{text(transcript)}</p>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _details(episode: Episode) -> tuple[str, str]:
    """The review's details and the author, as the search matches them."""
    review, author = episode.briefing.review, episode.briefing.author
    details = " ".join([review.type.value, review.subject, review.partnership, review.region])
    return details, f"{author.name}, {author.role}"


def searched_texts(episode: Episode, transcript: str | None) -> tuple[str, str]:
    """What the search matches of a briefing (search_document) as two texts: its heaviest parts (the title,
    key lessons and themes), then the rest."""
    briefing = episode.briefing
    details, author = _details(episode)
    return (
        "\n".join([briefing.title, *briefing.key_lessons, *briefing.themes]),
        "\n".join([briefing.summary, details, author, transcript or ""]),
    )


def transcript_words(paragraphs: Iterable[str]) -> str:
    """A transcript as the distinct words it contains, in the order first spoken.

    The search matches every word of a query anywhere in a briefing, so the order and repeats of spoken
    words add nothing but size: the distinct words are about half the text of a ten-minute briefing, and
    Pagefind indexes them, and a result shown fetches them, in half the time and bytes.
    """
    # Every ASCII character but letters and digits becomes a space (fast, in C); only a transcript with
    # other characters needs each distinct token normalised the slow way. A build reads thousands.
    text = " ".join(paragraphs).lower().translate(_ASCII_SEPARATORS)
    tokens = dict.fromkeys(text.split())  # distinct, in a stable order (a set's order changes every run)
    if text.isascii():
        return " ".join(tokens)
    words: dict[str, None] = {}
    for token in tokens:
        words.update(dict.fromkeys([token] if token.isascii() else search_words(token)))
    return " ".join(words)


def pagefind_version() -> str:
    """The version of Pagefind that indexes the search (its binary's wheel)."""
    return version("pagefind_bin")


def _fingerprint(documents: dict[str, str], records: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"pagefind {pagefind_version()}, bundle {BUNDLE_FORMAT}\n".encode())
    for key in sorted(documents):
        digest.update(f"{len(key)} {key} {len(documents[key])} {len(records[key])}\n".encode())
        digest.update(documents[key].encode("utf-8"))
        digest.update(records[key])
    return digest.hexdigest()


def _read_kept(cache: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(cache / KEPT_FILE) as kept:
        return {name: kept.read(name) for name in kept.namelist()}


def _keep(cache: Path, files: dict[str, bytes], fingerprint: str) -> None:
    """Keep `files` in `cache`, in one file (some 21,000 files at national scale: each a third of a millisecond
    or more to make on a slow disk), with the `fingerprint` last, as the mark that they are whole."""
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    with zipfile.ZipFile(cache / KEPT_FILE, "w") as kept:  # stored: Pagefind's parts are compressed already
        for key, data in files.items():
            kept.writestr(key, data)
    (cache / "fingerprint").write_text(fingerprint)


def document_address(key: str) -> str:
    """The address the document at `key` is given to Pagefind at: a hash of the key, so a briefing's address,
    and with it its result's id (a hash of the fragment, which holds the address), stays the same whatever
    else changes."""
    return "/" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".html"


def _bundle(
    indexed: dict[str, bytes],
    key_of: dict[str, str],
    records: dict[str, bytes],
    holders: dict[tuple[str, str], list[str]],
    published: dict[str, str],
    years: list[tuple[str, list[str]]],
    frequent: Frequent,
) -> dict[str, bytes]:
    """The bundle as published, keyed by where: Pagefind's files (`indexed`, by path) but those not used, and
    each document's record (`key_of`: each document's key by the address Pagefind was given it at) under the
    id Pagefind gave its result (the name of the result's fragment: gzip of a signature and JSON naming the
    document) instead of the fragments, which nothing fetches (https://pagefind.app/docs/api/: each result's
    `id`, and `data()`, which would fetch them). Then each filter value's list of ids with their `published`
    times (LIST_DIR), in the order of its `holders` (_holders). Then the files of the `frequent` words
    (frequent.py), the documents in the order of `years` (_years)."""
    files: dict[str, bytes] = {}
    ids: dict[str, str] = {}  # by document key
    for path, data in sorted(indexed.items()):
        folder, _, name = path.rpartition("/")
        if name in UNUSED:
            continue
        if folder == FRAGMENT_DIR:
            found = json.loads(gzip.decompress(data).removeprefix(b"pagefind_dcd"))
            key = key_of[found["url"]]
            stem = name.rpartition(".")[0]
            ids[key] = stem
            files[f"{BUNDLE_DIR}/{RECORD_DIR}/{stem}.json"] = records[key]
        else:
            files[f"{BUNDLE_DIR}/{path}"] = data
    lists: dict[tuple[str, str], dict[str, list[list[str]]]] = {}
    for (name, value), keys in holders.items():
        # Not a document Pagefind found nothing to index in: it has no result.
        entries = [[ids[key], published[key]] for key in keys if key in ids]
        if entries:
            lists.setdefault((name, list_name(value)), {})[value] = entries
    for (name, file), held in lists.items():
        data = json.dumps(held, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        files[f"{BUNDLE_DIR}/{LIST_DIR}/{name}/{file}.json"] = data
    for path, data in frequent_files(frequent, years, holders, ids).items():
        files[f"{BUNDLE_DIR}/{path}"] = data
    return files


def _holders(filters: dict[str, list[tuple[str, str]]]) -> dict[tuple[str, str], list[str]]:
    """The documents with each filter value, by (filter, value): their keys in the order of `filters` (each
    document's values by key)."""
    holders: dict[tuple[str, str], list[str]] = {}
    for key, values in filters.items():
        for value in values:
            holders.setdefault(value, []).append(key)
    return holders


def _years(holders: dict[tuple[str, str], list[str]]) -> list[tuple[str, list[str]]]:
    """Each year's documents (_holders), newest year first: the order of the years' lists as archive.js walks
    them."""
    return sorted(((value, keys) for (name, value), keys in holders.items() if name == "year"), reverse=True)


@dataclass(frozen=True)
class Documents:
    """What Pagefind indexes (an HTML document per briefing) and what a result shows (its record), by the
    briefing's document key."""

    documents: dict[str, str]
    records: dict[str, bytes]
    # Each briefing's filter values, newest briefing first, and the time it was published (UTC, as LIST_DIR).
    filters: dict[str, list[tuple[str, str]]]
    published: dict[str, str]
    # What the search matches of each (searched_texts), for its frequent words (frequent.py); none for a show
    # in a language other than English.
    texts: dict[str, tuple[str, str]]


@contextmanager
def search_bundle(
    documents: Documents, pagefind: PagefindIndexing, cache: Path | None = None
) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Pagefind's search bundle for `documents`, which `pagefind` has been given (each at its
    document_address), with each document's record as archive.js shows its result, the lists of each filter
    value (LIST_DIR) and the files of the frequent words of the documents' texts (if the search leaves out
    STOP_WORDS), keyed by where they are published. The context gives a function that waits for Pagefind and
    returns the bundle, so the caller can render the pages meanwhile (Pagefind runs in another process, not a
    thread: Python's threads share one lock).

    Pagefind's filter and meta files differ from run to run for the same input (their entries come out of
    a hash map in a different order each time), so a bundle is kept in `cache` with a fingerprint of its
    input: an unchanged archive gets the same bytes, and publishes nothing new (Pagefind is stopped).
    """
    fingerprint = _fingerprint(documents.documents, documents.records)
    stamp = None if cache is None else cache / "fingerprint"
    if stamp is not None and stamp.is_file() and stamp.read_text() == fingerprint:
        try:
            kept = _read_kept(stamp.parent)
        except (OSError, zipfile.BadZipFile):
            pass  # damaged (a disk that lost it): made again
        else:
            pagefind.stop()
            yield lambda: kept
            return
    pagefind.done()
    key_of = {document_address(key): key for key in documents.documents}

    def bundle() -> dict[str, bytes]:
        # Worked out before waiting for Pagefind, which is still indexing.
        holders = _holders(documents.filters)
        years = _years(holders)
        texts = documents.texts
        ordered = [texts[key] for _, keys in years for key in keys] if texts else []
        frequent = frequent_words(ordered, search_words, STOP_WORDS)
        found = _bundle(pagefind.finished(), key_of, documents.records, holders, documents.published, years, frequent)
        if cache is not None:
            _keep(cache, found, fingerprint)
        return found

    yield bundle


@contextmanager
def search_index(
    episodes: Sequence[Episode], language: str, transcripts: dict[str, str], cache: Path | None = None
) -> Iterator[Callable[[], dict[str, bytes]]]:
    """The archive's search over `episodes` (search_documents), begun: Pagefind indexes each document as soon
    as it is made (on two cores, while the next are made), and the context gives a function that waits for
    the bundle (`search_bundle`)."""
    if not episodes:
        # Nothing to search: the archive shows no search box.
        yield dict
        return
    with pagefind_indexing() as pagefind:
        documents = search_documents(
            episodes, language, transcripts, lambda key, document: pagefind.add(document_address(key), document)
        )
        with search_bundle(documents, pagefind, cache) as bundle:
            yield bundle


def search_documents(
    episodes: Sequence[Episode],
    language: str,
    transcripts: dict[str, str],
    made: Callable[[str, str], object],
) -> Documents:
    """Every briefing given (published ones only) as the search indexes and shows it; `made` is given each
    document (by key) as soon as it is made.

    `transcripts` maps a slug to its transcript's distinct words (`transcript_words`): the search matches
    words, and repeats would double what Pagefind stores.
    """
    documents: dict[str, str] = {}
    records: dict[str, bytes] = {}
    filters: dict[str, list[tuple[str, str]]] = {}
    published: dict[str, str] = {}
    texts: dict[str, tuple[str, str]] = {}
    for episode in sorted(episodes, key=lambda episode: episode.published, reverse=True):
        key = document_key(episode)
        records[key] = record_bytes(episode)
        documents[key] = search_document(episode, language, transcripts.get(episode.slug), records[key])
        made(key, documents[key])
        filters[key] = search_filters(episode)
        published[key] = episode.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if stop_words(language):  # English: Snowball's English stemmer matches as Pagefind does (frequent.py)
            texts[key] = searched_texts(episode, transcripts.get(episode.slug))
    return Documents(documents, records, filters, published, texts)


def document_key(episode: Episode) -> str:
    """A briefing's document's key: its page's, from which the name Pagefind knows it by is made
    (document_address), so adding or changing one briefing leaves every other briefing's file in the bundle
    (named by a hash of its content, this name included) as it was."""
    return episode.page_key
