"""The search's answer to a query whose every word is in hundreds of briefings: which briefings have each
such word, worked out by the build, so the browser need not ask Pagefind.

Pagefind's search compares each briefing it matches with every briefing that has a word the query's words
begin (in its WebAssembly, as of Pagefind 1.5.2 and 1.6.0; https://github.com/Pagefind/pagefind/pull/1334
would group them first), so its time grows with the square of the matches: a word in every briefing of
10,000 took it 0.7-1.3 s. A query with a word in fewer than FREQUENT briefings has fewer matches than that,
and Pagefind answers it as before.

For each word the search would match in at least FREQUENT briefings, the bundle holds a bitset of them
(bit i, in byte i // 8 from its lowest bit, for the briefing at place i of the years' lists: newest year
first, each newest first), twice: the briefings with it in the title, a key lesson or a theme (the search's
heaviest weights), then those with it anywhere (`word/<hex of its UTF-8>.bin`), and the frequent words
by their first two letters (`words/<hex of its UTF-8>.json`: a query's words are looked up there, a few
dozen bytes each, not in one list of them all, which is 12 kB at 10,000 briefings). A bitset per filter
value too (`<filter>/<hex>.bin`), and each year's result ids in that order, to name the briefings found
(`ids/<year>.json`). All in `common/<generation>/` (a hash of their content, so cached as never changing),
named by `common.json`.

A word matches as Pagefind matches it: a briefing with a word whose stem (Snowball's English stemmer, which
Pagefind uses: https://pagefind.app/docs/multilingual/; here PyStemmer, the Snowball project's own, in C)
begins with the word's stem.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import Stemmer

# The fewest briefings a word must be in for the browser to take its briefings from the bundle.
FREQUENT = 500
INDEX_NAME = "common.json"
FOLDER = "common"
# A file named by the hex of a value's UTF-8 has at most this many characters of it (archive.js:
# NAME_CHARACTERS): a longer word or filter value gets no file here (archive.js then asks Pagefind), and a
# filter value's list (search.py: list_name) is named by its first ones.
NAME_CHARACTERS = 120


def hex_name(text: str) -> str:
    """The name of a file for `text` (a word, a filter value): the hex of its UTF-8, as archive.js's hex()."""
    return text.encode("utf-8").hex()


def beginning(word: str) -> str:
    """The first two letters of `word` (all of a word of one), by which the frequent words are listed."""
    return word[:2]


def _bits(places: Iterable[int], size: int) -> int:
    found = bytearray(size)
    for place in places:
        found[place >> 3] |= 1 << (place & 7)
    return int.from_bytes(found, "little")


class Stems:
    """The briefings each stem is in, bitsets by place, for finding those a word's stem begins."""

    def __init__(self, postings: Mapping[str, list[int]], stems: Mapping[str, str], size: int) -> None:
        by_stem: dict[str, list[int]] = {}
        for word, places in postings.items():
            by_stem.setdefault(stems[word], []).extend(places)
        self.ordered = sorted(by_stem)
        self.places = [by_stem[stem] for stem in self.ordered]
        # How many places the stems before each have: a bound on what a range of stems can match.
        self.before = [0]
        for places in self.places:
            self.before.append(self.before[-1] + len(places))
        self.size = size
        self._bits: dict[int, int] = {}

    def starting(self, stem: str) -> range:
        """The indexes in `ordered` of the stems that begin with `stem`."""
        return range(bisect_left(self.ordered, stem), bisect_left(self.ordered, stem + "\U0010ffff"))

    def bound(self, found: range) -> int:
        """At least as many as the briefings the stems at `found` are in (briefings counted once per stem)."""
        return self.before[found.stop] - self.before[found.start]

    def union(self, found: range) -> int:
        """The briefings the stems at `found` are in, as a bitset."""
        union = 0
        for index in found:
            if index not in self._bits:
                self._bits[index] = _bits(self.places[index], self.size)
            union |= self._bits[index]
        return union


@dataclass(frozen=True)
class Frequent:
    """The frequent words, each with its bitsets (frequent_words), and the first two letters of every word."""

    words: dict[str, bytes]
    beginnings: frozenset[str]


def frequent_words(
    texts: Sequence[tuple[str, str]], split: Callable[[str], list[str]], stop_words: frozenset[str]
) -> Frequent:
    """For each word the search matches in at least FREQUENT of the briefings whose (heavy, other) searched
    texts are `texts`, in the order of the years' lists, words as `split` finds them: the bitset of those
    with it in the heavy text, then of those with it anywhere. None below FREQUENT briefings."""
    if len(texts) < FREQUENT:
        return Frequent({}, frozenset())
    heavy: defaultdict[str, list[int]] = defaultdict(list)
    anywhere: defaultdict[str, list[int]] = defaultdict(list)
    for place, (weighty, other) in enumerate(texts):
        first = set(split(weighty))
        first -= stop_words
        rest = set(split(other))
        rest -= stop_words
        rest |= first
        for word in first:
            heavy[word].append(place)
        for word in rest:
            anywhere[word].append(place)
    words = list(anywhere)
    stems = dict(zip(words, Stemmer.Stemmer("english").stemWords(words), strict=True))
    size = (len(texts) + 7) // 8
    every, weighty_stems = Stems(anywhere, stems, size), Stems(heavy, stems, size)
    found: dict[str, bytes] = {}
    by_stem: dict[str, bytes | None] = {}
    for word in words:
        stem = stems[word]
        if stem not in by_stem:
            matched = every.starting(stem)
            union = every.union(matched) if every.bound(matched) >= FREQUENT else 0
            by_stem[stem] = None
            if union.bit_count() >= FREQUENT:
                in_heavy = weighty_stems.union(weighty_stems.starting(stem))
                by_stem[stem] = in_heavy.to_bytes(size, "little") + union.to_bytes(size, "little")
        bitsets = by_stem[stem]
        if bitsets is not None and len(hex_name(word)) <= NAME_CHARACTERS:
            found[word] = bitsets
    return Frequent(found, frozenset(beginning(word) for word in words))


def frequent_files(
    frequent: Frequent,
    years: Sequence[tuple[str, list[str]]],
    holders: Mapping[tuple[str, str], Sequence[str]],
    ids: Mapping[str, str],
) -> dict[str, bytes]:
    """The files of the answer (paths within the bundle): the `frequent` words', each filter value's
    bitset (`holders`: the keys of the documents with each (filter, value)), each year's ids (`years`: each
    year's document keys, in the order of the bitsets; `ids`: each document's result id). None if a document has no result (a
    document Pagefind found nothing to index in has no place in the years' lists): archive.js then asks
    Pagefind for every query (as it does when `common.json` names no folder)."""
    if not frequent.words or any(key not in ids for _, keys in years for key in keys):
        return {INDEX_NAME: json.dumps({"folder": None}).encode()}
    place = {key: index for index, key in enumerate(key for _, keys in years for key in keys)}
    size = (len(place) + 7) // 8
    files = {f"word/{hex_name(word)}.bin": bitsets for word, bitsets in frequent.words.items()}
    # A file for the beginning of every word (none of them frequent, some), so a word searched finds one.
    beginnings: dict[str, list[str]] = {start: [] for start in frequent.beginnings}
    for word in sorted(frequent.words):
        beginnings[beginning(word)].append(word)
    for start, starting in beginnings.items():
        data = json.dumps(starting, ensure_ascii=False, separators=(",", ":")).encode()
        files[f"words/{hex_name(start)}.json"] = data
    for (name, value), keys in holders.items():
        file = hex_name(value)
        if len(file) <= NAME_CHARACTERS:
            files[f"{name}/{file}.bin"] = _bits((place[key] for key in keys), size).to_bytes(size, "little")
    for year, keys in years:
        files[f"ids/{year}.json"] = json.dumps([ids[key] for key in keys], separators=(",", ":")).encode()
    generation = hashlib.sha256()
    for name in sorted(files):
        generation.update(f"{name} {len(files[name])}\n".encode())
        generation.update(files[name])
    folder = f"{FOLDER}/{generation.hexdigest()[:16]}"
    return {
        **{f"{folder}/{name}": data for name, data in files.items()},
        INDEX_NAME: json.dumps({"folder": folder + "/"}).encode(),
    }
