"""Cover art: a clean square PNG made from the routine, or the routine's own ``cover:`` image.

Phones show the cover in the library and on the lock screen, so the title is
large, the facts (exercises, length) are one line under it, and the colour
comes from the title, so that each routine's sessions look alike and
different routines look different.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import textwrap
from importlib import resources

from .._routine.durations import format_clock
from .._routine.languages import DEFAULT_LANGUAGE, phrases_for

SIZE_PX = 1400  # podcast apps ask for 1400 to 3000 px square
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_COVER_BYTES = 5_000_000


def image_mime(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` for those formats, else None."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def _font_path() -> str:
    """DejaVu Sans Bold, shipped with voicecoach (its licence beside it): Latin, Greek, Cyrillic and more."""
    return str(resources.files("voicecoach").joinpath("fonts", "DejaVuSans-Bold.ttf"))


def drawable(text: str, font) -> str:  # type: ignore[no-untyped-def]
    """``text`` without the characters ``font`` has no glyph for (they would be drawn as empty boxes)."""
    missing = _mask(font, "\uffff")
    return " ".join("".join(char for char in text if char.isspace() or _mask(font, char) != missing).split())


def _mask(font, char: str) -> tuple:  # type: ignore[no-untyped-def]
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def _fitted(text: str, width_px: int, image_font) -> tuple:  # type: ignore[no-untyped-def]
    """The largest title size whose words, wrapped, fit the width in at most 5 lines; and those lines."""
    for size in range(SIZE_PX // 11, SIZE_PX // 24, -SIZE_PX // 140):
        font = image_font.truetype(_font_path(), size)
        lines: list[str] = []
        for word in text.split() or [" "]:
            if lines and font.getlength(f"{lines[-1]} {word}") <= width_px:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        if len(lines) <= 5 and all(font.getlength(line) <= width_px for line in lines):
            return font, lines
    return font, [line for line in textwrap.wrap(text, width=28)[:5]] or [" "]


def cover_png(title: str, exercises: int, duration_ms: int, version: str | None = None,
              language: str = DEFAULT_LANGUAGE) -> bytes:
    """The generated cover: the title, the version (a variant), and "N exercises · M:SS" in the session's language."""
    from PIL import Image, ImageDraw, ImageFont  # only a build that writes tags pays for the import

    hue = int.from_bytes(hashlib.sha256(title.encode()).digest()[:2], "big") / 65535
    background = tuple(round(255 * c) for c in colorsys.hls_to_rgb(hue, 0.22, 0.45))
    accent = tuple(round(255 * c) for c in colorsys.hls_to_rgb(hue, 0.72, 0.6))
    image = Image.new("RGB", (SIZE_PX, SIZE_PX), background)
    draw = ImageDraw.Draw(image)
    margin = SIZE_PX // 10
    title_font = ImageFont.truetype(_font_path(), SIZE_PX // 11)
    small_font = ImageFont.truetype(_font_path(), SIZE_PX // 22)
    shown = drawable(title, title_font)
    if sum(char.isalnum() for char in shown) < sum(char.isalnum() for char in title) / 2:
        shown = drawable(version or "", title_font) or "voicecoach"  # a title in a script the font lacks
        version = None
    title_font, lines = _fitted(shown, SIZE_PX - 2 * margin, ImageFont)
    step = round(title_font.size * 1.15)
    y = margin + SIZE_PX // 10
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=(250, 250, 250))
        y += step
    if version:
        draw.text((margin, y + SIZE_PX // 40), version, font=small_font, fill=accent)
    draw.rectangle((margin, SIZE_PX - 2 * margin - 12, margin + SIZE_PX // 6, SIZE_PX - 2 * margin), fill=accent)
    facts = f"{phrases_for(language).exercises(exercises)}  ·  {format_clock(duration_ms)}"
    draw.text((margin, SIZE_PX - 2 * margin + SIZE_PX // 40), facts, font=small_font, fill=(235, 235, 235))
    draw.text((margin, SIZE_PX - margin), "voicecoach", font=small_font, fill=accent)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
