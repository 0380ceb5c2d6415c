"""The routine file as written: pydantic models of the YAML document, with their field types and validators.
Validated here; turned into the frozen model by ``resolve``."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    WrapValidator,
)

from .._speech.engines import is_engine
from .durations import UNIT_PATTERN, format_s, parse_duration_s, show_value, to_ms
from .languages import SUPPORTED_LANGUAGES
from .limits import (
    MAX_DURATION_S,
    MAX_EXERCISES,
    MAX_LEAD_IN_S,
    MAX_NAME_CHARS,
    MAX_REPS,
    MAX_SETS,
    MAX_TEXT_CHARS,
    MAX_TIME_SCALE,
    MIN_HOLD_MS,
    MIN_PHASE_MS,
    MIN_TIME_SCALE,
)
from .model import HALFWAY, LEAD_IN_MS, CountdownStyle


def _within_limit(seconds: float) -> float:
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{format_s(to_ms(seconds))} is longer than the 4 hour limit; write at most 4h, "
                         "e.g. 30s, 2m or 1h")
    return seconds


# How the JSON Schema (``voicecoach schema``) describes the values parsed here: what an editor may accept. Every
# range voicecoach checks that JSON Schema can say is in it, from ``limits``: only for an editor, as the
# validators here (and ``resolve``, with its own messages) are what voicecoach goes by.
_NUMBER = r"(\d+(\.\d+)?|\.\d+)"
DURATION_PATTERN = (rf"^\s*({_NUMBER}|(\d+:)?\d+:\d{{1,2}}(\.\d+)?|({_NUMBER}\s*({UNIT_PATTERN})\s*)+)\s*$")
# A duration with a digit other than 0 in it: not 0 written as "0s", "0:00" or "0m 0.0s".
NONZERO_DURATION_PATTERN = "^(?=.*[1-9])" + DURATION_PATTERN[1:]


def duration_schema(least_s: float = 0, most_s: float = MAX_DURATION_S, *, above_least: bool = False,
                    below_most: bool = False) -> dict[str, Any]:
    """A duration from ``least_s`` to ``most_s`` (each left out with ``above_least``, ``below_most``): as a number
    of seconds, the range; as text, only that a duration above 0 is not written as 0 (a pattern cannot add up
    "1m30s")."""
    number = {"type": "number", ("exclusiveMinimum" if above_least else "minimum"): least_s,
              ("exclusiveMaximum" if below_most else "maximum"): most_s}
    pattern = NONZERO_DURATION_PATTERN if least_s > 0 or above_least else DURATION_PATTERN
    return {"anyOf": [number, {"type": "string", "pattern": pattern}],
            "description": "A duration: seconds (5, 2.5) or text such as 5s, 90s, 1m30s, 1:30, 5 min, 80ms, 1h."}


DURATION_SCHEMA: dict[str, Any] = duration_schema()
Duration = Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(_within_limit),
                     WithJsonSchema(DURATION_SCHEMA)]
# A hold: validated as any duration (``resolve`` refuses one under MIN_HOLD_MS, naming where it is written).
HoldDuration = Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(_within_limit),
                         WithJsonSchema(duration_schema(MIN_HOLD_MS / 1000))]


def _duration_up_to(limit_s: float, example: str) -> Any:
    """A duration of at most ``limit_s`` (the music's crossfade and duck times)."""
    def check(seconds: float) -> float:
        if seconds > limit_s:
            raise ValueError(f"{format_s(to_ms(seconds))} is out of range; use at most "
                             f"{format_s(to_ms(limit_s))}, e.g. `{example}`")
        return seconds
    return Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(check),
                     WithJsonSchema(duration_schema(most_s=limit_s))]


def _gain_db(low: float, example: str) -> Any:
    return Annotated[float, Field(ge=low, le=0.0), BeforeValidator(lambda v: _no_bool(v, example))]
Text = Annotated[StrictStr, Field(min_length=1)]


def _local_text(value: object, handler: Any) -> object:
    """Text, or a mapping from language code to text (``{en: Plank, de: Unterarmstütz}``)."""
    if not isinstance(value, dict):
        return handler(value)
    if not value:
        raise ValueError("the mapping is empty; write the text, or one text per language, e.g. "
                         "`{en: Plank, de: Unterarmstütz}`")
    texts = {}
    for code, text in value.items():
        language = code.strip().lower() if isinstance(code, str) else None
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"{show_value(code)} is not a language voicecoach speaks; a text per language is keyed "
                             f"by one of {', '.join(sorted(SUPPORTED_LANGUAGES))}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {language} text {show_value(text)} is not text; write e.g. `{language}: Plank`")
        texts[language] = text
    return texts


def _local_text_schema(most_chars: int) -> dict[str, Any]:
    """Text of at most ``most_chars`` characters (``resolve`` checks it), or one such text per language."""
    text = {"type": "string", "minLength": 1, "maxLength": most_chars}
    return {"anyOf": [text, {"type": "object", "minProperties": 1,
                             "propertyNames": {"enum": sorted(SUPPORTED_LANGUAGES)}, "additionalProperties": text}],
            "description": "Text, or one text per language: {en: Plank, de: Unterarmstütz}."}


# Text a routine may write in several languages at once: a string, or {language code: string}.
LocalText = Annotated[Text, WrapValidator(_local_text), WithJsonSchema(_local_text_schema(MAX_TEXT_CHARS))]
# The same for a title or an exercise's name, which are shorter (validated alike: ``resolve`` checks the length).
LocalName = Annotated[Text, WrapValidator(_local_text), WithJsonSchema(_local_text_schema(MAX_NAME_CHARS))]


def _lexicon(value: object) -> object:
    """``{word: said}`` (for the routine's own language: key "") or ``{language: {word: said}}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{show_value(value)} is not a mapping; write each word and how to say it, "
                         "e.g. `lexicon: {Kegel: KAY-gull}`")
    if value and all(key in SUPPORTED_LANGUAGES and isinstance(table, dict) for key, table in value.items()):
        return {language: _lexicon_table(table) for language, table in value.items()}
    return {"": _lexicon_table(value)}


def _lexicon_table(value: dict) -> dict:
    for written, said in value.items():
        if not isinstance(written, str) or not written.strip():
            raise ValueError(f"{show_value(written)} is not a word; write each word as text and how to say it, "
                             "e.g. `Kegel: KAY-gull`")
        if not isinstance(said, str) or not said.strip():
            raise ValueError(f'"{written}" has {show_value(said) if said is not None else "no value"}; write how '
                             f"to say it as text, e.g. `{written}: KAY-gull`")
    return value


def _sides(value: object) -> object:
    if isinstance(value, dict) and value and all(key in SUPPORTED_LANGUAGES for key in value):
        return {language: _sides(labels) for language, labels in value.items()}  # one set of labels per language
    if value is True:
        return ["left", "right"]
    if value is False or value is None:
        return [None]
    if isinstance(value, str):
        return [value]
    return value


def _announce_list(value: object) -> object:
    return value if isinstance(value, list) else [value]


def _announce_item(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == HALFWAY:
        return HALFWAY
    try:
        return _within_limit(parse_duration_s(value))
    except ValueError:
        raise ValueError(f"{show_value(value)} is not halfway or a duration; write halfway, 1m or 10s") from None


TEMPO_PHASES = ("down", "bottom", "up", "top")  # the phases of a tempo written as "3-1-1-0"
TEMPO_HINT = 'write seconds down-bottom-up-top, e.g. "3-1-1-0", or name each phase, e.g. `tempo: {down: 3s, up: 1s}`'


def _tempo(value: object) -> object:
    """``"3-1-1-0"`` (down, bottom, up, top) or ``{down: 3s, up: 1s}``: each phase's name and seconds; or one
    per language (``{en: {down: 3s, up: 1s}, de: {runter: 3s, hoch: 1s}}``), its phases as long in each."""
    if isinstance(value, dict) and value and all(key in SUPPORTED_LANGUAGES and isinstance(phases, (dict, str))
                                                 for key, phases in value.items()):
        per_language = {language: cast(tuple, _tempo(phases)) for language, phases in value.items()}
        timings = {tuple(seconds for _, seconds in phases) for phases in per_language.values()}
        if len(timings) > 1:
            raise ValueError("its phases last differently in different languages; give each language the same "
                             "phases, in the same order and of the same lengths, named in its own words")
        return per_language
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) != len(TEMPO_PHASES):
            raise ValueError(f"{show_value(value)} has {len(parts)} phase{'s' if len(parts) != 1 else ''}; "
                             + TEMPO_HINT)
        try:
            lengths_s = [parse_duration_s(part.strip()) for part in parts]
        except ValueError:
            raise ValueError(f"{show_value(value)} is not a tempo; {TEMPO_HINT}") from None
        phases: list[tuple[str, float]] = list(zip(TEMPO_PHASES, lengths_s))
    elif isinstance(value, dict) and value:
        phases = []
        for name, length in value.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"{show_value(name)} is not a phase name; {TEMPO_HINT}")
            try:
                phases.append((name.strip(), _within_limit(parse_duration_s(length))))
            except ValueError as error:
                raise ValueError(f'phase "{name}": {error}') from None
    else:
        raise ValueError(f"{show_value(value)} is not a tempo; {TEMPO_HINT}")
    for name, seconds in phases:
        if 0 < to_ms(seconds) < MIN_PHASE_MS:
            raise ValueError(f'the {name} phase lasts {format_s(to_ms(seconds))}; a phase lasts 0 (none) or at least '
                             f"{format_s(MIN_PHASE_MS)}, so that its cue fits")
    if sum(to_ms(seconds) for _, seconds in phases) < MIN_HOLD_MS:
        raise ValueError(f"a rep of {show_value(value)} lasts under {format_s(MIN_HOLD_MS)}; give its phases more "
                         'time, e.g. "3-1-1-0"')
    return tuple(phases)


_ONE_SIDES = [{"type": "boolean"}, {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
              {"type": "array", "minItems": 1, "items": {"type": ["string", "null"], "maxLength": MAX_NAME_CHARS}}]
SideLabels = Annotated[list[StrictStr | None] | dict[str, list[StrictStr | None]], BeforeValidator(_sides),
                       Field(min_length=1), WithJsonSchema({
    "anyOf": [*_ONE_SIDES, {"type": "object", "minProperties": 1,
                            "propertyNames": {"enum": sorted(SUPPORTED_LANGUAGES)},
                            "additionalProperties": {"anyOf": _ONE_SIDES}}]})]
# A phase lasts 0 (none) or from MIN_PHASE_MS to the limit.
_PHASE_SCHEMA = {"anyOf": [{"const": 0}, {"type": "number", "minimum": MIN_PHASE_MS / 1000, "maximum": MAX_DURATION_S},
                           {"type": "string", "pattern": DURATION_PATTERN}],
                 "description": f"A phase: 0 (none) or a duration of at least {format_s(MIN_PHASE_MS)}, e.g. 2s."}
_ONE_TEMPO = [{"type": "string", "pattern": r"^\s*[^-\s]+\s*(-\s*[^-\s]+\s*){3}$"},
              {"type": "object", "minProperties": 1, "propertyNames": {"maxLength": MAX_NAME_CHARS},
               "additionalProperties": _PHASE_SCHEMA}]
Tempo = Annotated[tuple[tuple[str, float], ...] | dict[str, tuple[tuple[str, float], ...]], BeforeValidator(_tempo),
                  WithJsonSchema({"anyOf": [*_ONE_TEMPO, {
                      "type": "object", "minProperties": 1, "propertyNames": {"enum": sorted(SUPPORTED_LANGUAGES)},
                      "additionalProperties": {"anyOf": _ONE_TEMPO}}]})]
# A time left is inside the hold: more than 0, and less than the hold (so than the limit).
_ANNOUNCE_ITEM = {"anyOf": [{"const": HALFWAY}, duration_schema(above_least=True, below_most=True)]}
AnnounceList = Annotated[list[Annotated[str | float, BeforeValidator(_announce_item)]],
                         BeforeValidator(_announce_list),
                         WithJsonSchema({"anyOf": [_ANNOUNCE_ITEM, {"type": "array", "items": _ANNOUNCE_ITEM}]})]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_engine(name: str) -> str:
    if not is_engine(name):
        raise ValueError("not a speech engine")
    return name


class VoiceDoc(_Doc):
    engine: Annotated[StrictStr, AfterValidator(_known_engine)] = "pyttsx3"
    name: Text | None = None
    model: Text | None = None
    rate: StrictInt = Field(160, ge=80, le=400)
    volume: Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(lambda v: _no_bool(v, "volume: 0.8"))] = 1.0


def _no_bool(value: object, example: str) -> object:
    if isinstance(value, bool):
        raise ValueError(f"{show_value(value)} is not a number; write e.g. `{example}`")
    return value


class AudioDoc(_Doc):
    tone_gain_db: Annotated[float, Field(ge=-20.0, le=10.0), BeforeValidator(lambda v: _no_bool(v, "tone_gain_db: -3"))
                            ] = 0.0


class ExerciseFieldsDoc(_Doc):
    """Every exercise field, all optional: the shape of ``defaults``."""

    name: LocalName | None = None
    instructions: LocalText | None = None
    cue: LocalText | None = None
    release: LocalText | None = None
    sides: SideLabels | None = None
    sets: StrictInt | None = Field(None, ge=1, le=MAX_SETS)
    reps: StrictInt | None = Field(None, ge=1, le=MAX_REPS)
    hold: HoldDuration | None = None
    rep_rest: Duration | None = None
    set_rest: Duration | None = None
    side_rest: Duration | None = None
    rest: Duration | None = None
    countdown: StrictInt | None = Field(None, ge=0, le=10)
    countdown_style: CountdownStyle | None = None
    announce: AnnounceList | None = None
    count_reps: StrictBool | None = None
    tempo: Tempo | None = None
    phase_cue: Literal["tone", "voice"] | None = None
    count: Literal["aloud", "silent"] | None = None


class ExerciseDoc(ExerciseFieldsDoc):
    id: Text | None = None


_QUANTITY = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*-?" + DURATION_PATTERN[1:]}],
             "description": "a number, or a duration (5s, 1m30s); a step may be negative (-2s)"}
_CHANGE = {"anyOf": [
    {"type": "array", "description": "One value per week: [5s, 5s, 8s, 8s]."},
    {"type": "object", "description": "From a value, a step every so many weeks, up to max (or down to min).",
     "properties": {"from": _QUANTITY, "step": _QUANTITY, "max": _QUANTITY, "min": _QUANTITY,
                    "every": {"anyOf": [{"type": "integer", "minimum": 1},
                                        {"type": "string", "pattern": r"^\s*(\d{1,3})?\s*weeks?\s*$"}]}},
     "required": ["from", "step"], "additionalProperties": False},
    {"type": "object", "description": "From the first week's value to the last's, in even steps, rounded.",
     "properties": {"from": _QUANTITY, "to": _QUANTITY}, "required": ["from", "to"], "additionalProperties": False},
]}
_WEEKDAY = {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun",
                     "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]}
_DAY_CHANGES = {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": {}}],
                "description": "This day's own changes, as --set paths: a value for every week, a list or a rule."}
PROGRAM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A program: this routine over weeks, its fields changing week by week (docs/routine-format.md, "
                   "Programs). Build it with `voicecoach batch ROUTINE --program`.",
    "properties": {
        "weeks": {"type": "integer", "minimum": 1, "maximum": 104},
        "days": {"anyOf": [
            {"type": "array", "items": _WEEKDAY, "minItems": 1, "maxItems": 7, "uniqueItems": True},
            {"type": "object", "additionalProperties": _DAY_CHANGES},
        ], "description": "The days of each week ([mon, wed, fri]), or a mapping of each day to its own changes."},
        "days_per_week": {"type": "integer", "minimum": 1, "maximum": 7},
        "start": {"type": "string", "format": "date", "description": "The first day, YYYY-MM-DD."},
        "progression": {"type": "object", "additionalProperties": _CHANGE,
                        "description": "Each field that changes (a --set path, e.g. exercises.squat.hold) and how."},
        "deload": {"anyOf": [{"type": "integer", "minimum": 2},
                             {"type": "array", "items": {"type": "integer", "minimum": 2}}],
                   "description": "Weeks that repeat the week before's values."},
    },
    "required": ["weeks"],
    "additionalProperties": False,
}


class RoutineDoc(_Doc):
    title: LocalName
    description: LocalText | None = None
    language: StrictStr = "en"
    voice: VoiceDoc = VoiceDoc()
    lexicon: Annotated[dict[str, dict[str, str]], BeforeValidator(_lexicon), WithJsonSchema({
        "type": "object", "additionalProperties": {"anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}]},
        "description": "How the voice says words: {Kegel: KAY-gull} for the routine's own language, or one "
                       "table per language: {en: {Set: sett}, de: {...}}."})] = {}
    intro: LocalText | None = None
    lead_in: _duration_up_to(MAX_LEAD_IN_S, "lead_in: 1s") = LEAD_IN_MS / 1000  # type: ignore[valid-type]
    prepare: Duration | None = None  # not written: its speech plus a few seconds (``model.FITTED_REST_MS``)
    outro: LocalText | None = None
    cover: Text | None = None
    audio: AudioDoc = AudioDoc()
    defaults: ExerciseFieldsDoc = ExerciseFieldsDoc()
    exercises: list[ExerciseDoc] = Field(min_length=1, json_schema_extra={"maxItems": MAX_EXERCISES})
    variants: dict[StrictStr, dict[str, Any]] | None = None
    program: Annotated[dict[str, Any], WithJsonSchema(PROGRAM_SCHEMA)] | None = None  # read by ``_program``
    time_scale: Annotated[float, Field(ge=MIN_TIME_SCALE, le=MAX_TIME_SCALE),
                          BeforeValidator(lambda v: _no_bool(v, "time_scale: 0.5"))] = 1.0
    rest_scale: Annotated[float, Field(ge=MIN_TIME_SCALE, le=MAX_TIME_SCALE),
                          BeforeValidator(lambda v: _no_bool(v, "rest_scale: 1.5"))] = 1.0
    music: Text | None = None
    music_rest: Text | None = None
    music_seed: StrictInt = Field(0, ge=0)
    music_gain_db: _gain_db(-40.0, "music_gain_db: -14") = -14.0  # type: ignore[valid-type]
    duck_db: _gain_db(-40.0, "duck_db: -12") = -12.0  # type: ignore[valid-type]
    duck_attack: _duration_up_to(1.0, "duck_attack: 80ms") = 0.08  # type: ignore[valid-type]
    duck_release: _duration_up_to(5.0, "duck_release: 400ms") = 0.4  # type: ignore[valid-type]
    crossfade: _duration_up_to(30.0, "crossfade: 3s") = 3.0  # type: ignore[valid-type]
