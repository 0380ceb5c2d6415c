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

from .durations import format_clock
from .phrases import DEFAULT_LANGUAGE, phrases_for

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
    title_font = ImageFont.load_default(size=SIZE_PX // 11)
    small_font = ImageFont.load_default(size=SIZE_PX // 22)
    lines = textwrap.wrap(title, width=16)[:5] or [" "]
    y = margin + SIZE_PX // 10
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=(250, 250, 250))
        y += SIZE_PX // 10
    if version:
        draw.text((margin, y + SIZE_PX // 40), version, font=small_font, fill=accent)
    draw.rectangle((margin, SIZE_PX - 2 * margin - 12, margin + SIZE_PX // 6, SIZE_PX - 2 * margin), fill=accent)
    facts = f"{phrases_for(language).exercises(exercises)}  ·  {format_clock(duration_ms)}"
    draw.text((margin, SIZE_PX - 2 * margin + SIZE_PX // 40), facts, font=small_font, fill=(235, 235, 235))
    draw.text((margin, SIZE_PX - margin), "voicecoach", font=small_font, fill=accent)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
