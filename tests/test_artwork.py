"""Apple's artwork rules, checked with Pillow: every way to get them wrong gets its own clear message."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from briefings.artwork import artwork_file_problem, artwork_problem
from briefings.errors import Problem
from tests.conftest import REPO, copy_example, run

FIX = "(fix: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)"


def make(path: Path, mode: str, size: tuple[int, int], image_format: str) -> None:
    Image.new(mode, size).save(path, format=image_format)


@pytest.mark.parametrize(
    ("name", "mode", "size", "image_format", "problem"),
    [
        ("art.jpg", "RGB", (1400, 1200), "JPEG", f"artwork is 1400x1200 pixels; Apple Podcasts requires a square image {FIX}"),
        ("art.jpg", "RGB", (1000, 1000), "JPEG", f"artwork is 1000x1000 pixels, smaller than the minimum Apple Podcasts allows {FIX}"),
        ("art.png", "RGB", (3001, 3001), "PNG", f"artwork is 3001x3001 pixels, larger than the maximum Apple Podcasts allows {FIX}"),
        ("art.png", "RGBA", (1400, 1400), "PNG", "artwork has an alpha channel (transparency); Apple Podcasts requires RGB without transparency (fix: save it as RGB: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)"),
        ("art.jpg", "CMYK", (1400, 1400), "JPEG", "artwork is in CMYK colour (for print); Apple Podcasts requires RGB without transparency (fix: save it as RGB: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)"),
        ("art.jpg", "L", (1400, 1400), "JPEG", "artwork is greyscale; Apple Podcasts requires RGB without transparency (fix: save it as RGB: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)"),
        ("art.gif", "RGB", (1400, 1400), "GIF", f"artwork is GIF; Apple Podcasts accepts only JPEG or PNG {FIX}"),
    ],
)  # fmt: skip
def test_artwork_breaking_apples_rules_stops_the_publish_with_one_clear_line(
    tmp_path: Path, name: str, mode: str, size: tuple[int, int], image_format: str, problem: str
) -> None:
    workspace = copy_example(tmp_path / "workspace")
    make(workspace / name, mode, size, image_format)
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace('artwork = "artwork.jpg"', f'artwork = "{name}"'))
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {workspace / name}: {problem}\n"
    assert not (workspace / "feed").exists()


def test_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "workspace")
    (workspace / "artwork.jpg").write_text("a cover picture, one day")
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {workspace / 'artwork.jpg'}: artwork is not an image Pillow can read {FIX}\n"


def test_artwork_at_the_limits_is_accepted(workspace: Path) -> None:
    (before,) = (workspace / "feed").glob("artwork-*.jpg")
    make(workspace / "artwork.jpg", "RGB", (3000, 3000), "JPEG")
    result = run(workspace, "publish")
    assert result.exit_code == 0, result.output
    (artwork,) = (workspace / "feed").glob("artwork-*.jpg")
    assert artwork.name != before.name  # renamed when it changes, as Apple asks
    with Image.open(artwork) as image:
        assert image.size == (3000, 3000)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`x`height` pixels, with almost no picture data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def cut_in_half(image_format: str) -> bytes:
    """A valid 1400x1400 RGB image of noise in `image_format`, cut off halfway through its picture data."""
    buffer = io.BytesIO()
    Image.effect_noise((1400, 1400), 60).convert("RGB").save(buffer, format=image_format)
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


LARGER = "artwork is far larger than the maximum Apple Podcasts allows"
CUT = "artwork is cut short or damaged: the picture cannot be decoded (fix: export it again: use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels)"


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        # Pillow refuses to open this one (a "decompression bomb"): 1.6 billion pixels.
        ("art.png", png_claiming(40_000, 40_000), f"{LARGER} {FIX}"),
        # Pillow only warns about this one (100 million pixels).
        ("art.png", png_claiming(10_000, 10_000), f"{LARGER} {FIX}"),
        ("art.jpg", cut_in_half("JPEG"), CUT),
        ("art.png", cut_in_half("PNG"), CUT),
    ],
    ids=["bomb", "near-bomb", "truncated-jpeg", "truncated-png"],
)
def test_artwork_that_cannot_be_decoded_whole_gets_one_line(
    tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    workspace = copy_example(tmp_path / "workspace")
    (workspace / name).write_bytes(data)
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace('artwork = "artwork.jpg"', f'artwork = "{name}"'))
    result = run(workspace, "publish")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {workspace / name}: {problem}\n"
    assert "Traceback" not in result.output
    assert not (workspace / "feed").exists()


def test_artwork_problems_are_returned_as_problems_for_check(tmp_path: Path) -> None:
    missing = tmp_path / "artwork.jpg"
    assert artwork_file_problem(missing) == Problem(
        str(missing), "artwork not found", "add it, or set `artwork` in show.toml"
    )
    assert artwork_file_problem(tmp_path) == Problem(
        str(tmp_path), "artwork not found", "add it, or set `artwork` in show.toml"
    )
    missing.write_bytes(cut_in_half("JPEG"))
    problem = artwork_file_problem(missing)
    assert problem is not None and str(problem) == f"{missing}: {CUT}"
    assert artwork_file_problem(REPO / "artwork.jpg") is None


def test_artwork_rules_give_a_problem_for_the_file_named() -> None:
    # Feed validation names the artwork by its address; check by its path.
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buffer, format="PNG")
    address = "https://briefings.example.org/artwork.png"
    assert artwork_problem(buffer.getvalue(), address) == Problem(
        address,
        "artwork is 100x100 pixels, smaller than the minimum Apple Podcasts allows",
        "use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels",
    )
    assert artwork_problem((REPO / "artwork.jpg").read_bytes(), "artwork.jpg") is None
