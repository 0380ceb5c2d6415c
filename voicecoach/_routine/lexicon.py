"""Pronunciation: a routine's ``lexicon:`` maps a written word or phrase to how the engine should say it.

The rules, as the README states them:

- only what is spoken changes; the script, lyrics, subtitles, chapters and
  timeline keep the written text;
- matching is case-insensitive and whole-word: an entry matches where it is
  neither preceded nor followed by a letter, digit or underscore, so ``Kegel``
  matches "Kegel," and "kegel" but not "Kegels";
- the longest entry wins where entries overlap (``Kegel squeeze`` before ``Kegel``);
- the text is scanned once: what an entry says is never matched again.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Lexicon:
    """``entries``: (written, spoken) pairs, in the order written."""

    entries: tuple[tuple[str, str], ...] = ()

    def apply(self, text: str) -> str:
        """``text`` as the engine should say it."""
        if not self.entries:
            return text
        pattern, spoken = _compiled(self.entries)
        return pattern.sub(lambda match: _spoken_for(match.group(0), spoken, self.entries), text)

    def changes(self, text: str) -> bool:
        return self.apply(text) != text


@functools.lru_cache(maxsize=64)
def _compiled(entries: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    spoken = {written.casefold(): said for written, said in entries}
    words = sorted({written for written, _ in entries}, key=len, reverse=True)
    alternatives = "|".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), spoken


def _spoken_for(matched: str, spoken: dict[str, str], entries: tuple[tuple[str, str], ...]) -> str:
    found = spoken.get(matched.casefold())
    if found is None:  # a case pair that casefold and the regex see differently
        found = next(said for written, said in entries if re.fullmatch(re.escape(written), matched, re.IGNORECASE))
    return found
