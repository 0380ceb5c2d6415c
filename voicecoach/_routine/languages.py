"""Every word voicecoach says or writes in a session, per language.

The words live in data files, ``voicecoach/languages/<code>.yaml``, one per
language, that a translator edits without reading code: the spoken cues
("Rep 3 of 10", "10 seconds left"), the chapter titles, the words on the
cover and the labels of the ``serve`` page. A word that changes with a number
has a ``one`` and an ``other`` form; ``plural_one`` lists the numbers that take
``one`` (French says "1 seconde", "0 seconde"; English "0 seconds"). ``say``
corrects how the voice reads the cues without changing what is written
("Noch 1 Minute" is said "Noch eine Minute"), like a routine's ``lexicon:``.
A phrase is written as it reads inside a sentence ("quedan {time}"); where it
starts a spoken line, ``line_start`` gives it its capital ("Quedan 10 segundos").

``tests/test_phrases.py`` proves that every language has every phrase with
the same placeholders as English.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

DEFAULT_LANGUAGE = "en"


def _data_files() -> dict[str, Any]:
    folder = resources.files("voicecoach").joinpath("languages")
    return {entry.name[: -len(".yaml")]: entry for entry in folder.iterdir() if entry.name.endswith(".yaml")}


SUPPORTED_LANGUAGES = frozenset(_data_files())


@dataclass(frozen=True)
class CuePhrases:
    """One language's words, read from its data file."""

    language: str
    name: str
    id3_language: str
    plural_one: frozenset[int]
    spoken: dict[str, Any]
    written: dict[str, Any]
    say: tuple[tuple[str, str], ...] = ()  # spoken-only corrections, e.g. ("1 Minute", "eine Minute")

    # -- spoken

    def exercise(self, number: int, total: int, name: str) -> str:
        return self._fill(self.spoken["exercise"], number=number, total=total, name=name)

    def next_up(self, announcement: str) -> str:
        return self._fill(self.spoken["next_up"], exercise=announcement)

    def side(self, label: str) -> str:
        """``left`` and ``right`` (what ``sides: true`` gives) in this language; any other label as written."""
        if label.strip().lower() in ("left", "right"):
            return self.spoken[label.strip().lower()]
        return self.line_start(label)

    def set(self, number: int, total: int) -> str:
        return self._fill(self.spoken["set"], number=number, total=total)

    def rep(self, number: int, total: int) -> str:
        return self._fill(self.spoken["rep"], number=number, total=total)

    def rest(self) -> str:
        return self.spoken["rest"]

    def release(self) -> str:
        return self.spoken["release"]

    def halfway(self) -> str:
        return self.spoken["halfway"]

    def count(self, number: int) -> str:
        """A number said aloud: 1 to 10 as a word ("three", "drei"), a larger one as digits the voice reads."""
        return self.spoken["count"].get(number, str(number))

    def phase(self, name: str) -> str:
        """A tempo phase said aloud: ``down``, ``bottom``, ``up`` and ``top`` in this language; any other name (a
        routine's own) as written."""
        return self.spoken["phases"].get(name.strip().lower(), name)

    def time_left(self, ms: int) -> str:
        """``"1 minute 30 seconds left"``, ``"Noch 1 Minute und 30 Sekunden"``, ``"Encore 10 secondes"``: a spoken
        line of its own, so it starts with a capital (the data file writes it as inside a sentence, "noch {time}")."""
        minutes, seconds = divmod(round(ms / 1000), 60)
        parts = []
        if minutes:
            parts.append(self._counted(self.spoken["minutes"], minutes))
        if seconds or not minutes:
            parts.append(self._counted(self.spoken["seconds"], seconds))
        single = len(parts) == 1 and (minutes or seconds) in self.plural_one
        form = self.spoken["time_left"]["one" if single else "other"]
        return self.line_start(self._fill(form, time=self.spoken["and"].join(parts)))

    def session_complete(self) -> str:
        return self.spoken["session_complete"]

    # -- written

    @property
    def intro_chapter(self) -> str:
        return self.written["intro"]

    @property
    def outro_chapter(self) -> str:
        return self.written["outro"]

    def exercises(self, count: int) -> str:
        """``"5 exercises"``, on the cover."""
        return self._counted(self.written["exercises"], count)

    def label(self, key: str, **values: object) -> str:
        """A written label (the serve page's), with its placeholders filled."""
        return self._fill(self.written[key], **values)

    # -- helpers

    def line_start(self, text: str) -> str:
        """``text`` as the start of a line: its first letter a capital ("quedan 10 segundos" -> "Quedan 10
        segundos"), unless a digit comes first ("10 seconds left" stays). Dutch capitalises the digraph ij as one
        letter ("ijs" -> "IJs"); a script without capitals is left as it is."""
        for position, char in enumerate(text):
            if char.isdigit():
                return text
            if char.isalpha():
                if self.language == "nl" and text[position:position + 2] in ("ij", "iJ"):
                    return text[:position] + "IJ" + text[position + 2:]
                capital = char.title()
                return text[:position] + (capital if len(capital) == 1 else char) + text[position + 1:]
        return text

    def _counted(self, forms: dict[str, str], count: int) -> str:
        return self._fill(forms["one" if count in self.plural_one else "other"], n=count)

    @staticmethod
    def _fill(template: str, **values: object) -> str:
        return template.format(**values)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@functools.cache
def phrases_for(language: str) -> CuePhrases:
    """The words of ``language`` (a code voicecoach supports; see SUPPORTED_LANGUAGES)."""
    data = yaml.safe_load(_data_files()[language].read_text(encoding="utf-8"))
    return CuePhrases(language=data["language"], name=data["name"], id3_language=data["id3_language"],
                      plural_one=frozenset(data["plural_one"]), spoken=data["spoken"], written=data["written"],
                      say=tuple((written, said) for written, said in (data.get("say") or {}).items()))


def words_for(language: str) -> CuePhrases:
    """The words of ``language``, or English for a language voicecoach does not have (a damaged timeline)."""
    return phrases_for(language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE)


def prevailing_language(languages: Sequence[str]) -> str:
    """The language most of ``languages`` are in (the first of them on a tie); English for none.

    A feed has one language, and a page its own words: those of the sessions it lists.
    """
    return max(dict.fromkeys(languages), key=list(languages).count) if languages else DEFAULT_LANGUAGE


def language_names() -> str:
    """``"de (Deutsch), en (English), ..."``: the supported languages, for an error message."""
    return ", ".join(f"{code} ({phrases_for(code).name})" for code in sorted(SUPPORTED_LANGUAGES))
