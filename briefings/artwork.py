"""Show artwork: check it meets Apple's rules, and draw a placeholder for new workspaces."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from briefings.errors import ShowError, shown

# Apple Podcasts artwork requirements: square, 1400 to 3000 pixels, RGB, JPEG or PNG.
MIN_SIDE, MAX_SIDE = 1400, 3000
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


def check_artwork(path: Path) -> str:
    """Raise ShowError unless `path` meets Apple's artwork rules; return its MIME type."""
    fix = "use a square RGB JPEG or PNG of 1400 to 3000 pixels"
    if not path.is_file():
        raise ShowError(f"{shown(path)}: artwork not found (fix: add it, or set `artwork` in show.toml)")
    try:
        with Image.open(path) as image:
            kind, mode, (width, height) = image.format, image.mode, image.size
    except (UnidentifiedImageError, OSError):
        raise ShowError(f"{shown(path)}: not an image (fix: {fix})") from None
    if kind not in FORMATS:
        raise ShowError(f"{shown(path)}: artwork is {kind}, not JPEG or PNG (fix: {fix})")
    if width != height or not MIN_SIDE <= width <= MAX_SIDE:
        raise ShowError(f"{shown(path)}: artwork is {width}x{height} pixels (fix: {fix})")
    if mode != "RGB":
        raise ShowError(f"{shown(path)}: artwork is in {mode} colour mode (fix: {fix}, without transparency)")
    return FORMATS[kind]


def placeholder(title: str) -> bytes:
    """A 1400x1400 JPEG with the show's title, to replace with real artwork."""
    image = Image.new("RGB", (MIN_SIDE, MIN_SIDE), (18, 52, 86))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=120)
    lines = textwrap.wrap(title, width=16) or ["Briefings"]
    top = (MIN_SIDE - 150 * len(lines)) // 2
    for number, line in enumerate(lines):
        draw.text((MIN_SIDE // 2, top + 150 * number), line, font=font, fill=(255, 255, 255), anchor="mt")
    draw.rectangle((100, 1200, 1300, 1215), fill=(255, 196, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()
