"""ID3 tags as they are stored: the chapters in time order in the file itself, not only in the CTOC."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mutagen.id3 import ID3

from briefings.runner import Runner, find_ffmpeg
from briefings.tagging import Tags, tag


def stored_frames(path: Path) -> list[tuple[str, str]]:
    """The ID3v2.3 tag's frames in the order they are stored: (frame ID, element ID for CHAP and CTOC)."""
    data = path.read_bytes()
    assert data[:4] == b"ID3\x03"
    size = sum(byte << (7 * (3 - index)) for index, byte in enumerate(data[6:10]))
    frames, position = [], 10
    while position < 10 + size and data[position] != 0:
        name = data[position : position + 4].decode()
        length = int.from_bytes(data[position + 4 : position + 8], "big")
        body = data[position + 10 : position + 10 + length]
        frames.append((name, body[: body.index(b"\0")].decode() if name in ("CHAP", "CTOC") else ""))
        position += 10 + length
    return frames


def test_chap_frames_are_stored_in_time_order(tmp_path: Path) -> None:
    source = tmp_path / "8k-1ch-60s-tone.mp3"
    subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:r=8000:d=60", source], check=True
    )
    # Titles whose sizes are not in time order: mutagen alone stores the shortest frame first.
    titles = ["A much longer introduction", "B", "Key lesson three, at length", "D", "Ending"]
    chapters = tuple((start * 10.0, title) for start, title in enumerate(titles))
    tags = Tags("T", "A", "S", 2026, "C", "https://example.org/", b"\xff\xd8 fake", "image/jpeg", chapters)
    target = tmp_path / "tagged.mp3"
    tag(source, target, tags, Runner())
    stored = [element for name, element in stored_frames(target) if name == "CHAP"]
    assert stored == ["chp0", "chp1", "chp2", "chp3", "chp4"]
    assert [name for name, _ in stored_frames(target)][-5:] == ["CHAP"] * 5
    id3 = ID3(target)
    assert [(frame.start_time, frame.sub_frames["TIT2"].text[0]) for frame in id3.getall("CHAP")] == sorted(
        (int(start * 1000), title) for start, title in chapters
    )
    assert id3.getall("CTOC")[0].child_element_ids == stored
    assert id3["TIT2"].text == ["T"] and id3.getall("APIC")[0].data == b"\xff\xd8 fake"
    # ffmpeg reads the rewritten tag: every chapter, in order.
    metadata = subprocess.run(
        [find_ffmpeg(), "-loglevel", "error", "-i", target, "-f", "ffmetadata", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert [line.removeprefix("title=") for line in metadata.splitlines() if line.startswith("title=")][1:] == titles
