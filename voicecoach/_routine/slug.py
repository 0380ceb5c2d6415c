"""Slugs for file names and exercise ids: ASCII, lower case, runs of anything else as one ``-``."""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA_ASCII = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ı": "i",
})
MAX_SLUG_CHARS = 80


def slugify(text: str, fallback: str = "session") -> str:
    """``"Übung eins — heel slides"`` -> ``"ubung-eins-heel-slides"``."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_EXTRA_ASCII))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    slug = slug[:MAX_SLUG_CHARS].rstrip("-")
    return slug or fallback


# Names Windows will not give a file, whatever the extension ("con.mp3" included).
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}


def session_slug(title: str, name_parts: tuple[str, ...] = ()) -> str:
    """A session's file name: ``<title-slug>--<variant>--<label-value>...``.

    Safe on every system: ASCII letters, digits and ``-`` only (so no path
    separator, no ``..``, no control character), at most 80 characters for the
    title part, and never a name Windows reserves.
    """
    name = "--".join([slugify(title), *(slugify(part, fallback="x") for part in name_parts)])
    return f"{name}-session" if name in WINDOWS_RESERVED else name
