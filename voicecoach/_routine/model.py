"""The routine as the rest of voicecoach sees it: frozen dataclasses, every value resolved (defaults merged,
durations in ms, texts in the session's language), each carrying where it was written."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .languages import phrases_for
from .lexicon import Lexicon
from .slug import session_slug
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap

HALFWAY = "halfway"
# A rest the routine does not write (in the exercise or under ``defaults``), and ``prepare`` when it is not written,
# lasts as long as what is said in it, plus this long (times ``time_scale``, and at least its countdown): it fits
# its speech by its nature, so it never grows and never warns (docs/routine-format.md, section 7.5).
FITTED_REST_MS = {"rep_rest": 3000, "set_rest": 10_000, "side_rest": 5000, "rest": 15_000, "prepare": 5000}
REST_FIELDS = ("rep_rest", "set_rest", "side_rest", "rest")
LEAD_IN_MS = 1000  # digital silence before the first sound: headphones and car systems wake on it
CountdownStyle = Literal["ticks", "voice", "both"]  # the numbers as ticks, spoken, or both


# ---------------------------------------------------------------- resolved data


@dataclass(frozen=True)
class ProgramDay:
    """Which day of a program a session is: week 2, day 3 of 6 weeks of 3 days, on its weekday and date."""

    week: int
    day: int
    weeks: int
    days: int
    weekday: str | None = None  # "mon" ... "sun", when the program names its days
    date: datetime.date | None = None  # when the program has a start date

    def to_dict(self) -> dict[str, object]:
        return {"week": self.week, "day": self.day, "weeks": self.weeks, "days": self.days,
                "weekday": self.weekday, "date": self.date.isoformat() if self.date else None}

    @classmethod
    def from_dict(cls, data: object) -> ProgramDay | None:
        """A day read back from a tag or a manifest; None for anything that is not one."""
        if not isinstance(data, dict):
            return None
        try:
            numbers = [data[key] for key in ("week", "day", "weeks", "days")]
            if not all(isinstance(number, int) and 0 < number < 10_000 for number in numbers):
                return None
            weekday, date = data.get("weekday"), data.get("date")
            week, day, weeks, days = numbers
            return cls(week, day, weeks, days, weekday=str(weekday)[:3] if weekday else None,
                       date=datetime.date.fromisoformat(str(date)[:10]) if date else None)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Announcement:
    """A call inside a hold: "Halfway" or "10 seconds left", ``time_left_ms`` before its end."""

    time_left_ms: int
    halfway: bool = False


@dataclass(frozen=True)
class Phase:
    """One phase of a tempo rep: ``down`` for 3000 ms."""

    name: str
    ms: int


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    index: int
    hold_ms: int
    sides: tuple[str | None, ...] = (None,)
    sets: int = 1
    reps: int = 1
    instructions: str | None = None
    cue: str | None = None
    release: str | None = None
    # Each rest as written (exact), or, for a rest named in ``fitted_rests``, the time after its speech.
    rep_rest_ms: int = FITTED_REST_MS["rep_rest"]
    set_rest_ms: int = FITTED_REST_MS["set_rest"]
    side_rest_ms: int = FITTED_REST_MS["side_rest"]
    rest_ms: int = FITTED_REST_MS["rest"]
    countdown: int = 3
    countdown_style: CountdownStyle = "ticks"
    announce: tuple[Announcement, ...] = ()
    count_reps: bool = True
    # A tempo exercise moves through its phases rep after rep; ``hold_ms`` is then a whole set (reps x a rep).
    tempo: tuple[Phase, ...] = ()
    phase_cue: str = "tone"  # "tone": a soft tone starts each phase; "voice": its word is said
    count_aloud: bool = False  # each rep's number said at its end
    # The rests not written (``rep_rest``, ...): each lasts its speech plus its ``*_ms`` (at least its countdown).
    fitted_rests: frozenset[str] = frozenset(REST_FIELDS)

    def rest_fitted(self, field: str) -> bool:
        """Whether the rest ``field`` (``rep_rest``, ...) was left out, and so lasts its speech plus its ``*_ms``."""
        return field in self.fitted_rests

    @property
    def rep_ms(self) -> int:
        return sum(phase.ms for phase in self.tempo)

    @property
    def path(self) -> YamlPath:
        """Where the exercise is written: ``("exercises", 2)``."""
        return ("exercises", self.index)


@dataclass(frozen=True)
class Voice:
    engine: str = "pyttsx3"
    name: str | None = None
    rate_wpm: int = 160
    volume: float = 1.0
    model: Path | None = None  # a piper voice file; found next to the routine file once the file is loaded


@dataclass(frozen=True)
class Music:
    """The music bed: ``bed`` under the holds (and everywhere, without ``rest``), ``rest`` in the rests.

    ``bed`` and ``rest`` are as written until the routine file is loaded, then the files or folders found
    next to it; ``bed_tracks`` and ``rest_tracks`` are their files in the order they play.
    """

    bed: Path
    rest: Path | None = None
    seed: int = 0
    crossfade_ms: int = 3000
    gain_db: float = -14.0  # the bed's loudness against the voice's
    duck_db: float = -12.0  # lower still under every spoken word and every tone
    duck_attack_ms: int = 80  # fully ducked this long before a sound begins (and ramping down as long before that)
    duck_release_ms: int = 400  # back up over this long after a sound ends
    bed_tracks: tuple[Path, ...] = ()
    rest_tracks: tuple[Path, ...] = ()

    def name_of(self, track: Path) -> str:
        """A track as the timeline and the script name it: its path from the folder that holds the music
        (``music/track.mp3``, or ``calm.mp3`` for a file)."""
        for root in filter(None, (self.bed, self.rest)):
            try:
                return track.relative_to(root.parent).as_posix()
            except ValueError:
                continue
        return track.name


@dataclass(frozen=True)
class Routine:
    title: str
    exercises: tuple[Exercise, ...]
    description: str | None = None
    language: str = "en"
    voice: Voice = Voice()
    intro: str | None = None
    outro: str | None = None
    prepare_ms: int = FITTED_REST_MS["prepare"]  # as written, or (``prepare_fitted``) the time after its speech
    prepare_fitted: bool = True  # not written: it lasts its speech plus ``prepare_ms`` (at least its countdown)
    lead_in_ms: int = LEAD_IN_MS  # silence before the first sound
    text_language: str = "en"  # the language the routine's own text is written in (its file's `language:`)
    untranslated: tuple[str, ...] = ()  # fields with no text in ``language``: said in ``text_language``
    foreign_texts: frozenset[str] = frozenset()  # those fields' texts: said by a voice of ``text_language``
    text_lexicon: Lexicon = Lexicon()  # the lexicon of ``text_language``, for those texts
    name_parts: tuple[str, ...] = ()
    cover: Path | None = None  # the routine's own cover image, resolved next to the routine file
    tone_gain_db: float = 0.0  # tones louder (+) or quieter (-) against the speech
    lexicon: Lexicon = Lexicon()
    music: Music | None = None
    day: ProgramDay | None = None  # a session of a program: its week and day
    source: SourceMap = field(default_factory=lambda: SourceMap("<routine>"), compare=False, repr=False)

    @property
    def album(self) -> str:
        """The album tag: the title; for a program's session, with its variant and overrides ("Knee (gentle)"),
        so that each version of a program is an album of its own."""
        return f"{self.title} ({', '.join(self.name_parts)})" if self.day and self.name_parts else self.title

    @property
    def session_title(self) -> str:
        """The title tag: "Title (quick, rate 140)" for a variant or override, else the title; "Week 2 · Day 3"
        (in the session's language) for a program's session."""
        if self.day is not None:
            return phrases_for(self.language).label("week_day", week=self.day.week, day=self.day.day)
        return f"{self.title} ({', '.join(self.name_parts)})" if self.name_parts else self.title

    @property
    def slug(self) -> str:
        """The session's file name: ``<title-slug>--<variant>--<label-value>...``, and ``--week-02--day-3`` for a
        program's session (the week as wide as the program's last, so names sort in program order)."""
        if self.day is not None:
            width = len(str(self.day.weeks))
            return session_slug(self.title, (*self.name_parts, f"week {self.day.week:0{width}d}",
                                              f"day {self.day.day}"))
        return session_slug(self.title, self.name_parts)
