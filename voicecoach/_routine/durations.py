"""Durations as people write them: ``5``, ``2.5``, ``5s``, ``1m30s``, ``1:30``, ``5 min``.

Everything is turned into whole milliseconds, the unit the layout works in, so
that a hold of 5 s is exactly 5000 ms and never drifts by float rounding.
"""

from __future__ import annotations

import math
import re

DURATION_HINT = "write 5s, 1m30s or 90"

UNITS_S: dict[str, float] = {  # every unit a duration may be written in (its order is the schema's)
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "ms": 0.001,
}
UNIT_PATTERN = "|".join(UNITS_S)  # the units as a regular expression's alternatives
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_PART = re.compile(rf"\s*({_NUMBER})\s*([a-z]+)\s*")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)")


def parse_duration_s(value: object) -> float:
    """Return the duration in seconds, or raise ValueError with a one-line hint.

    >>> parse_duration_s("1m30s")
    90.0
    """
    if value is None:
        raise ValueError(f"has no value; {DURATION_HINT}")
    if isinstance(value, bool):
        raise ValueError(f"{show_value(value)} is not a duration; {DURATION_HINT}")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise ValueError(f"{show_value(value)} is far too long; {DURATION_HINT}") from None
    elif isinstance(value, str):
        seconds = _parse_text_s(value)
    else:
        raise ValueError(f"{show_value(value)} is not a duration; {DURATION_HINT}")
    if not math.isfinite(seconds):
        raise ValueError(f"{show_value(value)} is not a duration; {DURATION_HINT}")
    if seconds < 0:
        raise ValueError(f"{show_value(value)} is negative; {DURATION_HINT}")
    return seconds


def _parse_text_s(text: str) -> float:
    cleaned = text.strip().lower()
    if cleaned.startswith("-") and cleaned[1:].strip():
        try:
            _parse_text_s(cleaned[1:])
        except ValueError:
            pass
        else:
            raise ValueError(f"{show_value(text)} is negative; {DURATION_HINT}")
    if re.fullmatch(_NUMBER, cleaned):
        return float(cleaned)
    clock = _CLOCK.fullmatch(cleaned)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    total = 0.0
    position = 0
    seen_units: set[float] = set()
    while position < len(cleaned):
        part = _PART.match(cleaned, position)
        if not part or part.group(2) not in UNITS_S:
            raise ValueError(f"{show_value(text)} is not a duration; {DURATION_HINT}")
        unit_s = UNITS_S[part.group(2)]
        if unit_s in seen_units:
            raise ValueError(f"{show_value(text)} is not a duration; {DURATION_HINT}")
        seen_units.add(unit_s)
        total += float(part.group(1)) * unit_s
        position = part.end()
    if not seen_units:
        raise ValueError(f"{show_value(text)} is not a duration; {DURATION_HINT}")
    return total


def to_ms(seconds: float) -> int:
    """Seconds to whole milliseconds, rounding half away from zero."""
    return int(math.floor(seconds * 1000 + 0.5))


def format_s(ms: int) -> str:
    """Milliseconds as a short human duration for messages: ``20 s``, ``23.4 s``, ``5 min``."""
    if ms % 3_600_000 == 0 and ms > 0:
        return f"{ms // 3_600_000} h"
    if ms % 60000 == 0 and 0 < ms < 3_600_000:
        return f"{ms // 60000} min"
    if ms >= 3_600_000:
        hours, rest_ms = divmod(ms, 3_600_000)
        minutes, rest_ms = divmod(rest_ms, 60_000)
        parts = [f"{hours} h", f"{minutes} min" if minutes else "", format_s(rest_ms) if rest_ms else ""]
        return " ".join(part for part in parts if part)
    text = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{text} s"


def format_clock(ms: int) -> str:
    """``12:34`` or ``1:02:03`` for totals shown to people: whole seconds rounded down, as players show a
    length (the card, the cover, the lyrics and the player all agree)."""
    total_s = ms // 1000
    hours, rest = divmod(total_s, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


SHOWN_CHARS = 60  # a longer value is cut short in a message


def show_value(value: object) -> str:
    """A value as the user wrote it in YAML, for messages: ``"text"``, ``5``, ``true``, ``[left, 3]``, ``{s: 5}``."""
    if isinstance(value, str):
        text = _one_line(value)
        text = text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
        return f'"{text}"'
    text = _one_line(_flow(value))
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _one_line(text: str) -> str:
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _flow(value: object, depth: int = 0) -> str:
    """YAML flow style, the way a person would write the value on one line."""
    if depth > 8:
        return "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        plain = value and not re.search(r"[\[\]{}:,#&*!|>'\"%@`]", value) and value.strip() == value
        return value if plain else '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(key, depth + 1)}: {_flow(item, depth + 1)}"
                               for key, item in list(value.items())[:SHOWN_CHARS]) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item, depth + 1) for item in list(value)[:SHOWN_CHARS]) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
