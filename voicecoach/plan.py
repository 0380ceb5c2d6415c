"""Stage 2: the narrated script. Pure: routine in, ordered steps out, no audio (docs/routine-format.md,
section 6, says what is said when).

A plan is a sequence of steps: the opening ``Talk``, the ``prepare`` ``Gap``,
then ``Hold`` and ``Gap`` in turn, and the closing ``Talk``. Each step knows
what is said in it; only the layout decides when.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from .durations import format_clock, format_s
from .lexicon import Lexicon
from .phrases import phrases_for
from .routine import Exercise, Music, Routine, Voice
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap, format_path

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
    countdown. ``name`` and ``field`` say which rest this is, for warnings.
    """

    after: GapAfter
    asked_ms: int
    countdown: int
    head: tuple[Line, ...]
    tail: tuple[Line, ...]
    name: str
    field: YamlPath  # where this rest is written: ("exercises", 0, "rep_rest")
    count: Count = Count()


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

    def spoken(self, text: str) -> str:
        """What the engine is asked to say for the written ``text``: the lexicon applied."""
        return self.lexicon.apply(text)

    @property
    def exercise_count(self) -> int:
        return len({hold.exercise_index for hold in self.holds})

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(step for step in self.steps if isinstance(step, Hold))

    @property
    def asked_ms(self) -> int:
        """Holds plus gaps as asked: the shortest the session can be, speech aside."""
        return sum(step.hold_ms if isinstance(step, Hold) else step.asked_ms
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
        return {"title": self.title, "slug": self.slug, "language": self.language,
                "voice": {**asdict(self.voice), "model": str(self.voice.model) if self.voice.model else None},
                "lexicon": dict(self.lexicon.entries), "asked_ms": self.asked_ms, "steps": steps}


def plan_session(routine: Routine) -> Plan:
    """Turn a routine into its narrated script."""
    phrases = phrases_for(routine.language)
    total = len(routine.exercises)
    steps: list[Step] = []
    opening: list[Line] = []
    if routine.intro:
        opening.append(Line(routine.intro, chapter=phrases.intro_chapter))
    release_after_last: tuple[Line, ...] = ()
    for exercise in routine.exercises:
        count = Count(ticks=exercise.countdown_style != "voice",
                      words=tuple(phrases.count(k) for k in range(1, exercise.countdown + 1))
                      if exercise.countdown_style != "ticks" else (), exercise=exercise.name)
        announcement = phrases.exercise(exercise.index + 1, total, exercise.name)
        intro_lines = [Line(announcement if exercise.index == 0 else phrases.next_up(announcement),
                            chapter=exercise.name)]
        if exercise.instructions:
            intro_lines.append(Line(exercise.instructions))
        release = Line(exercise.release or phrases.release())
        tempo = _tempo(exercise, phrases)
        # After a set of tempo reps, its last number is said as the stop tone ends, before the release.
        releases = ((Line(tempo.counts[-1]),) if tempo and tempo.counts else ()) + (release,)
        first = True
        for side in exercise.sides:
            for set_number in range(1, exercise.sets + 1):
                for rep in range(1, (1 if tempo else exercise.reps) + 1):
                    labels, rep_label = _labels(exercise, side, set_number, rep, phrases)
                    if first and exercise.index == 0:
                        # The opening speech announces the exercise and its first side or set;
                        # the rep label is what ``prepare`` leads into.
                        steps.append(Talk("opening", tuple(opening) + tuple(intro_lines) + labels))
                        steps.append(Gap("prepare", routine.prepare_ms, exercise.countdown, (), rep_label,
                                         "prepare", ("prepare",), count))
                    elif first:
                        previous = routine.exercises[exercise.index - 1]
                        steps.append(Gap("exercise", previous.rest_ms, exercise.countdown,
                                         release_after_last + (Line(phrases.rest()),),
                                         tuple(intro_lines) + labels + rep_label, f"rest before {exercise.name}",
                                         previous.path + ("rest",), count))
                    else:
                        after, asked_ms, field_path = _gap_kind(exercise, set_number, rep)
                        head = releases if after == "rep" else releases + (Line(phrases.rest()),)
                        steps.append(Gap(after, asked_ms, exercise.countdown, head, labels + rep_label,
                                         _gap_name(after, exercise, side, set_number, rep), field_path, count))
                    first = False
                    steps.append(Hold(exercise.id, exercise.name, exercise.index, side, set_number, rep,
                                      exercise.hold_ms, 0 if tempo else exercise.countdown,
                                      () if tempo else _calls(exercise, phrases), count, tempo))
        release_after_last = releases
    closing = [*release_after_last,
               Line(phrases.session_complete(), chapter=phrases.outro_chapter if routine.outro else None)]
    if routine.outro:
        closing.append(Line(routine.outro))
    steps.append(Talk("closing", tuple(closing)))
    return Plan(routine.session_title, routine.slug, routine.language, routine.voice, tuple(steps),
                routine.description, routine.source, album=routine.title,
                version=", ".join(routine.name_parts) or None, cover=routine.cover,
                tone_gain_db=routine.tone_gain_db, lexicon=Lexicon(phrases.say + routine.lexicon.entries),
                music=routine.music)


def _tempo(exercise: Exercise, phrases) -> Tempo | None:
    if not exercise.tempo:
        return None
    voice = exercise.phase_cue == "voice"
    return Tempo(tuple(PhaseCue(phase.name, phase.ms, phrases.phase(phase.name) if voice else None)
                       for phase in exercise.tempo if phase.ms),
                 exercise.reps, "voice" if voice else "tone",
                 tuple(phrases.count(k) for k in range(1, exercise.reps + 1)) if exercise.count_aloud else ())


def _labels(exercise: Exercise, side: str | None, set_number: int, rep: int,
            phrases) -> tuple[tuple[Line, ...], tuple[Line, ...]]:
    """What is announced before a rep: (the side and set when they start, the rep number)."""
    labels = []
    if side is not None and set_number == 1 and rep == 1:
        labels.append(Line(phrases.side(side)))
    if exercise.sets > 1 and rep == 1:
        labels.append(Line(phrases.set(set_number, exercise.sets)))
    rep_label = (Line(phrases.rep(rep, exercise.reps)),) if exercise.count_reps and exercise.reps > 1 else ()
    return tuple(labels), rep_label


def _gap_kind(exercise: Exercise, set_number: int, rep: int) -> tuple[GapAfter, int, YamlPath]:
    if rep > 1:
        return "rep", exercise.rep_rest_ms, exercise.path + ("rep_rest",)
    if set_number > 1:
        return "set", exercise.set_rest_ms, exercise.path + ("set_rest",)
    return "side", exercise.side_rest_ms, exercise.path + ("side_rest",)


def _gap_name(after: GapAfter, exercise: Exercise, side: str | None, set_number: int, rep: int) -> str:
    side_text = f" ({side})" if side else ""
    if after == "rep":
        return f"rest before rep {rep} of {exercise.name}{side_text}"
    if after == "set":
        return f"rest before set {set_number} of {exercise.name}{side_text}"
    return f"rest before {side} of {exercise.name}"


def _calls(exercise: Exercise, phrases) -> tuple[Call, ...]:
    calls = []
    if exercise.cue:
        calls.append(Call(exercise.cue, None, "cue", exercise.path + ("cue",)))
    for announcement in exercise.announce:
        text = phrases.halfway() if announcement.halfway else phrases.time_left(announcement.time_left_ms)
        calls.append(Call(text, exercise.hold_ms - announcement.time_left_ms, f'"{text}"',
                          exercise.path + ("announce",)))
    return tuple(calls)


def format_script(plan: Plan, voice: str | None = None) -> str:
    """The plan as a person reads it: what is said, each hold and each rest, in order.

    ``voice`` says who speaks ("pyttsx3 (espeak-ng 1.51), voice gmw/de"); a line
    the lexicon changes shows what is said instead of the written words.
    """
    holds = plan.holds
    exercises = len({hold.exercise_index for hold in holds})
    words = phrases_for(plan.language)
    lines = [plan.title,
             f"{exercises} exercise{'s' if exercises != 1 else ''}, {len(holds)} hold{'s' if len(holds) != 1 else ''}, "
             f"at least {format_clock(plan.asked_ms)} of holds and rests plus speech",
             f"in {words.name} ({plan.language})" + (f", spoken by {voice}" if voice else ""),
             *(describe_music(plan.music) if plan.music else ()), ""]
    multi_set = {hold.exercise_index for hold in holds if hold.set > 1}
    multi_rep = {hold.exercise_index for hold in holds if hold.rep > 1}
    for step in plan.steps:
        if isinstance(step, Talk):
            lines.extend(_said(line, plan) for line in step.lines)
        elif isinstance(step, Gap):
            lines.extend(_said(line, plan, indent="    ") for line in step.head)
            what = "prepare" if step.after == "prepare" else "rest"
            spoken = {(True, True): "", (False, True): ", said", (True, False): ", ticked and said"}[
                (step.count.ticks, bool(step.count.words))] if step.count.words else ""
            countdown = f", countdown {step.countdown}{spoken}" if step.countdown else ""
            lines.append(f"  {what:<7} {format_s(step.asked_ms)}{countdown}")
            lines.extend(_said(line, plan, indent="    ") for line in step.tail)
        else:
            where = ", ".join(part for part in (
                step.side,
                f"set {step.set}" if step.exercise_index in multi_set else None,
                f"rep {step.rep}" if step.exercise_index in multi_rep else None,
            ) if part)
            if step.tempo:
                lines.extend(_tempo_lines(step, where, plan))
                continue
            lines.append(f"  HOLD    {format_s(step.hold_ms)}  {step.exercise_name}" + (f" ({where})" if where else ""))
            for call in step.calls:
                at = "after the start tone" if call.at_ms is None else f"at {format_s(call.at_ms)}"
                lines.append(f'    say "{call.text}" {at}' + _spoken_as(plan, call.text))
    return "\n".join(lines) + "\n"


def _tempo_lines(step: Hold, where: str, plan: Plan) -> list[str]:
    """A set of tempo reps: its length, one rep's phases and how each is cued, and the counting."""
    tempo = step.tempo
    assert tempo is not None
    reps = f"{tempo.reps} rep{'s' if tempo.reps != 1 else ''} of {format_s(tempo.rep_ms)}"
    lines = [f"  REPS    {format_s(step.hold_ms)}  {step.exercise_name}" + (f" ({where})" if where else "")
             + f": {reps}"]
    if tempo.cue == "voice":
        cues = ", ".join(f'say "{phase.word}" {format_s(phase.ms)}' + _spoken_as(plan, phase.word or "")
                         for phase in tempo.phases)
    else:
        cues = ", ".join(f"{phase.name} {format_s(phase.ms)}" for phase in tempo.phases) + \
            " (a phase tone starts each)"
    lines.append(f"    each rep: {cues}")
    if tempo.counts:
        shown = tempo.counts if len(tempo.counts) <= 4 else (*tempo.counts[:2], "…", tempo.counts[-1])
        lines.append("    counted aloud as each rep ends: " + ", ".join(
            word if word == "…" else f'"{word}"' for word in shown))
    return lines


def describe_music(music: Music) -> list[str]:
    """Which music plays where, for the script: the files in the order they play."""
    def files(tracks: tuple[Path, ...]) -> str:
        names = [music.name_of(path) for path in tracks]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return shown + (f" (in this order, music_seed {music.seed}; looping)" if len(names) > 1 else " (looping)")

    lines = [f"music under the {'holds' if music.rest_tracks else 'whole session'}: {files(music.bed_tracks)}"]
    if music.rest_tracks:
        lines.append(f"music in the rests: {files(music.rest_tracks)}")
    lines.append(f"  {-music.gain_db:g} dB under the voice, {-music.duck_db:g} dB lower under every word and tone; "
                 f"crossfade {format_s(music.crossfade_ms)}")
    return lines


def _said(line: Line, plan: Plan, indent: str = "  ") -> str:
    chapter = f"   [chapter: {line.chapter}]" if line.chapter else ""
    return f'{indent}say "{line.text}"{chapter}' + _spoken_as(plan, line.text)


def _spoken_as(plan: Plan, text: str) -> str:
    """``   [spoken: "KAY-gull squeeze"]`` where the lexicon changes what is said."""
    spoken = plan.spoken(text)
    return f'   [spoken: "{spoken}"]' if spoken != text else ""
