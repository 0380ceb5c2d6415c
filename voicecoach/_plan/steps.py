"""The plan's steps: frozen dataclasses that say what is said and what is timed, in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from .._routine.durations import format_s
from .._routine.lexicon import Lexicon
from .._routine.model import Music, ProgramDay, Voice
from .._routine.yamlsource import Path as YamlPath
from .._routine.yamlsource import SourceMap, format_path

GapAfter = Literal["prepare", "rep", "set", "side", "exercise"]


@dataclass(frozen=True)
class Line:
    """One spoken sentence; ``chapter`` names the chapter that starts with it."""

    text: str
    chapter: str | None = None


@dataclass(frozen=True)
class Talk:
    """Opening or closing speech: its lines take their natural length."""

    role: Literal["opening", "closing"]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Count:
    """How a countdown sounds: ticks, and (``countdown_style: voice`` or ``both``) the numbers said.

    ``words[k - 1]`` is said for k seconds left; ``exercise`` names whose countdown it is, for an error.
    """

    ticks: bool = True
    words: tuple[str, ...] = ()
    exercise: str = ""


@dataclass(frozen=True)
class Call:
    """Speech inside a hold. ``at_ms`` is from the hold's start; None means right after the start tone."""

    text: str
    at_ms: int | None
    what: str
    field: YamlPath  # where the call is written: ("exercises", 0, "announce")


@dataclass(frozen=True)
class PhaseCue:
    """A phase of a tempo rep: its name, length and (``phase_cue: voice``) the word said as it starts."""

    name: str
    ms: int
    word: str | None = None


@dataclass(frozen=True)
class Tempo:
    """A set of moving reps: each rep goes through ``phases``; ``counts[k - 1]`` is said as rep k ends."""

    phases: tuple[PhaseCue, ...]
    reps: int
    cue: Literal["tone", "voice"]
    counts: tuple[str, ...] = ()

    @property
    def rep_ms(self) -> int:
        return sum(phase.ms for phase in self.phases)

    def describe(self) -> str:
        """``3-1-1-0`` for the four standard phases, else ``down 3 s, up 1 s``."""
        return ", ".join(f"{phase.name} {format_s(phase.ms)}" for phase in self.phases)


@dataclass(frozen=True)
class Hold:
    exercise_id: str
    exercise_name: str
    exercise_index: int
    side: str | None
    set: int
    rep: int
    hold_ms: int
    countdown: int
    calls: tuple[Call, ...]
    count: Count = Count()
    tempo: Tempo | None = None  # moving reps: the hold is a whole set of them


@dataclass(frozen=True)
class Gap:
    """From a stop tone (or the opening speech) to the next start tone.

    ``head`` is said right after the stop tone, ``tail`` ends just before the
    countdown. ``name``, ``field`` and ``exercise`` say which rest this is, for warnings.

    A rest the routine writes lasts ``asked_ms`` exactly, unless its speech does not fit. A ``fitted`` one (left
    out of the routine) lasts its speech plus ``asked_ms``, which is at least its countdown: it never grows.
    """

    after: GapAfter
    asked_ms: int
    countdown: int
    head: tuple[Line, ...]
    tail: tuple[Line, ...]
    name: str
    field: YamlPath  # where this rest is written: ("exercises", 0, "rep_rest")
    count: Count = Count()
    fitted: bool = False
    exercise: str = ""  # the exercise whose rest it is (its name); for prepare, the first exercise

    def describe(self) -> str:
        """Its length as the script shows it: ``6 s``, or ``speech + 3 s`` for a fitted one."""
        return f"speech + {format_s(self.asked_ms)}" if self.fitted else format_s(self.asked_ms)


Step = Talk | Gap | Hold


@dataclass(frozen=True)
class Plan:
    title: str
    slug: str
    language: str
    voice: Voice
    steps: tuple[Step, ...]
    description: str | None = None
    source: SourceMap = field(default_factory=lambda: SourceMap("<routine>"), compare=False, repr=False)
    album: str = ""  # the routine's own title; ``title`` adds the variant: "Title (quick)"
    version: str | None = None  # "quick, rate 140": what makes this session one version of the routine
    tone_gain_db: float = 0.0  # the tones against the speech (`audio.tone_gain_db`)
    cover: Path | None = None
    lexicon: Lexicon = Lexicon()  # how words are said; the written text stays as it is
    music: Music | None = None  # the music bed, its files found (``routine.Music``)
    lead_in_ms: int = 0  # silence before the first sound (the routine's ``lead_in``)
    text_language: str = ""  # the language the routine's own text is in ("": the session's)
    untranslated: tuple[str, ...] = ()  # fields with no text in ``language``, said in ``text_language``
    foreign: frozenset[str] = frozenset()  # phrases of those fields, said by a voice of ``text_language``
    foreign_lexicon: Lexicon = Lexicon()  # how those are said (``text_language``'s words and lexicon)
    day: ProgramDay | None = None  # a session of a program: its week and day (tags, feed and page)

    def spoken(self, text: str) -> str:
        """What the engine is asked to say for the written ``text``: the lexicon of its language applied."""
        return (self.foreign_lexicon if text in self.foreign else self.lexicon).apply(text)

    def phrases_by_language(self) -> dict[str, tuple[str, ...]]:
        """``phrases()`` by the language of the voice that says them: the session's, and the routine's own for
        text that has no translation (``foreign``)."""
        texts = self.phrases()
        found = {self.language: tuple(text for text in texts if text not in self.foreign)}
        if self.foreign and self.text_language and self.text_language != self.language:
            found[self.text_language] = tuple(text for text in texts if text in self.foreign)
        return {language: group for language, group in found.items() if group}

    @property
    def exercise_count(self) -> int:
        return len({hold.exercise_index for hold in self.holds})

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(step for step in self.steps if isinstance(step, Hold))

    @property
    def asked_ms(self) -> int:
        """The lead-in, holds and gaps as asked: the shortest the session can be, speech aside."""
        return self.lead_in_ms + sum(step.hold_ms if isinstance(step, Hold) else step.asked_ms
                                     for step in self.steps if not isinstance(step, Talk))

    def phrases(self) -> tuple[str, ...]:
        """Every distinct sentence to synthesize, in the order it is first heard."""
        texts: dict[str, None] = {}
        for step in self.steps:
            if isinstance(step, Talk):
                texts.update((line.text, None) for line in step.lines)
            elif isinstance(step, Gap):
                texts.update((line.text, None) for line in step.head + step.tail)
            else:
                texts.update((call.text, None) for call in step.calls)
                if step.tempo:
                    texts.update((phase.word, None) for phase in step.tempo.phases if phase.word)
                    texts.update((word, None) for word in step.tempo.counts)
            if not isinstance(step, Talk):
                texts.update((word, None) for word in step.count.words[:step.countdown][::-1])
        return tuple(texts)

    def to_dict(self) -> dict:
        steps = []
        for step in self.steps:
            kind = {Talk: "talk", Gap: "gap", Hold: "hold"}[type(step)]
            data = asdict(step)
            for call in data.get("calls", ()):
                call["field"] = format_path(call["field"])
            if "field" in data:
                data["field"] = format_path(data["field"])
            steps.append({"kind": kind, **data})
        return {"title": self.title, "slug": self.slug, "language": self.language, "lead_in_ms": self.lead_in_ms,
                "voice": {**asdict(self.voice), "model": str(self.voice.model) if self.voice.model else None},
                "lexicon": dict(self.lexicon.entries), "asked_ms": self.asked_ms, "steps": steps,
                **({"foreign": {"language": self.text_language, "phrases": sorted(self.foreign),
                                "lexicon": dict(self.foreign_lexicon.entries)}} if self.foreign else {})}
