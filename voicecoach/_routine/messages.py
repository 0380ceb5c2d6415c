"""pydantic's validation errors turned into one line a person can act on: the file, the line, the field, what is
wrong and what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .._errors import RoutineError
from .._speech.engines import describe_engines
from .durations import show_value
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap

# ---------------------------------------------------------------- error messages

EXAMPLES = {
    "title": "title: Morning mobility",
    "description": "description: Ten gentle minutes for a stiff knee",
    "intro": "intro: Sit on the floor with your legs straight.",
    "outro": "outro: Well done.",
    "prepare": "prepare: 5s",
    "lead_in": "lead_in: 1s",
    "name": "name: Ankle circles",
    "id": "id: ankle-circles",
    "instructions": "instructions: Slide your heel towards you.",
    "cue": "cue: Breathe out",
    "release": "release: Relax",
    "exercises": "exercises: [{name: Plank, hold: 30s}]",
    "defaults": "defaults: {rest: 20s}",
    "voice": "voice: {name: en-gb, rate: 150}",
    "sides": "sides: [left foot, right foot]",
    "sets": "sets: 3",
    "reps": "reps: 10",
    "hold": "hold: 5s",
    "rep_rest": "rep_rest: 5s",
    "set_rest": "set_rest: 15s",
    "side_rest": "side_rest: 5s",
    "rest": "rest: 20s",
    "countdown": "countdown: 3",
    "countdown_style": "countdown_style: voice",
    "announce": "announce: [halfway, 10s]",
    "count_reps": "count_reps: false",
    "tempo": 'tempo: "3-1-1-0"',
    "phase_cue": "phase_cue: voice",
    "count": "count: aloud",
    "rate": "rate: 160",
    "volume": "volume: 0.8",
    "engine": "engine: pyttsx3",
    "model": "model: voices/de_DE-thorsten-medium.onnx",
    "lexicon": "lexicon: {Kegel: KAY-gull}",
    "language": "language: en",
    "time_scale": "time_scale: 0.5",
    "rest_scale": "rest_scale: 1.5",
    "music": "music: music/",
    "music_rest": "music_rest: calm.mp3",
    "music_seed": "music_seed: 7",
    "music_gain_db": "music_gain_db: -14",
    "duck_db": "duck_db: -12",
    "duck_attack": "duck_attack: 80ms",
    "duck_release": "duck_release: 400ms",
    "crossfade": "crossfade: 3s",
}
MAX_MISTAKES_SHOWN = 20  # a file's mistakes found together, all shown by ``validate``
# Exercise fields that cannot be left blank (``cue:`` with nothing after it just means no cue).
NEEDS_VALUE = {"name", "hold", "sets", "reps", "rep_rest", "set_rest", "side_rest", "rest", "countdown",
                "count_reps"}
# Words people use for a key voicecoach calls something else.
_SAME_AS = {
    "duration": "hold", "time": "hold", "length": "hold", "seconds": "hold", "hold_time": "hold",
    "repetitions": "reps", "repeats": "reps", "times": "reps",
    "rounds": "sets", "pause": "rest", "break": "rest", "side": "sides",
    "speed": "rate", "wpm": "rate", "playlist": "music", "soundtrack": "music", "background": "music",
    "loudness": "volume", "lang": "language", "voice_name": "name",
}
_READ_AS = {bool: "true or false", int: "a number", float: "a number"}


def validated(model: type[BaseModel], data: dict, path: YamlPath, source: SourceMap) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        # The earliest line first; on one line an unknown key before a missing one,
        # since "titel:" makes both and the typo is the real mistake.
        errors = error.errors()
        # A missing key next to an unknown one is most likely the same key, misspelt ("exercise:").
        unknown_in = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "extra_forbidden"}
        errors = [e for e in errors if e["type"] != "missing" or tuple(e["loc"][:-1]) not in unknown_in]
        ordered = sorted(errors, key=lambda e: (source.line_of(path + tuple(e["loc"])) or 0,
                                                e["type"] != "extra_forbidden"))
        found: list[RoutineError] = []
        for each in ordered:
            mistake = _routine_error(each, path + tuple(each["loc"]), model, source)
            if all(mistake.format() != known.format() for known in found):
                found.append(mistake)
            if len(found) == MAX_MISTAKES_SHOWN:
                break
        first = found[0]
        raise RoutineError(first.message, file=first.file, line=first.line, field=first.field,
                           more=found[1:]) from None


def _routine_error(error: Mapping[str, Any], loc: YamlPath, model: type[BaseModel], source: SourceMap) -> RoutineError:
    kind = error["type"]
    value = error.get("input")
    field_name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    example = EXAMPLES.get(field_name)
    hint = f"; write e.g. `{example}`" if example else ""
    if kind == "extra_forbidden":
        parent_model = _model_at(model, loc[:-1])
        known = sorted(parent_model.model_fields) if parent_model else []
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if not guess and _SAME_AS.get(key.strip().lower()) in known:
            guess = [_SAME_AS[key.strip().lower()]]
        fix = f'did you mean "{guess[0]}"?' if guess else \
            "known keys: " + ", ".join(known) + "; for a note to yourself, start the line with #"
        if key == "id" and loc[:1] == ("defaults",):
            fix = "an id belongs to one exercise, so write it under that exercise, not under defaults"
        return source.error(loc, f'unknown key "{key}"; {fix}')
    if kind == "missing":
        line, parent = source.locate(loc[:-1])
        return RoutineError(f"{field_name} is missing{hint}", file=source.file, line=line, field=parent)
    in_exercise_list = len(loc) >= 2 and loc[-2] == "exercises" and isinstance(loc[-1], int)
    if value is None and in_exercise_list:
        return source.error(loc, "the `-` has nothing after it; write an exercise there, e.g. `- name: Plank` with "
                                 "`hold: 30s` below, or remove the `-`")
    if loc[:1] == ("variants",) and len(loc) <= 2 and kind in ("dict_type", "model_type", "model_attributes_type"):
        if len(loc) == 1:
            return source.error(loc, f"{show_value(value)} should be a mapping from each variant's name to the "
                                     "fields it changes, e.g. `variants: {quick: {time_scale: 0.5}}`")
        what = "has no value" if value is None else f"{show_value(value)} should be a mapping"
        return source.error(loc, f"{what}; a variant lists the fields it changes, e.g. "
                                 f"`{loc[1]}: {{defaults: {{rest: 10s}}}}` or `{loc[1]}: {{time_scale: 0.5}}`")
    if value is None:
        return source.error(loc, f"has no value{hint or '; give it a value or remove the key'}")
    written = source.written.get(loc)
    if kind == "string_type" and written is not None and (type(value) in _READ_AS or hasattr(value, "isoformat")):
        read_as = show_value(value) if isinstance(value, bool) else _READ_AS.get(type(value), "a date")
        quoted = f'{loc[-1]}: "{written}"' if isinstance(loc[-1], str) else f'"{written}"'
        return source.error(loc, f"`{written}` is read as {read_as}, not as text; put it in quotes: `{quoted}`")
    if kind == "list_type" and field_name == "exercises" and isinstance(value, dict):
        name = value.get("name") if isinstance(value.get("name"), str) else "Plank"
        return source.error(loc, f"is one mapping, not a list of exercises; start each exercise with `- `, "
                                 f"e.g. `- name: {name}`, and line up its other keys under `name`")
    if kind in ("model_type", "model_attributes_type", "dict_type") and field_name == "voice" \
            and isinstance(value, str):
        return source.error(loc, f"{show_value(value)} should be a mapping; write `voice: {{name: {value}}}`")
    if field_name == "engine" and kind in ("value_error", "string_type"):
        origin = source.written_as(loc)  # a flag (--engine, --set voice.engine) is answered with the flag's form
        written_as = f"{origin} " if origin.startswith(("{@", "-")) and "." not in origin else \
            f"{origin}=" if origin.startswith(("{@", "-")) else "engine: "
        return source.error(loc, f"{show_value(value)} is not a speech engine; write {describe_engines(written_as)}")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return source.error(loc, f"{show_value(value)} is not a whole number{hint}")
    if kind in ("bool_type", "bool_parsing"):
        return source.error(loc, f"{show_value(value)} is not true or false{hint}")
    if kind in ("string_type",):
        return source.error(loc, f"{show_value(value)} is not text{hint}")
    if kind == "string_too_short":
        return source.error(loc, f"is empty{hint or '; write some text or remove the key'}")
    if kind in ("float_type", "float_parsing"):
        return source.error(loc, f"{show_value(value)} is not a number{hint}")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(_model_at(model, loc[:-1]), field_name)
        return source.error(loc, f"{show_value(value)} is out of range; use a value from {bounds}")
    if kind == "too_short" and field_name == "exercises":
        return source.error(loc, "the list is empty; a routine needs at least one exercise, e.g. "
                                 "`- {name: Plank, hold: 30s}`")
    if kind == "too_short" and field_name == "sides":
        return source.error(loc, "the list is empty; write e.g. `sides: [left, right]`, or leave sides out")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if in_exercise_list:
            name = show_value(value)[1:-1] if isinstance(value, str) else "Plank"
            return source.error(loc, f"{show_value(value)} is not an exercise; write it as a mapping, e.g. "
                                     f"`- name: {name}` with `hold: 30s` below")
        return source.error(loc, f"{show_value(value)} should be a mapping of keys to values{hint}")
    if kind == "list_type":
        return source.error(loc, f"{show_value(value)} should be a list{hint}")
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return source.error(loc, f"{show_value(value)} is not supported; use {expected}")
    if kind == "value_error":
        message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        return source.error(loc, message)
    return source.error(loc, f"{error['msg'].lower()}{hint}")


def _model_at(model: type[BaseModel], loc: YamlPath) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        annotation = current.model_fields[part].annotation
        current = _unwrap_model(annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _unwrap_model(argument)
        if found is not None:
            return found
    return None


def _bounds(model: type[BaseModel] | None, name: str) -> str:
    if model is None or name not in model.model_fields:
        return "the allowed range"
    low = high = None
    for constraint in model.model_fields[name].metadata:
        low = getattr(constraint, "ge", None) if getattr(constraint, "ge", None) is not None else low
        high = getattr(constraint, "le", None) if getattr(constraint, "le", None) is not None else high
    return f"{low} to {high}"


def kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "plain text"
    return f"a single value ({show_value(value)})"


def choices(name: str, known: Sequence[str], what: str) -> str:
    if not known:
        return f"the routine has no {what}"
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listed = ", ".join(known)
    return f'did you mean "{guess[0]}"? ({what}: {listed})' if guess else f"{what}: {listed}"

