"""Show artwork: check it meets Apple's rules, and draw a placeholder for new workspaces."""

from __future__ import annotations

import io
import textwrap
import warnings
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from briefings.errors import Problem, ShowError, shown

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


def artwork_problem(data: bytes, file: str) -> Problem | None:
    """What breaks Apple's artwork rules in this image (the artwork `file`), and the fix; None when it meets them."""
    try:
        # Pillow refuses (or warns about) an image whose header claims more pixels than it will decode safely
        # ("decompression bombs"); either way it is far over Apple's maximum. The warning is raised here
        # instead of printed, so the problem is reported once, in one line.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Problem(file, "artwork is far larger than the maximum Apple Podcasts allows", FIX)
    except (UnidentifiedImageError, OSError):
        return Problem(file, "artwork is not an image Pillow can read", FIX)
    with image:
        kind, mode, (width, height) = image.format, image.mode, image.size
        if kind not in FORMATS:
            return Problem(
                file, f"artwork is {kind or 'an unknown format'}; Apple Podcasts accepts only JPEG or PNG", FIX
            )
        if width != height:
            return Problem(file, f"artwork is {width}x{height} pixels; Apple Podcasts requires a square image", FIX)
        if not MIN_SIDE <= width <= MAX_SIDE:
            limit = "smaller than the minimum" if width < MIN_SIDE else "larger than the maximum"
            return Problem(file, f"artwork is {width}x{height} pixels, {limit} Apple Podcasts allows", FIX)
        if mode != "RGB":
            described = MODES.get(mode, f"is in {mode} colour mode")
            message = f"artwork {described}; Apple Podcasts requires RGB without transparency"
            return Problem(file, message, f"save it as RGB: {FIX}")
        # The header alone can be whole while the picture is cut short: decode every pixel, as apps will.
        # Pillow reports a damaged PNG chunk as a SyntaxError, a short file as an OSError.
        try:
            image.load()
        except (OSError, SyntaxError):
            message = "artwork is cut short or damaged: the picture cannot be decoded"
            return Problem(file, message, f"export it again: {FIX}")
    return None


def artwork_type(data: bytes) -> str:
    """The MIME type of artwork that meets the rules (check `artwork_problem` first)."""
    with Image.open(io.BytesIO(data)) as image:
        return FORMATS[str(image.format)]


def artwork_file_problem(path: Path) -> Problem | None:
    """What stops the show's artwork file at `path` from being published; None when it meets Apple's rules."""
    if not path.is_file():
        return Problem(shown(path), "artwork not found", "add it, or set `artwork` in show.toml")
    return artwork_problem(path.read_bytes(), shown(path))


def check_artwork(path: Path) -> str:
    """Raise ShowError unless `path` meets Apple's artwork rules; return its MIME type."""
    problem = artwork_file_problem(path)
    if problem is not None:
        raise ShowError(problem)
    return artwork_type(path.read_bytes())


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
