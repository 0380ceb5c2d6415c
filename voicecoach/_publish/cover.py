"""Cover art: a clean square PNG made from the routine, or the routine's own ``cover:`` image.

Phones show the cover in the library and on the lock screen, so the title is
large, the facts (exercises, length) are one line under it, and the colour
comes from the title, so that each routine's sessions look alike and
different routines look different.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import textwrap
from importlib import resources
from typing import TYPE_CHECKING

from .._routine.durations import format_clock
from .._routine.languages import DEFAULT_LANGUAGE, phrases_for

if TYPE_CHECKING:
    from PIL import Image as PILImage

SIZE_PX = 1400  # podcast apps ask for 1400 to 3000 px square; a routine's own cover is embedded at most this big
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_COVER_BYTES = 5_000_000
# A routine's own cover is at most this wide and high, read from its header before a pixel is decoded (Pillow's
# own guard against decompression bombs allows 89 million pixels; this allows 16.8 million, 64 MB decoded).
MAX_COVER_SIDE_PX = 4096
JPEG_QUALITY = 90


class CoverError(Exception):
    """A routine's cover that is not used; the message continues a sentence that starts with its name
    ("is 20000 x 20000 px; a cover is at most ...")."""


def image_mime(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` for those formats, else None."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def decoded_cover(data: bytes) -> PILImage.Image:
    """The PNG or JPEG image ``data`` decoded, once its header says it is at most MAX_COVER_SIDE_PX a side.

    Raises CoverError for anything else: an unknown or damaged image, a decompression bomb, too many pixels."""
    from PIL import JpegImagePlugin, PngImagePlugin

    kind = {"image/png": PngImagePlugin.PngImageFile, "image/jpeg": JpegImagePlugin.JpegImageFile}.get(
        image_mime(data) or "")
    if kind is None:
        raise CoverError("is not a PNG or JPEG image; phones show only those, so save it as .png or .jpg")
    try:
        # The format's own class reads only the header (its size); Image.open would also warn on, or refuse,
        # a size far above ours, through a warning filter that is global to the process.
        image = kind(io.BytesIO(data))
        width, height = image.size
        if width > MAX_COVER_SIDE_PX or height > MAX_COVER_SIDE_PX:
            raise CoverError(f"is {width} x {height} px; a cover is at most {MAX_COVER_SIDE_PX} x "
                             f"{MAX_COVER_SIDE_PX} px, so scale it down ({SIZE_PX} x {SIZE_PX} px is plenty)")
        image.draft("RGB", (SIZE_PX, SIZE_PX))  # a large JPEG is decoded at a smaller scale, still at least this
        image.load()
    except CoverError:
        raise
    except Exception as error:  # hostile bytes: Pillow raises OSError, SyntaxError, ValueError...
        raise CoverError(f"is not a PNG or JPEG image Pillow can read ({_why(error)}); open it in an image editor "
                         "and save it again as .png or .jpg") from None
    return image


@functools.lru_cache(maxsize=4)
def embedded_cover(data: bytes) -> bytes:
    """The cover to embed for the routine's own image ``data``: decoded (``decoded_cover``), turned upright (its
    EXIF orientation), at most SIZE_PX a side, and encoded again in its format (a PNG keeps its transparency).
    Nothing of the file but its pixels reaches the MP3: no metadata, no trailing bytes, no profile."""
    from PIL import ImageOps

    image = decoded_cover(data)
    png = data.startswith(PNG_MAGIC)
    alpha = png and (image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info)
    try:
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGBA" if alpha else "RGB")
        image.thumbnail((SIZE_PX, SIZE_PX))
        out = io.BytesIO()
        if png:
            image.save(out, format="PNG")
        else:
            image.save(out, format="JPEG", quality=JPEG_QUALITY)
    except Exception as error:  # a damaged EXIF block, an odd mode
        raise CoverError(f"is not a PNG or JPEG image Pillow can read ({_why(error)}); open it in an image editor "
                         "and save it again as .png or .jpg") from None
    return out.getvalue()


def _why(error: Exception) -> str:
    """Pillow's reason in a few words."""
    text = " ".join(str(error).split())
    return (text[:80] + "...") if len(text) > 80 else text or type(error).__name__


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
