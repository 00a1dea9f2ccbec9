"""Tags, cover art and chapters: ID3v2.3 with the Chapter Frame Addendum for MP3 (via mutagen); for AAC
in MP4, iTunes-style tags (via mutagen) and chapters as both a QuickTime chapter track and a Nero `chpl`
list (written by ffmpeg), the two forms podcast apps read."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mutagen
from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, WOAR, CTOCFlags, PictureType
from mutagen.mp4 import MP4, MP4Cover

from briefings.errors import BriefingsError
from briefings.runner import Runner

# The media types feeds and storage give each format's files.
MEDIA_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a"}


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
    """The exact playing time of an MP3 (from its Xing/LAME header) or an MP4 (from its index), in seconds."""
    audio = mutagen.File(path)
    if audio is None or audio.info is None:
        raise BriefingsError(f"{path}: not an MP3 or MP4 file (fix: report this as a bug)")
    return float(audio.info.length)


def tag(source: Path, target: Path, tags: Tags, runner: Runner) -> None:
    """Write a copy of the encoded `source` to `target` with `tags` (the format follows the suffix)."""
    if source.suffix == ".m4a":
        _tag_mp4(source, target, tags, runner)
    else:
        shutil.copyfile(source, target)
        _tag_mp3(target, tags)


def _tag_mp3(path: Path, tags: Tags) -> None:
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
    spans = _chapter_spans(path, tags.chapters)
    if spans:
        ids = [f"chp{number}" for number in range(len(spans))]
        for element_id, (start_ms, stop_ms, title) in zip(ids, spans, strict=True):
            # 0xFFFFFFFF offsets mean "use the times", per the Chapter Frame Addendum.
            id3.add(
                CHAP(
                    element_id=element_id, start_time=start_ms, end_time=stop_ms,
                    start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=[title])],
                )
            )  # fmt: skip
        flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
        id3.add(
            CTOC(element_id="toc", flags=flags, child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])])
        )
    id3.save(path, v2_version=3)
    _chapters_in_time_order(path)


def _chapters_in_time_order(path: Path) -> None:
    """Store the CHAP frames of the ID3v2.3 tag mutagen wrote at the start of `path` last, in time order.

    mutagen stores frames sorted by size; players that list chapters in stored order rather than the
    CTOC's (older ffprobe among them) would show them shuffled. Only the order of whole frames changes,
    so the tag keeps its size (ID3v2.3 section 3: frames may come in any order).
    """
    with path.open("r+b") as file:
        header = file.read(10)
        size = sum(byte << (7 * (3 - index)) for index, byte in enumerate(header[6:10]))  # a synchsafe integer
        tag = file.read(size)
        frames: list[bytes] = []
        position = 0
        while position + 10 <= len(tag) and tag[position] != 0:  # padding, all zeros, follows the frames
            end = position + 10 + int.from_bytes(tag[position + 4 : position + 8], "big")
            frames.append(tag[position:end])
            position = end
        chapters = sorted((frame for frame in frames if frame.startswith(b"CHAP")), key=_chapter_start)
        file.seek(10)
        file.write(b"".join([frame for frame in frames if not frame.startswith(b"CHAP")] + chapters))


def _chapter_start(frame: bytes) -> int:
    """A CHAP frame's start time in milliseconds: the 4 bytes after its 10-byte header and NUL-ended element ID."""
    start = frame.index(b"\0", 10) + 1
    return int.from_bytes(frame[start : start + 4], "big")


def _chapter_spans(path: Path, chapters: tuple[tuple[float, str], ...]) -> list[tuple[int, int, str]]:
    """Each chapter's start and end in milliseconds, and title: a chapter ends where the next starts,
    the last where the audio file at `path` ends."""
    if not chapters:
        return []
    starts = [int(start * 1000) for start, _ in chapters]
    ends = [*starts[1:], int(duration(path) * 1000)]
    return [(start, end, title) for start, end, (_, title) in zip(starts, ends, chapters, strict=True)]


def _escaped(text: str) -> str:
    """`text` as a value in ffmpeg's metadata file format, which escapes = ; # \\ and line breaks.

    ffmpeg reads any backslash at the end of a line as joining it to the next, even an escaped one,
    so a trailing backslash (meaningless in a title) is left out.
    """
    return re.sub(r"([=;#\\\n])", r"\\\1", text.rstrip("\\"))


def _tag_mp4(source: Path, target: Path, tags: Tags, runner: Runner) -> None:
    lines = [";FFMETADATA1"]
    for start_ms, stop_ms, title in _chapter_spans(source, tags.chapters):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start_ms}", f"END={stop_ms}", f"title={_escaped(title)}"]
    with tempfile.TemporaryDirectory(prefix="briefings-") as folder:
        chapters = Path(folder) / "chapters.txt"
        chapters.write_text("\n".join(lines) + "\n", encoding="utf-8")
        process = runner.ffmpeg_run(
            [
                "-y", "-i", str(source), "-f", "ffmetadata", "-i", str(chapters), "-map", "0:a",
                "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", "-movflags", "+faststart",
                "-f", "mp4", str(target),
            ]
        )  # fmt: skip
    if process.returncode != 0:
        raise BriefingsError(
            f"{source}: could not write chapters ({process.stderr.strip()[-200:]}) (fix: report this as a bug)"
        )
    mp4 = MP4(target)
    if mp4.tags is None:
        mp4.add_tags()
    assert mp4.tags is not None
    cover = MP4Cover.FORMAT_PNG if tags.artwork_mime == "image/png" else MP4Cover.FORMAT_JPEG
    mp4.tags.update(
        {
            "\xa9nam": [tags.title],
            "\xa9ART": [tags.artist],
            "\xa9alb": [tags.album],
            "\xa9day": [str(tags.year)],
            "\xa9gen": ["Podcast"],
            "\xa9cmt": [tags.comment],
            "purl": [tags.url],
            "pcst": True,
            "covr": [MP4Cover(tags.artwork, imageformat=cover)],
        }
    )
    mp4.save()
