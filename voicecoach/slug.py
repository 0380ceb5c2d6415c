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


def session_slug(title: str, name_parts: tuple[str, ...] = ()) -> str:
    """A session's file name: ``<title-slug>--<variant>--<label-value>...``."""
    return "--".join([slugify(title), *(slugify(part, fallback="x") for part in name_parts)])
