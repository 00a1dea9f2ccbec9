"""Apple's artwork rules, checked with Pillow: every way to get them wrong gets its own clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import copy_example, run

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
