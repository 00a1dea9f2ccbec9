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


FIX = "use a square RGB JPEG or PNG of 1400x1400 to 3000x3000 pixels"
# A JPEG comment in the placeholder `init` draws, so a publish can tell it was never replaced.
PLACEHOLDER_MARK = b"briefings placeholder artwork: replace it with the show's own"
# Pillow's colour modes, in words, for the modes people meet when exporting artwork.
MODES = {
    "RGBA": "has an alpha channel (transparency)",
    "LA": "is greyscale with an alpha channel (transparency)",
    "P": "uses a colour palette",
    "PA": "uses a colour palette with transparency",
    "L": "is greyscale",
    "1": "is black and white (1 bit)",
    "CMYK": "is in CMYK colour (for print)",
    "I;16": "is 16-bit greyscale",
}


def artwork_problem(data: bytes) -> str | None:
    """What breaks Apple's artwork rules in this image, with the fix; None when it meets them."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, mode, (width, height) = image.format, image.mode, image.size
    except (UnidentifiedImageError, OSError):
        return f"artwork is not an image Pillow can read (fix: {FIX})"
    if kind not in FORMATS:
        return f"artwork is {kind or 'an unknown format'}; Apple Podcasts accepts only JPEG or PNG (fix: {FIX})"
    if width != height:
        return f"artwork is {width}x{height} pixels; Apple Podcasts requires a square image (fix: {FIX})"
    if not MIN_SIDE <= width <= MAX_SIDE:
        limit = "smaller than the minimum" if width < MIN_SIDE else "larger than the maximum"
        return f"artwork is {width}x{height} pixels, {limit} Apple Podcasts allows (fix: {FIX})"
    if mode != "RGB":
        described = MODES.get(mode, f"is in {mode} colour mode")
        return f"artwork {described}; Apple Podcasts requires RGB without transparency (fix: save it as RGB: {FIX})"
    return None


def artwork_type(data: bytes) -> str:
    """The MIME type of artwork that meets the rules (check `artwork_problem` first)."""
    with Image.open(io.BytesIO(data)) as image:
        return FORMATS[str(image.format)]


def check_artwork(path: Path) -> str:
    """Raise ShowError unless `path` meets Apple's artwork rules; return its MIME type."""
    if not path.is_file():
        raise ShowError(f"{shown(path)}: artwork not found (fix: add it, or set `artwork` in show.toml)")
    data = path.read_bytes()
    problem = artwork_problem(data)
    if problem is not None:
        raise ShowError(f"{shown(path)}: {problem}")
    return artwork_type(data)


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
    image.save(buffer, format="JPEG", quality=88, comment=PLACEHOLDER_MARK)
    return buffer.getvalue()
