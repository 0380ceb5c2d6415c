"""The built-in spoken cue phrases, per language.

Only English exists so far; a new language is one more ``CuePhrases`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass


def _en_time_left(ms: int) -> str:
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute" + ("s" if minutes != 1 else ""))
    if seconds or not minutes:
        parts.append(f"{seconds} second" + ("s" if seconds != 1 else ""))
    return " ".join(parts) + " left"


@dataclass(frozen=True)
class CuePhrases:
    language: str

    def exercise(self, number: int, total: int, name: str) -> str:
        return f"Exercise {number} of {total}: {name}"

    def next_up(self, announcement: str) -> str:
        return f"Next up: {announcement}"

    def side(self, label: str) -> str:
        return label[:1].upper() + label[1:]

    def set(self, number: int, total: int) -> str:
        return f"Set {number} of {total}"

    def rep(self, number: int, total: int) -> str:
        return f"Rep {number} of {total}"

    def rest(self) -> str:
        return "Rest"

    def release(self) -> str:
        return "Release"

    def halfway(self) -> str:
        return "Halfway"

    def time_left(self, ms: int) -> str:
        return _en_time_left(ms)

    def session_complete(self) -> str:
        return "Session complete"


PHRASES = {"en": CuePhrases("en")}
SUPPORTED_LANGUAGES = frozenset(PHRASES)
