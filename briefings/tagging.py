"""ID3v2.3 tags, cover art and chapters (ID3v2 Chapter Frame Addendum) via mutagen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, WOAR, CTOCFlags, PictureType
from mutagen.mp3 import MP3


@dataclass(frozen=True)
class Tags:
    """What a player shows for one episode file."""

    title: str
    artist: str
    album: str
    year: int
    comment: str
    url: str
    artwork: bytes
    artwork_mime: str
    chapters: tuple[tuple[float, str], ...]


def duration(path: Path) -> float:
    """The exact playing time of an MP3 in seconds (from its Xing/LAME header)."""
    info = MP3(path).info
    assert info is not None  # MP3() raises when the file holds no MPEG audio
    return float(info.length)


def write_tags(path: Path, tags: Tags) -> None:
    """Replace any tags in the MP3 at `path` with `tags`, saved as ID3v2.3 (what most players read)."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=[tags.title]))
    id3.add(TPE1(encoding=3, text=[tags.artist]))
    id3.add(TALB(encoding=3, text=[tags.album]))
    id3.add(TDRC(encoding=3, text=[str(tags.year)]))
    id3.add(TCON(encoding=3, text=["Podcast"]))
    id3.add(COMM(encoding=3, lang="eng", desc="", text=[tags.comment]))
    id3.add(WOAR(url=tags.url))
    id3.add(APIC(encoding=3, mime=tags.artwork_mime, type=PictureType.COVER_FRONT, desc="Cover", data=tags.artwork))
    if tags.chapters:
        end_ms = int(duration(path) * 1000)
        starts = [int(start * 1000) for start, _ in tags.chapters]
        ids = [f"chp{number}" for number in range(len(starts))]
        for number, (start_ms, (_, title)) in enumerate(zip(starts, tags.chapters, strict=True)):
            stop_ms = starts[number + 1] if number + 1 < len(starts) else end_ms
            # 0xFFFFFFFF offsets mean "use the times", per the Chapter Frame Addendum.
            id3.add(
                CHAP(
                    element_id=ids[number], start_time=start_ms, end_time=stop_ms,
                    start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=[title])],
                )
            )  # fmt: skip
        flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
        id3.add(
            CTOC(element_id="toc", flags=flags, child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])])
        )
    id3.save(path, v2_version=3)
