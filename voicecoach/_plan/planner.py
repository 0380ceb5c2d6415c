"""A routine turned into its plan: every cue in the session's language, every hold, rest and tempo set."""

from __future__ import annotations

import dataclasses
import re

from .._audio.layout import LayoutStream, Timing
from .._errors import LayoutError
from .._routine.durations import format_s
from .._routine.languages import phrases_for
from .._routine.lexicon import Lexicon
from .._routine.limits import MAX_FILE_NAME_CHARS, MAX_SESSION_MS, MAX_SPOKEN_CHARS, MIN_SPEECH_MS_PER_CHAR
from .._routine.model import Exercise, Routine
from .._routine.resolve import check_size
from .steps import Call, Count, Gap, GapAfter, Hold, Line, PhaseCue, Plan, Step, Talk, Tempo


def plan_session(routine: Routine) -> Plan:
    """Turn a routine into its narrated script; refuse one whose session would last over 12 hours even with
    every phrase said at its fastest (before any synthesis)."""
    check_size(routine)  # a routine made in code, not loaded, is held to the same limits
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
                        steps.append(Gap("prepare", _asked_ms(routine.prepare_ms, routine.prepare_fitted,
                                                              exercise.countdown),
                                         exercise.countdown, (), rep_label, f"prepare before {exercise.name}",
                                         ("prepare",), count, routine.prepare_fitted, exercise.name))
                    elif first:
                        previous = routine.exercises[exercise.index - 1]
                        fitted = previous.rest_fitted("rest")
                        steps.append(Gap("exercise", _asked_ms(previous.rest_ms, fitted, exercise.countdown),
                                         exercise.countdown, release_after_last + (Line(phrases.rest()),),
                                         tuple(intro_lines) + labels + rep_label, f"rest before {exercise.name}",
                                         previous.path + ("rest",), count, fitted, previous.name))
                    else:
                        after, field = _gap_kind(set_number, rep)
                        fitted = exercise.rest_fitted(field)
                        asked_ms = _asked_ms(getattr(exercise, f"{field}_ms"), fitted, exercise.countdown)
                        head = releases if after == "rep" else releases + (Line(phrases.rest()),)
                        steps.append(Gap(after, asked_ms, exercise.countdown, head, labels + rep_label,
                                         _gap_name(after, exercise, side, set_number, rep), exercise.path + (field,),
                                         count, fitted, exercise.name))
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
    plan = Plan(routine.session_title, routine.slug, routine.language, routine.voice, tuple(steps),
                routine.description, routine.source, album=routine.album,
                version=routine.session_title if routine.day else ", ".join(routine.name_parts) or None,
                cover=routine.cover, day=routine.day,
                tone_gain_db=routine.tone_gain_db, lexicon=Lexicon(phrases.say + routine.lexicon.entries),
                music=routine.music, lead_in_ms=routine.lead_in_ms, text_language=routine.text_language,
                untranslated=routine.untranslated)
    if routine.foreign_texts and routine.text_language != routine.language:
        # A line that is wholly the routine's untranslated text (an instruction, a cue, a side's label) is said by
        # a voice of its own language; a line mixing our words with it ("Übung 1: Heel slides") by the session's.
        forms = set(routine.foreign_texts) | {phrases.side(text) for text in routine.foreign_texts}
        foreign = frozenset(text for text in plan.phrases() if text in forms)
        plan = dataclasses.replace(plan, foreign=foreign, foreign_lexicon=Lexicon(
            phrases_for(routine.text_language).say + routine.text_lexicon.entries))
    if len(plan.slug) > MAX_FILE_NAME_CHARS:
        raise routine.source.error(("title",), f"with the variant and the overrides, the session's file name would "
                                   f"be {len(plan.slug)} characters; it is at most {MAX_FILE_NAME_CHARS}, so use a "
                                   "shorter title, variant name or fewer overrides")
    for text in plan.phrases():
        spoken = plan.spoken(text)
        if len(spoken) > MAX_SPOKEN_CHARS:
            raise routine.source.error(("lexicon",) if spoken != text else (), f'"{text[:40]}..." is '
                                       f"{len(spoken):,} characters as it is spoken; a phrase is at most "
                                       f"{MAX_SPOKEN_CHARS:,}, so shorten it (or the lexicon's replacements)")
    _check_length(plan, routine)
    return plan


_WORD = re.compile(r"[^\W_]{2,}")


def least_speech_ms(spoken: str) -> int:
    """The least time a voice takes to say ``spoken``: ``MIN_SPEECH_MS_PER_CHAR`` for each letter or digit of its
    words of two or more (a lone letter may take nothing: espeak-ng says French "a a a a ..." as three)."""
    return MIN_SPEECH_MS_PER_CHAR * sum(len(word) for word in _WORD.findall(spoken))


class _LeastLengths(dict[str, int]):
    """Each phrase's least length (``least_speech_ms`` of what is spoken), as the layout asks for it."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def __missing__(self, text: str) -> int:
        self[text] = least_speech_ms(self.plan.spoken(text))
        return self[text]


def _check_length(plan: Plan, routine: Routine) -> None:
    """Refuse a session that would last over 12 hours even with every phrase at its fastest: the layout's timing
    rules over the least lengths, before anything is synthesized. Names the exercise that takes longest."""
    written: dict[int | None, int] = {}  # by exercise (None: the opening, prepare and the closing)
    least: dict[int | None, int] = {}
    before_ms = 0
    try:
        for step, (_, now_ms) in zip(plan.steps, LayoutStream(plan, _LeastLengths(plan)).steps()):
            owner: int | None
            if isinstance(step, Hold):
                owner, asked_ms = step.exercise_index, step.hold_ms
            elif isinstance(step, Gap):
                owner = step.field[1] if step.field[0] == "exercises" and isinstance(step.field[1], int) else None
                asked_ms = step.asked_ms
            else:
                owner, asked_ms = None, 0
            written[owner] = written.get(owner, 0) + asked_ms
            least[owner] = least.get(owner, 0) + now_ms - before_ms
            before_ms = now_ms
    except LayoutError:
        return  # a sound that does not fit even at its fastest: the layout of the real speech says which, and why
    total_ms = before_ms + Timing().tail_ms
    if total_ms <= MAX_SESSION_MS:
        return
    index = max((owner for owner in least if owner is not None), key=least.__getitem__)
    raise routine.source.error(
        ("exercises", index),
        f"its holds and rests last {format_s(written[index])}, and with what is said and sounded between them "
        f"(speech counted at its fastest) at least {format_s(least[index])}, which makes the session at least "
        f"{format_s(total_ms)}; a session is at most 12 hours, so say less between its reps (a shorter release), "
        "use fewer sets or reps, or split the routine")


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


def _gap_kind(set_number: int, rep: int) -> tuple[GapAfter, str]:
    """Which rest comes before this rep, and the field that gives its length."""
    if rep > 1:
        return "rep", "rep_rest"
    if set_number > 1:
        return "set", "set_rest"
    return "side", "side_rest"


def _asked_ms(ms: int, fitted: bool, countdown: int) -> int:
    """A rest's asked length as written; for one left out (``fitted``), the time after its speech, which holds at
    least its countdown (so that it never has to grow)."""
    return max(ms, countdown * 1000) if fitted else ms


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
