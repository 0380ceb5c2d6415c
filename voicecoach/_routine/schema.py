"""A JSON Schema (draft-07) for routine files, generated from the models that validate them (``document.py``).

Editors with the YAML language server (VS Code's YAML extension, Neovim, Helix,
JetBrains IDEs...) use it for completion, hover help and red squiggles. It is
made from ``RoutineDoc``'s pydantic schema, so the two cannot drift apart: the
keys, closed sets, ranges and "no other keys" come from the models; the values
voicecoach parses itself (durations, text per language, sides, tempo) carry
their own schema where they are declared, with every range voicecoach checks
that JSON Schema can say, from ``limits`` (a hold of at least 0.5 s, no
duration over 4 hours, the length of a name or a text, at most 500
exercises). Ranges that need the file's other values (a time left inside its
hold, the session's 12 hours) or the sum of a text duration ("1m30s") are
voicecoach's alone. Here it is only converted to
draft-07, given a description per key for hover help, and given the shape of a
variant. ``voicecoach/routine.schema.json`` is this output, committed; a test
proves it is current. The format itself: docs/routine-format.md.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

from .._speech.engines import engine_names
from .document import PROGRAM_SCHEMA, RoutineDoc
from .languages import SUPPORTED_LANGUAGES
from .messages import EXAMPLES, NEEDS_VALUE

SCHEMA_FILE = "routine.schema.json"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# Hover help, one line per key (the same key means the same thing wherever it is written).
HELP = {
    "title": "The session's title: tags, chapters and the file name.",
    "description": "Written into the MP3's comment tag.",
    "language": "The language of the cues and chapter titles, and of the default voice.",
    "voice": "Who speaks: engine, voice name or model, rate and volume.",
    "engine": "Speech engine: pyttsx3 (espeak-ng, the default) or piper (natural; pip install 'voicecoach[neural]').",
    "name": "For an exercise: spoken, and the chapter title. For a voice: an engine voice id or a language code.",
    "model": "A piper voice file (.onnx, its .onnx.json beside it), relative to the routine.",
    "rate": "Words per minute, 80 to 400 (default 160).",
    "volume": "0.0 to 1.0 (default 1.0).",
    "lexicon": "How the voice says words it reads wrongly: {Kegel: KAY-gull}. The written text stays.",
    "intro": "Said first.",
    "lead_in": "Silence before the first sound, for headphones that wake on it, at most 10 s (default 1s; 0 for "
               "none).",
    "prepare": "From the opening speech to the first start tone (default: its speech plus 5 s).",
    "outro": "Said last, after \"Session complete\".",
    "cover": "A PNG or JPEG next to the routine: the MP3's cover art.",
    "audio": "Levels: tone_gain_db.",
    "tone_gain_db": "The tones louder (+) or quieter (-) against the voice, -20 to 10 dB (default 0).",
    "defaults": "Exercise fields for every exercise that does not set them.",
    "exercises": "The exercises, in order (at least one).",
    "variants": "Named versions of the routine: each lists the fields it changes (exercises by id).",
    "time_scale": "Every hold, rest and prepare times this factor, 0.1 to 10 (tempo reps keep their pace).",
    "rest_scale": "Every rest and prepare times this factor, 0.1 to 10; the holds stay (a gentler version).",
    "music": "A music file or folder (mp3, m4a, ogg, flac, wav) played under the coach, relative to the routine.",
    "music_rest": "Another music file or folder, played in the rests instead (needs music).",
    "music_seed": "The shuffled order of a music folder (default 0: the same order on every build).",
    "music_gain_db": "The music against the voice's loudness, -40 to 0 dB (default -14).",
    "duck_db": "The music lower still under every word and tone, -40 to 0 dB (default -12).",
    "duck_attack": "The duck is fully down this long before a sound (default 80ms, at most 1s).",
    "duck_release": "And comes back over this long after it (default 400ms, at most 5s).",
    "crossfade": "Between music tracks, and between the holds' and the rests' music (default 3s, at most 30s).",
    "id": "A stable handle for --set and variants (default: the name's slug). Not in defaults.",
    "instructions": "Said once, after the exercise's name, before its first rep.",
    "cue": "Said right after every start tone.",
    "release": "Said at every stop tone (default \"Release\").",
    "sides": "true (left and right), one label, or a list of labels: the exercise is done once per side.",
    "sets": "Sets per side, 1 to 1000 (default 1).",
    "reps": "Reps per set, 1 to 1000 (default 1).",
    "hold": "How long each rep is held, at least 0.5 s (e.g. 5s, 1m30s).",
    "rep_rest": "Between the reps of a set, exactly (default: its speech plus 3 s).",
    "set_rest": "Between sets, exactly (default: its speech plus 10 s).",
    "side_rest": "Between sides, exactly (default: its speech plus 5 s).",
    "rest": "After the exercise, before the next one, exactly (default: its speech plus 15 s).",
    "countdown": "Ticks (or numbers) on the last N seconds of holds and rests, 0 to 10 (default 3).",
    "countdown_style": "ticks (default), voice (the numbers said) or both.",
    "announce": "Calls inside a long hold: halfway and/or times left, e.g. [halfway, 10s].",
    "count_reps": "Say \"Rep 2 of 10\" before each rep (default true).",
    "tempo": "Moving reps instead of a hold: \"3-1-1-0\" (down, bottom, up, top) or {down: 2s, up: 2s}; a phase is 0 "
             "or at least 0.5 s.",
    "phase_cue": "How each phase of a tempo rep starts: tone (default) or voice (its word).",
    "count": "aloud (default for a tempo): each rep's number said as it ends; or silent.",
}


def routine_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a routine file."""
    raw = RoutineDoc.model_json_schema(ref_template="#/definitions/{model}")
    definitions = raw.pop("$defs", {})
    schema: dict[str, Any] = {"$schema": DRAFT_07, "title": "voicecoach routine",
                              "description": "A voicecoach routine: see docs/routine-format.md.", **raw}
    # The engines are those registered (voicecoach's own, and any an installed package adds).
    engine = definitions["VoiceDoc"]["properties"]["engine"]
    definitions["VoiceDoc"]["properties"]["engine"] = {"default": engine.pop("default"), "enum": list(engine_names()),
                                                       **engine}
    for part in (schema, *definitions.values()):
        _describe(part)
    # A closed set the model checks by hand (so that "EN" works and "en-gb" gets its own hint).
    schema["properties"]["language"] = {
        "type": "string", "default": "en", "description": HELP["language"],
        "enum": sorted(SUPPORTED_LANGUAGES) + sorted(code.upper() for code in SUPPORTED_LANGUAGES)}
    # A variant: any top-level field but title's requirement and variants themselves; exercises by id.
    fields: dict[str, Any] = {key: copy.deepcopy(value) for key, value in schema["properties"].items()
                              if key not in ("variants", "exercises", "program")}
    variant = {"type": "object", "additionalProperties": False,
               "description": "The fields this variant changes; exercises are a mapping from id to fields.",
               "properties": fields}
    fields["exercises"] = {
        "type": "object", "description": "Exercise id: the fields that change.",
        "additionalProperties": {"$ref": "#/definitions/ExerciseDoc"}}
    definitions["Variant"] = variant
    schema["properties"]["variants"] = {
        "type": "object", "description": HELP["variants"], "additionalProperties": {"$ref": "#/definitions/Variant"}}
    schema["definitions"] = definitions
    return schema


_SESSION_NEEDS_VALUE = {"prepare"}  # left out for its default, never blank


def _describe(model: dict[str, Any]) -> None:
    """Hover help and an example on each key; no "title" noise; no null where voicecoach needs a value."""
    model.pop("title", None)
    for key, value in model.get("properties", {}).items():
        value.pop("title", None)
        if (key in NEEDS_VALUE or key in _SESSION_NEEDS_VALUE) and "anyOf" in value:
            value["anyOf"] = [branch for branch in value["anyOf"] if branch != {"type": "null"}]
            if len(value["anyOf"]) == 1:
                value.update(value.pop("anyOf")[0])
        if value.get("default", 0) is None:
            value.pop("default")
        if key in HELP:
            value["description"] = HELP[key]
        if key in EXAMPLES:
            value["markdownDescription"] = f"{HELP.get(key, '')}\n\n`{EXAMPLES[key]}`".strip()


def schema_text() -> str:
    return json.dumps(routine_schema(), indent=2, ensure_ascii=False) + "\n"


def program_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a program file: a ``program:`` section's fields at the top, and the routine
    it names."""
    program = copy.deepcopy(PROGRAM_SCHEMA)
    routine = {"type": "string", "minLength": 1, "description": "The routine this program builds: its file, from "
                                                                 "this file's folder (knee.yaml)."}
    return {"$schema": DRAFT_07, "title": "voicecoach program",
            "description": "A voicecoach program file: see docs/routine-format.md, Programs.",
            **program, "properties": {"routine": routine, **program["properties"]}, "required": ["routine", "weeks"]}


def program_schema_text() -> str:
    return json.dumps(program_file_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_path() -> Path:
    """The committed schema inside the installed package, which editors can read from disk."""
    return Path(str(resources.files("voicecoach").joinpath(SCHEMA_FILE)))


def modeline() -> str:
    """The first line that tells the YAML language server which schema a routine file follows."""
    return f"# yaml-language-server: $schema={schema_path().as_uri()}\n"


def with_modeline(text: str) -> str:
    """``text`` with the schema modeline first (replacing one that is there)."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith("# yaml-language-server:"):
        lines = lines[1:]
    return modeline() + "".join(lines)
