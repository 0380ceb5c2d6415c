"""Validated YAML data turned into the frozen ``Routine``: defaults merged, durations in ms, texts in the session's
language, limits checked."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from pathlib import Path
from typing import Any

from .._errors import RoutineError
from .._speech.engines import engine_names, voice_file_kind
from .document import TEMPO_PHASES, ExerciseDoc, ExerciseFieldsDoc, RoutineDoc
from .durations import format_s, show_value, to_ms
from .languages import SUPPORTED_LANGUAGES, language_names
from .lexicon import Lexicon
from .limits import (
    MAX_DURATION_S,
    MAX_EXERCISES,
    MAX_HOLDS,
    MAX_NAME_CHARS,
    MAX_SESSION_MS,
    MAX_TEXT_CHARS,
    MIN_HOLD_MS,
)
from .messages import EXAMPLES, NEEDS_VALUE, kind_of, validated
from .model import (
    FITTED_REST_MS,
    HALFWAY,
    REST_FIELDS,
    Announcement,
    Exercise,
    Music,
    Phase,
    Routine,
    Voice,
)
from .slug import slugify
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap

_SESSION_KEYS = ("lead_in", "prepare")  # once per session: a top-level key, never an exercise's


def resolve_routine(data: Any, source: SourceMap, text_language: str | None = None) -> Routine:
    """Validate plain YAML data and resolve defaults into a Routine. ``text_language`` is the language the
    routine's own text is in (its file's ``language:``, before a variant or a setting chose another); text with
    no translation into the session's language is said in it, and listed in ``untranslated``."""
    if not isinstance(data, dict):
        raise RoutineError(f"the file holds {kind_of(data)}, not a routine; start with `title:` and `exercises:`",
                           file=source.file, line=1)
    defaults = data.get("defaults")
    for key in _SESSION_KEYS:
        if isinstance(defaults, dict) and key in defaults:
            raise source.error(("defaults", key), f'unknown key "{key}"; {key} is for the whole session, not for '
                                                  f"each exercise, so write it at the top of the routine, e.g. "
                                                  f"`{EXAMPLES.get(key, key + ': 1s')}`")
    doc = validated(RoutineDoc, data, (), source)
    if "prepare" in doc.model_fields_set and doc.prepare is None:
        raise source.error(("prepare",), f"has no value; write e.g. `{EXAMPLES['prepare']}`, or leave prepare out "
                                         "for its speech plus a few seconds")
    language = doc.language.strip().lower()
    if language not in SUPPORTED_LANGUAGES:
        base = language.replace("_", "-").split("-")[0]
        if base in SUPPORTED_LANGUAGES:  # "en-gb": the phrases are "en", the accent is the voice's
            raise source.error(("language",), f'"{doc.language}" is not supported; write `language: {base}` and '
                                              f"choose the accent with the voice, e.g. `voice: {{name: {language}}}`")
        raise source.error(("language",), f'"{doc.language}" is not a language voicecoach speaks; use one of '
                           + language_names())
    own = text_language or language
    untranslated: list[tuple[int, str, Any]] = []  # (line, field, its text): listed in the file's order

    def local(value: Any, path: YamlPath) -> Any:
        return localized(value, language, path, source, own, untranslated)

    title = local(doc.title, ("title",)).strip()
    exercises = []
    seen_ids: dict[str, int] = {}
    for index, exercise_doc in enumerate(doc.exercises):
        exercise = _resolve_exercise(exercise_doc, doc.defaults, index, source, local)
        if exercise.id in seen_ids and exercise_doc.id is None:
            raise source.error(("exercises", index),
                               f'the name "{exercise.name}" gives the id "{exercise.id}", which '
                               f"exercises[{seen_ids[exercise.id]}] already has; give this one its own id, "
                               f"e.g. `id: {exercise.id}-2`")
        if exercise.id in seen_ids:
            raise source.error(("exercises", index, "id"),
                               f'id "{exercise.id}" is already used by exercises[{seen_ids[exercise.id]}]; '
                               f"give each exercise its own id, e.g. `id: {exercise.id}-2`")
        seen_ids[exercise.id] = index
        exercises.append(exercise)
    if doc.voice.model is not None and voice_file_kind(doc.voice.engine) is None:
        takers = [name for name in engine_names() if voice_file_kind(name) is not None]
        kind = voice_file_kind(takers[0]) if len(takers) == 1 else "a voice file"
        use = " or ".join(f"`engine: {name}`" for name in takers)
        raise source.error(("voice", "model"), f"a model file is {str(kind).split(' (')[0]}, but the engine is "
                                               f"{doc.voice.engine}; add {use} to voice, or remove model")
    if doc.music_rest is not None and doc.music is None:
        raise source.error(("music_rest",), "is music for the rests, but there is no `music:` for the holds; add "
                                            "e.g. `music: music/` or remove music_rest")
    music = Music(Path(doc.music), Path(doc.music_rest) if doc.music_rest else None, seed=doc.music_seed,
                  crossfade_ms=to_ms(doc.crossfade), gain_db=float(doc.music_gain_db), duck_db=float(doc.duck_db),
                  duck_attack_ms=to_ms(doc.duck_attack), duck_release_ms=to_ms(doc.duck_release)) \
        if doc.music is not None else None
    routine = Routine(
        title=title,
        description=local(doc.description, ("description",)),
        language=language,
        voice=Voice(engine=doc.voice.engine, name=doc.voice.name, rate_wpm=doc.voice.rate,
                    volume=float(doc.voice.volume), model=Path(doc.voice.model) if doc.voice.model else None),
        lexicon=Lexicon(tuple((written.strip(), said.strip())
                              for written, said in _lexicon_for(doc.lexicon, language, own).items())),
        intro=local(doc.intro, ("intro",)),
        outro=local(doc.outro, ("outro",)),
        cover=Path(doc.cover) if doc.cover else None,
        tone_gain_db=float(doc.audio.tone_gain_db),
        prepare_ms=to_ms(doc.prepare) if doc.prepare is not None else FITTED_REST_MS["prepare"],
        prepare_fitted=doc.prepare is None,
        lead_in_ms=to_ms(doc.lead_in),
        exercises=tuple(exercises),
        music=music,
        source=source,
        text_language=own,
        untranslated=tuple(dict.fromkeys(field for _, field, _ in sorted(untranslated, key=lambda u: u[:2]))),
        foreign_texts=frozenset(_texts_of(value for _, _, value in untranslated)),
        text_lexicon=Lexicon(tuple((written.strip(), said.strip())
                                   for written, said in _lexicon_for(doc.lexicon, own, own).items())),
    )
    routine = scale_times(routine, doc.time_scale) if doc.time_scale != 1.0 else routine
    routine = scale_times(routine, doc.rest_scale, rests_only=True) if doc.rest_scale != 1.0 else routine
    _check_texts(routine)
    check_size(routine, doc.time_scale)
    return routine


_NAMES = {"title": "Knee mobility", "name": "Ankle circles", "id": "ankle-circles", "side's label": "left",
          "phase's name": "down"}  # a name field, and an example of one
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # a text may have tabs and line breaks


def says_nothing(text: str) -> bool:
    """No letter, digit or symbol: only punctuation ("..."), spaces and invisible characters, which a voice does
    not say (espeak-ng's silence would be a SpeechError after synthesis began)."""
    return not any(unicodedata.category(char)[0] in "LNS" for char in text)


def _visible(text: str) -> str:
    """``text`` with its invisible characters written out (``\\u200b``)."""
    return "".join(f"\\u{ord(char):04x}" if unicodedata.category(char) == "Cf" else char for char in text)


def check_said(routine: Routine) -> None:
    """Every text said on its own has something to say, and every name something to see (checked before any
    synthesis, not when loaded: such a routine can still be read, planned and shown by `voicecoach script`)."""
    source = routine.source
    names: list[tuple[YamlPath, str, str]] = [(("title",), routine.title, "title")]
    said: list[tuple[YamlPath, str | None]] = [((field,), getattr(routine, field)) for field in ("intro", "outro")]
    for exercise in routine.exercises:
        where = ("exercises", exercise.index)
        names.append((where + ("name",), exercise.name, "name"))
        said += [(where + (field,), getattr(exercise, field)) for field in ("instructions", "cue", "release")]
        said += [(where + ("sides",), side) for side in exercise.sides]
    for path, name, what in names:
        if not "".join(char for char in name if unicodedata.category(char) != "Cf").strip():
            raise source.error(path, f"{show_value(_visible(name))} is only invisible characters; write a {what}, "
                                     f"e.g. `{_NAMES[what]}`")
    for path, text in said:
        if text is not None and says_nothing(text):
            raise source.error(path, f"{show_value(_visible(text))} has no word in it, so nothing would be said; "
                                     f"write words, or leave `{path[-1]}:` out")


def _check_texts(routine: Routine) -> None:
    """Every text within its limit, plain text (no control character a terminal would act on), and more than
    spaces (docs/routine-format.md, section 7.9)."""
    source = routine.source

    def check(path: YamlPath, text: str | None, limit: int | None, what: str) -> None:
        if text is None:
            return
        field = str(path[-1])
        name = what in _NAMES
        control = (_CONTROL_IN_NAME if name else _CONTROL_IN_TEXT).search(text)
        if control:
            kind = "a name is one line of plain text" if name else \
                "a text is plain text (line breaks and tabs are fine)"
            raise source.error(path, f"has the control character {repr(control[0])[1:-1]} in it, which a terminal "
                                     f"would act on; {kind}, so remove it")
        if not text.strip():
            if name:
                raise source.error(path, f"is only spaces; write {'an' if what == 'id' else 'a'} {what}, e.g. "
                                         f"`{_NAMES[what]}`")
            raise source.error(path, f"is only spaces; write the {what}, or leave `{field}:` out")
        if limit is not None and len(text) > limit:
            raise source.error(path, f"is {len(text):,} characters long; the limit is {limit:,}, so shorten it")

    check(("title",), routine.title, MAX_NAME_CHARS, "title")
    check(("description",), routine.description, MAX_TEXT_CHARS, "description")
    for field in ("intro", "outro"):
        check((field,), getattr(routine, field), MAX_TEXT_CHARS, field)
    if len(routine.exercises) > MAX_EXERCISES:
        raise source.error(("exercises",), f"has {len(routine.exercises):,} exercises; a routine has at most "
                                           f"{MAX_EXERCISES}, so split it into several routines (`voicecoach "
                                           "batch` builds them all at once)")
    for exercise in routine.exercises:
        where = ("exercises", exercise.index)
        check(where + ("name",), exercise.name, MAX_NAME_CHARS, "name")
        check(where + ("id",), exercise.id, None, "id")
        for field in ("instructions", "cue", "release"):
            check(where + (field,), getattr(exercise, field), MAX_TEXT_CHARS, field)
        for side in exercise.sides:
            check(where + ("sides",), side, MAX_NAME_CHARS, "side's label")
        for phase in exercise.tempo or ():
            check(where + ("tempo",), phase.name, MAX_NAME_CHARS, "phase's name")
    for written, spoken in routine.lexicon.entries:
        for text in (written, spoken):
            if _CONTROL_IN_NAME.search(text):
                raise source.error(("lexicon",), f"{show_value(text)} has a control character in it, which a "
                                                 "terminal would act on; write plain text")


def localized(value: Any, language: str, path: YamlPath, source: SourceMap, text_language: str | None = None,
              untranslated: list[tuple[int, str, Any]] | None = None) -> Any:
    """``value`` in ``language``: the language's entry of a ``{language: text}`` mapping, or else the text in the
    routine's own ``text_language`` (plain text is in it), noted in ``untranslated``; with neither, an error."""
    own = text_language or language
    if not isinstance(value, dict):
        if own != language and untranslated is not None and _is_text(path, value):
            untranslated.append((source.line_of(path) or 0, source.written_as(path), value))
        return value
    if language in value:
        return value[language]
    if own in value:
        if untranslated is not None:
            untranslated.append((source.line_of(path) or 0, source.written_as(path), value[own]))
        return value[own]
    raise source.error(path, f'has no text for language "{language}" (it has {", ".join(value)}); add '
                             f"`{language}: ...` under it, or build in {' or '.join(value)}")


def check_size(routine: Routine, factor: float = 1.0) -> None:
    """Refuse absurdly many holds, or holds and rests over 12 hours, naming the exercise that weighs most (the
    planner checks the session with its speech)."""
    source = routine.source
    counts = [len(exercise.sides) * exercise.sets * exercise.reps for exercise in routine.exercises]
    if sum(counts) > MAX_HOLDS:
        index = max(range(len(counts)), key=counts.__getitem__)
        exercise = routine.exercises[index]
        parts = [f"{len(exercise.sides)} sides"] if len(exercise.sides) > 1 else []
        parts += [f"{exercise.sets} sets"] if exercise.sets > 1 else []
        parts += [f"{exercise.reps} reps"] if exercise.reps > 1 else []
        here = f"{' x '.join(parts)} make {counts[index]} holds" if parts else f"{counts[index]} holds"
        if counts[index] < sum(counts):
            here += f" here, {sum(counts)} in the whole session"
        raise source.error(("exercises", index), f"{here}; a session has at most {MAX_HOLDS} holds, so use fewer "
                                                 "sides, sets or reps")
    spans = [_asked_ms(exercise, last=exercise is routine.exercises[-1]) for exercise in routine.exercises]
    total_ms = routine.lead_in_ms + routine.prepare_ms + sum(spans)
    if total_ms > MAX_SESSION_MS:
        index = max(range(len(spans)), key=spans.__getitem__)
        scaled = f" (with {source.written_as(('time_scale',))} {factor:g})" if factor != 1.0 else ""
        raise source.error(("exercises", index),
                           f"its holds and rests last {format_s(spans[index])}{scaled}, which makes the session at "
                           f"least {format_s(total_ms)}; a session is at most 12 hours, so use fewer sets or reps, "
                           "or shorter holds and rests")


def _asked_ms(exercise: Exercise, last: bool) -> int:
    """An exercise's holds and rests as asked (the rest after it too, unless it is the last)."""
    sides, sets, reps = len(exercise.sides), exercise.sets, exercise.reps
    if exercise.tempo:  # a set is one stretch of reps, with no rest between them
        reps = 1
    return (sides * sets * reps * exercise.hold_ms + sides * sets * (reps - 1) * exercise.rep_rest_ms
            + sides * (sets - 1) * exercise.set_rest_ms + (sides - 1) * exercise.side_rest_ms
            + (0 if last else exercise.rest_ms))


def scale_times(routine: Routine, factor: float, rests_only: bool = False) -> Routine:
    """Every hold, rest and ``prepare`` times ``factor`` (``time_scale``), or only the rests and ``prepare``
    (``rest_scale``: a gentler version with the same holds); ``countdown`` and ``announce`` stay.

    Halfway is recomputed from the new hold; a time-left call that no longer
    fits inside its scaled hold is dropped, as the format says.
    """
    source = routine.source
    field = "rest_scale" if rests_only else "time_scale"

    def scaled(ms: int, what: str) -> int:
        result = round(ms * factor)
        if result > MAX_DURATION_S * 1000:
            raise source.error((field,), f"{factor:g} makes {what} {format_s(result)}, over the 4 hour limit; "
                                         f"use a smaller {field}")
        return result

    exercises = []
    for exercise in routine.exercises:
        # A tempo is how fast to move, not how long to stay: its reps keep their pace.
        hold_ms = exercise.hold_ms if exercise.tempo or rests_only else \
            scaled(exercise.hold_ms, f"the hold of {exercise.name}")
        if hold_ms < MIN_HOLD_MS:
            raise source.error(("time_scale",), f"{factor:g} makes the hold of {exercise.name} {format_s(hold_ms)}; "
                                                f"a hold lasts at least {format_s(MIN_HOLD_MS)}, so use a larger "
                                                f"time_scale or a longer hold")
        calls = [Announcement(hold_ms // 2, halfway=True) if call.halfway else call
                 for call in exercise.announce if call.halfway or call.time_left_ms < hold_ms]
        # Halfway may now fall on a time-left call ("10 seconds left" in a 20 s hold): say it once.
        announce = tuple({call.time_left_ms: call for call in reversed(calls)}.values())[::-1]
        exercises.append(dataclasses.replace(
            exercise, hold_ms=hold_ms, announce=announce,
            rep_rest_ms=scaled(exercise.rep_rest_ms, f"the rep_rest of {exercise.name}"),
            set_rest_ms=scaled(exercise.set_rest_ms, f"the set_rest of {exercise.name}"),
            side_rest_ms=scaled(exercise.side_rest_ms, f"the side_rest of {exercise.name}"),
            rest_ms=scaled(exercise.rest_ms, f"the rest after {exercise.name}")))
    return dataclasses.replace(routine, exercises=tuple(exercises), prepare_ms=scaled(routine.prepare_ms, "prepare"))


# The fields a person writes words in (``sides`` when they name the sides: "left leg"; left and right are ours).
_TEXT_FIELDS = frozenset({"title", "description", "intro", "outro", "name", "instructions", "cue", "release", "sides",
                          "tempo"})


def _is_text(path: YamlPath, value: Any) -> bool:
    field_name = next((part for part in reversed(path) if isinstance(part, str)), "")
    if field_name not in _TEXT_FIELDS or value is None:
        return False
    if field_name == "tempo":  # phases named in the routine's words, not "3-1-1-0" (ours: down, bottom, up, top)
        return any(name not in TEMPO_PHASES for name, _ in value)
    if isinstance(value, (list, tuple)):
        return any(isinstance(label, str) and label not in ("left", "right") for label in value)
    return isinstance(value, str)


def _texts_of(values: Any) -> set[str]:
    """The texts said as written: a text, or the labels of sides (a tempo's phase names are not said as lines)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, (list, tuple)):
            found.update(label for label in value if isinstance(label, str))
    return found


def _lexicon_for(lexicon: dict[str, dict[str, str]], language: str, own: str) -> dict[str, str]:
    """The lexicon's entries for ``language``: its own table (``lexicon: {de: {...}}``), else a flat lexicon
    when the session is in the routine's own language (a flat lexicon is for that language only)."""
    if language in lexicon:
        return lexicon[language]
    return lexicon.get("", {}) if language == own else {}


def _resolve_exercise(doc: ExerciseDoc, defaults: ExerciseFieldsDoc, index: int, source: SourceMap,
                      local_text: Any) -> Exercise:
    path: YamlPath = ("exercises", index)

    def pick(name: str, builtin: Any = None, local: bool = True) -> Any:
        for where, fields in ((path, doc), (("defaults",), defaults)):
            if name in fields.model_fields_set:
                value = getattr(fields, name)
                if value is not None:
                    return local_text(value, where + (name,)) if local else value
                if name in NEEDS_VALUE:  # `reps:` with nothing after it
                    raise source.error(where + (name,), f"has no value; write e.g. `{EXAMPLES[name]}`")
                return builtin  # `cue:` or `sides:` with nothing after it: none
        return builtin

    written_name = pick("name", local=False)
    name = pick("name")
    if name is None:
        raise source.error(path, "name is missing; add e.g. `name: Ankle circles`")
    tempo = pick("tempo")  # its phases' names in the session's language, when given per language
    moving = _moving(doc, path, source, pick, tempo) if tempo is not None else _holding(doc, path, source, pick)
    # The id is the same in every language: from the first name written when there are several.
    id_name = next(iter(written_name.values())) if isinstance(written_name, dict) else name
    return Exercise(
        id=doc.id if doc.id is not None else slugify(id_name, fallback=f"exercise-{index + 1}"),
        name=name.strip(),
        index=index,
        sides=tuple(pick("sides", [None])),
        sets=pick("sets", 1),
        instructions=pick("instructions"),
        release=pick("release"),
        set_rest_ms=_rest_ms(pick, "set_rest"),
        side_rest_ms=_rest_ms(pick, "side_rest"),
        rest_ms=_rest_ms(pick, "rest"),
        fitted_rests=frozenset(field for field in REST_FIELDS if pick(field) is None),
        countdown=pick("countdown", 3),
        countdown_style=pick("countdown_style", "ticks"),
        **moving,
    )


def _rest_ms(pick: Any, field: str) -> int:
    """A rest as written, or, left out, the time after its speech (it lasts its speech plus this)."""
    written = pick(field)
    return to_ms(written) if written is not None else FITTED_REST_MS[field]


def _holding(doc: ExerciseDoc, path: YamlPath, source: SourceMap, pick: Any) -> dict[str, Any]:
    """The fields of an exercise that holds: its hold, announcements, cue, reps and the rests between them."""
    for only_tempo in ("phase_cue", "count"):
        if getattr(doc, only_tempo) is not None:
            raise source.error(path + (only_tempo,), f"{only_tempo} is for an exercise with a tempo (moving reps, "
                                                     'e.g. `tempo: "3-1-1-0"`); this one holds, so remove it')
    hold_s = pick("hold")
    if hold_s is None:
        raise source.error(path, "hold is missing; add e.g. `hold: 5s` (or set it once under defaults)")
    hold_ms = to_ms(hold_s)
    hold_path = path + ("hold",) if "hold" in doc.model_fields_set else ("defaults", "hold")
    if hold_ms < MIN_HOLD_MS:
        raise source.error(hold_path, f"{format_s(hold_ms)} is too short; a hold lasts at least "
                                      f"{format_s(MIN_HOLD_MS)} (its start tone must fit), e.g. 5s")
    announce_raw = pick("announce")
    announce_path = path + ("announce",) if "announce" in doc.model_fields_set else ("defaults", "announce")
    if announce_raw is None:
        announce_raw = [HALFWAY] if hold_ms >= 30_000 else []
    announcements = []
    for position, item in enumerate(announce_raw):
        if item == HALFWAY:
            announcements.append(Announcement(time_left_ms=hold_ms // 2, halfway=True))
            continue
        left_ms = to_ms(item)
        if not 0 < left_ms < hold_ms:
            raise source.error(announce_path + (position,),
                               f"{format_s(left_ms)} left is not inside the {format_s(hold_ms)} hold; "
                               f"use a time shorter than {format_s(hold_ms)}, or lengthen the hold")
        announcements.append(Announcement(time_left_ms=left_ms))
    announcements.sort(key=lambda call: -call.time_left_ms)
    return dict(hold_ms=hold_ms, reps=pick("reps", 1), cue=pick("cue"),
                rep_rest_ms=_rest_ms(pick, "rep_rest"),
                announce=tuple(dict.fromkeys(announcements)), count_reps=pick("count_reps", True))


def _moving(doc: ExerciseDoc, path: YamlPath, source: SourceMap, pick: Any,
            tempo: tuple[tuple[str, float], ...]) -> dict[str, Any]:
    """The fields of an exercise of moving reps: each rep goes through the tempo's phases; a set is its reps back
    to back."""
    for held in ("hold", "cue", "announce"):
        if held in doc.model_fields_set:
            raise source.error(path + (held,), f"a tempo exercise has no {held}: its reps last their phases, and "
                                               "each phase has its cue; remove it, or remove tempo")
    phases = tuple(Phase(phase_name, to_ms(seconds)) for phase_name, seconds in tempo)
    reps = pick("reps", 1)
    return dict(hold_ms=reps * sum(phase.ms for phase in phases), reps=reps, count_reps=False, tempo=phases,
                phase_cue=pick("phase_cue", "tone"), count_aloud=pick("count", "aloud") == "aloud")
