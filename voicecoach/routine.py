"""Stage 1: read a routine file, validate it, and resolve it into plain, frozen data.

The format, every field and rule: docs/routine-format.md.

The YAML is checked by pydantic models whose errors are turned into one line
each (file, line, field, what is wrong, what would be right). ``defaults`` are
merged into every exercise here, so later stages never see a missing value.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema,
                      StrictInt, StrictStr, ValidationError, WrapValidator)

from .durations import format_s, parse_duration_s, show_value, to_ms
from .errors import RoutineError
from .lexicon import Lexicon
from .phrases import SUPPORTED_LANGUAGES, language_names
from .slug import session_slug, slugify
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap, load_yaml_text

MAX_DURATION_S = 4 * 3600
MAX_SESSION_MS = 12 * 3600 * 1000
MAX_HOLDS = 20_000
MIN_HOLD_MS = 500
MAX_FILE_BYTES = 1_000_000
MIN_TIME_SCALE, MAX_TIME_SCALE = 0.1, 10.0
DEFAULT_REST_S = {"rep_rest": 5.0, "set_rest": 15.0, "side_rest": 5.0, "rest": 20.0}
HALFWAY = "halfway"


def _within_limit(seconds: float) -> float:
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{format_s(to_ms(seconds))} is longer than the 4 hour limit; write at most 4h, "
                         "e.g. 30s, 2m or 1h")
    return seconds


# How the JSON Schema (``voicecoach schema``) describes the values parsed here: what an editor may accept.
_UNITS = "h|hr|hrs|hour|hours|m|min|mins|minute|minutes|s|sec|secs|second|seconds|ms"
_NUMBER = r"(\d+(\.\d+)?|\.\d+)"
DURATION_PATTERN = (rf"^\s*({_NUMBER}|(\d+:)?\d+:\d{{1,2}}(\.\d+)?|({_NUMBER}\s*({_UNITS})\s*)+)\s*$")
DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}],
    "description": "A duration: seconds (5, 2.5) or text such as 5s, 90s, 1m30s, 1:30, 5 min, 80ms, 1h.",
}
Duration = Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(_within_limit),
                     WithJsonSchema(DURATION_SCHEMA)]


def _duration_up_to(limit_s: float, example: str) -> Any:
    """A duration of at most ``limit_s`` (the music's crossfade and duck times)."""
    def check(seconds: float) -> float:
        if seconds > limit_s:
            raise ValueError(f"{format_s(to_ms(seconds))} is out of range; use at most "
                             f"{format_s(to_ms(limit_s))}, e.g. `{example}`")
        return seconds
    return Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(check), WithJsonSchema(DURATION_SCHEMA)]


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


# Text a routine may write in several languages at once: a string, or {language code: string}.
LocalText = Annotated[Text, WrapValidator(_local_text), WithJsonSchema({
    "anyOf": [{"type": "string", "minLength": 1},
              {"type": "object", "minProperties": 1, "propertyNames": {"enum": sorted(SUPPORTED_LANGUAGES)},
               "additionalProperties": {"type": "string", "minLength": 1}}],
    "description": "Text, or one text per language: {en: Plank, de: Unterarmstütz}."})]


def _lexicon(value: object) -> object:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{show_value(value)} is not a mapping; write each word and how to say it, "
                         "e.g. `lexicon: {Kegel: KAY-gull}`")
    for written, said in value.items():
        if not isinstance(written, str) or not written.strip():
            raise ValueError(f"{show_value(written)} is not a word; write each word as text and how to say it, "
                             "e.g. `Kegel: KAY-gull`")
        if not isinstance(said, str) or not said.strip():
            raise ValueError(f'"{written}" has {show_value(said) if said is not None else "no value"}; write how '
                             f"to say it as text, e.g. `{written}: KAY-gull`")
    return value


def _sides(value: object) -> object:
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
MIN_PHASE_MS = 500  # the start tone and its clearance (400 ms) end before the next phase tone
TEMPO_HINT = 'write seconds down-bottom-up-top, e.g. "3-1-1-0", or name each phase, e.g. `tempo: {down: 3s, up: 1s}`'


def _tempo(value: object) -> object:
    """``"3-1-1-0"`` (down, bottom, up, top) or ``{down: 3s, up: 1s}``: each phase's name and seconds."""
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


SideLabels = Annotated[list[StrictStr | None], BeforeValidator(_sides), Field(min_length=1), WithJsonSchema({
    "anyOf": [{"type": "boolean"}, {"type": "string", "minLength": 1},
              {"type": "array", "minItems": 1, "items": {"type": ["string", "null"]}}]})]
Tempo = Annotated[tuple[tuple[str, float], ...], BeforeValidator(_tempo), WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^\s*[^-\s]+\s*(-\s*[^-\s]+\s*){3}$"},
              {"type": "object", "minProperties": 1, "additionalProperties": DURATION_SCHEMA}]})]
_ANNOUNCE_ITEM = {"anyOf": [{"const": HALFWAY}, DURATION_SCHEMA]}
AnnounceList = Annotated[list[Annotated[str | float, BeforeValidator(_announce_item)]],
                         BeforeValidator(_announce_list),
                         WithJsonSchema({"anyOf": [_ANNOUNCE_ITEM, {"type": "array", "items": _ANNOUNCE_ITEM}]})]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoiceDoc(_Doc):
    engine: Literal["pyttsx3", "piper"] = "pyttsx3"
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

    name: LocalText | None = None
    instructions: LocalText | None = None
    cue: LocalText | None = None
    release: LocalText | None = None
    sides: SideLabels | None = None
    sets: StrictInt | None = Field(None, ge=1, le=1000)
    reps: StrictInt | None = Field(None, ge=1, le=1000)
    hold: Duration | None = None
    rep_rest: Duration | None = None
    set_rest: Duration | None = None
    side_rest: Duration | None = None
    rest: Duration | None = None
    countdown: StrictInt | None = Field(None, ge=0, le=10)
    countdown_style: Literal["ticks", "voice", "both"] | None = None
    announce: AnnounceList | None = None
    count_reps: StrictBool | None = None
    tempo: Tempo | None = None
    phase_cue: Literal["tone", "voice"] | None = None
    count: Literal["aloud", "silent"] | None = None


class ExerciseDoc(ExerciseFieldsDoc):
    id: Text | None = None


class RoutineDoc(_Doc):
    title: LocalText
    description: LocalText | None = None
    language: StrictStr = "en"
    voice: VoiceDoc = VoiceDoc()
    lexicon: Annotated[dict[str, str], BeforeValidator(_lexicon), WithJsonSchema({
        "type": "object", "additionalProperties": {"type": "string", "minLength": 1}})] = {}
    intro: LocalText | None = None
    prepare: Duration = 5.0
    outro: LocalText | None = None
    cover: Text | None = None
    audio: AudioDoc = AudioDoc()
    defaults: ExerciseFieldsDoc = ExerciseFieldsDoc()
    exercises: list[ExerciseDoc] = Field(min_length=1)
    variants: dict[StrictStr, dict[str, Any]] | None = None
    time_scale: Annotated[float, Field(ge=MIN_TIME_SCALE, le=MAX_TIME_SCALE),
                          BeforeValidator(lambda v: _no_bool(v, "time_scale: 0.5"))] = 1.0
    music: Text | None = None
    music_rest: Text | None = None
    music_seed: StrictInt = Field(0, ge=0)
    music_gain_db: _gain_db(-40.0, "music_gain_db: -14") = -14.0  # type: ignore[valid-type]
    duck_db: _gain_db(-40.0, "duck_db: -12") = -12.0  # type: ignore[valid-type]
    duck_attack: _duration_up_to(1.0, "duck_attack: 80ms") = 0.08  # type: ignore[valid-type]
    duck_release: _duration_up_to(5.0, "duck_release: 400ms") = 0.4  # type: ignore[valid-type]
    crossfade: _duration_up_to(30.0, "crossfade: 3s") = 3.0  # type: ignore[valid-type]


# ---------------------------------------------------------------- resolved data


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
    rep_rest_ms: int = 5000
    set_rest_ms: int = 15000
    side_rest_ms: int = 5000
    rest_ms: int = 20000
    countdown: int = 3
    countdown_style: str = "ticks"  # "ticks", "voice" (the numbers spoken) or "both"
    announce: tuple[Announcement, ...] = ()
    count_reps: bool = True
    # A tempo exercise moves through its phases rep after rep; ``hold_ms`` is then a whole set (reps x a rep).
    tempo: tuple[Phase, ...] = ()
    phase_cue: str = "tone"  # "tone": a soft tone starts each phase; "voice": its word is said
    count_aloud: bool = False  # each rep's number said at its end

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
    prepare_ms: int = 5000
    name_parts: tuple[str, ...] = ()
    cover: Path | None = None  # the routine's own cover image, resolved next to the routine file
    tone_gain_db: float = 0.0  # tones louder (+) or quieter (-) against the speech
    lexicon: Lexicon = Lexicon()
    music: Music | None = None
    source: SourceMap = field(default_factory=lambda: SourceMap("<routine>"), compare=False, repr=False)

    @property
    def session_title(self) -> str:
        """The title tag: "Title (quick, rate 140)" for a variant or override, else the title."""
        return f"{self.title} ({', '.join(self.name_parts)})" if self.name_parts else self.title

    @property
    def slug(self) -> str:
        """The session's file name: ``<title-slug>--<variant>--<label-value>...``."""
        return session_slug(self.title, self.name_parts)


# ---------------------------------------------------------------- loading


def read_routine_source(path: str | Path, display_name: str | None = None) -> tuple[Any, SourceMap]:
    """The file's YAML as plain data plus the line of every value; nothing validated yet."""
    path = Path(path)
    name = display_name or str(path)
    if not path.exists():
        raise RoutineError("no such file; check the path, or run `voicecoach init` to write a starter routine",
                           file=name)
    if path.is_dir():
        raise RoutineError("is a folder, not a routine file; give the path of a .yaml file", file=name)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RoutineError(f"cannot be read ({error.strerror}); check its permissions", file=name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RoutineError(f"is {len(raw)} bytes; a routine file is at most {MAX_FILE_BYTES} bytes", file=name)
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            or _looks_like_utf16(raw):
        raise RoutineError("is saved as UTF-16 (\"Unicode\") text; save it as UTF-8 in your editor "
                           "(in Notepad: File, Save as, Encoding: UTF-8)", file=name)
    if b"\x00" in raw:
        raise RoutineError("is a binary file, not a routine; give a YAML text file", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RoutineError("is not UTF-8 text; save it as UTF-8 in your editor", file=name, line=line) from None
    return load_yaml_text(text, name)


def _looks_like_utf16(raw: bytes) -> bool:
    """Text saved as UTF-16 without a byte order mark: every other byte is zero."""
    sample = raw[:2000]
    return len(sample) >= 8 and any(sample[start::2].count(0) >= 0.9 * len(sample[start::2]) and
                                    sample[1 - start::2].count(0) == 0 for start in (0, 1))


def parse_routine(text: str, file: str = "<routine>") -> Routine:
    """A routine from YAML text, for tests and tools: files it names are not looked up. A routine file is
    read by ``variants.load_routine_file``, the one loader, which also finds its cover and voice files."""
    data, source = load_yaml_text(text, file)
    return resolve_routine(data, source)


def resolve_routine(data: Any, source: SourceMap) -> Routine:
    """Validate plain YAML data and resolve defaults into a Routine."""
    if not isinstance(data, dict):
        raise RoutineError(f"the file holds {_kind(data)}, not a routine; start with `title:` and `exercises:`",
                           file=source.file, line=1)
    doc = _validate(RoutineDoc, data, (), source)
    language = doc.language.strip().lower()
    if language not in SUPPORTED_LANGUAGES:
        base = language.replace("_", "-").split("-")[0]
        if base in SUPPORTED_LANGUAGES:  # "en-gb": the phrases are "en", the accent is the voice's
            raise source.error(("language",), f'"{doc.language}" is not supported; write `language: {base}` and '
                                              f"choose the accent with the voice, e.g. `voice: {{name: {language}}}`")
        raise source.error(("language",), f'"{doc.language}" is not a language voicecoach speaks; use one of '
                           + language_names())
    exercises = []
    seen_ids: dict[str, int] = {}
    for index, exercise_doc in enumerate(doc.exercises):
        exercise = _resolve_exercise(exercise_doc, doc.defaults, index, source, language)
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
    if doc.voice.model is not None and doc.voice.engine != "piper":
        raise source.error(("voice", "model"), f"a model file is a piper voice, but the engine is {doc.voice.engine}; "
                                               "add `engine: piper` to voice, or remove model")
    if doc.music_rest is not None and doc.music is None:
        raise source.error(("music_rest",), "is music for the rests, but there is no `music:` for the holds; add "
                                            "e.g. `music: music/` or remove music_rest")
    music = Music(Path(doc.music), Path(doc.music_rest) if doc.music_rest else None, seed=doc.music_seed,
                  crossfade_ms=to_ms(doc.crossfade), gain_db=float(doc.music_gain_db), duck_db=float(doc.duck_db),
                  duck_attack_ms=to_ms(doc.duck_attack), duck_release_ms=to_ms(doc.duck_release)) \
        if doc.music is not None else None
    routine = Routine(
        title=localized(doc.title, language, ("title",), source).strip(),
        description=localized(doc.description, language, ("description",), source),
        language=language,
        voice=Voice(engine=doc.voice.engine, name=doc.voice.name, rate_wpm=doc.voice.rate,
                    volume=float(doc.voice.volume), model=Path(doc.voice.model) if doc.voice.model else None),
        lexicon=Lexicon(tuple((written.strip(), said.strip()) for written, said in doc.lexicon.items())),
        intro=localized(doc.intro, language, ("intro",), source),
        outro=localized(doc.outro, language, ("outro",), source),
        cover=Path(doc.cover) if doc.cover else None,
        tone_gain_db=float(doc.audio.tone_gain_db),
        prepare_ms=to_ms(doc.prepare),
        exercises=tuple(exercises),
        music=music,
        source=source,
    )
    routine = scale_times(routine, doc.time_scale) if doc.time_scale != 1.0 else routine
    _check_size(routine, doc.time_scale)
    return routine


def localized(value: Any, language: str, path: YamlPath, source: SourceMap) -> Any:
    """``value`` in ``language``: text as it is, or the language's entry of a ``{language: text}`` mapping."""
    if not isinstance(value, dict):
        return value
    if language in value:
        return value[language]
    raise source.error(path, f'has no text for language "{language}" (it has {", ".join(value)}); add '
                             f"`{language}: ...` under it, or build in {' or '.join(value)}")


def _check_size(routine: Routine, factor: float) -> None:
    """Refuse absurdly many holds, or a session over 12 hours, naming the exercise that weighs most."""
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
    total_ms = routine.prepare_ms + sum(spans)
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


def scale_times(routine: Routine, factor: float) -> Routine:
    """Every hold, rest and ``prepare`` times ``factor``; ``countdown`` and ``announce`` stay.

    Halfway is recomputed from the new hold; a time-left call that no longer
    fits inside its scaled hold is dropped, as the format says.
    """
    source = routine.source

    def scaled(ms: int, what: str) -> int:
        result = round(ms * factor)
        if result > MAX_DURATION_S * 1000:
            raise source.error(("time_scale",), f"{factor:g} makes {what} {format_s(result)}, over the 4 hour limit; "
                                                f"use a smaller time_scale")
        return result

    exercises = []
    for exercise in routine.exercises:
        # A tempo is how fast to move, not how long to stay: its reps keep their pace.
        hold_ms = exercise.hold_ms if exercise.tempo else scaled(exercise.hold_ms, f"the hold of {exercise.name}")
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


def _resolve_exercise(doc: ExerciseDoc, defaults: ExerciseFieldsDoc, index: int, source: SourceMap,
                      language: str) -> Exercise:
    path: YamlPath = ("exercises", index)

    def pick(name: str, builtin: Any = None, local: bool = True) -> Any:
        for where, fields in ((path, doc), (("defaults",), defaults)):
            if name in fields.model_fields_set:
                value = getattr(fields, name)
                if value is not None:
                    return localized(value, language, where + (name,), source) if local else value
                if name in _NEEDS_VALUE:  # `reps:` with nothing after it
                    raise source.error(where + (name,), f"has no value; write e.g. `{_EXAMPLES[name]}`")
                return builtin  # `cue:` or `sides:` with nothing after it: none
        return builtin

    written_name = pick("name", local=False)
    name = pick("name")
    if name is None:
        raise source.error(path, "name is missing; add e.g. `name: Ankle circles`")
    tempo = pick("tempo", local=False)
    if tempo is not None:
        return _tempo_exercise(doc, index, source, pick, written_name, name, tempo)
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
    # The id is the same in every language: from the first name written when there are several.
    id_name = next(iter(written_name.values())) if isinstance(written_name, dict) else name
    exercise_id = doc.id if doc.id is not None else slugify(id_name, fallback=f"exercise-{index + 1}")
    return Exercise(
        id=exercise_id,
        name=name.strip(),
        index=index,
        hold_ms=hold_ms,
        sides=tuple(pick("sides", [None])),
        sets=pick("sets", 1),
        reps=pick("reps", 1),
        instructions=pick("instructions"),
        cue=pick("cue"),
        release=pick("release"),
        rep_rest_ms=to_ms(pick("rep_rest", DEFAULT_REST_S["rep_rest"])),
        set_rest_ms=to_ms(pick("set_rest", DEFAULT_REST_S["set_rest"])),
        side_rest_ms=to_ms(pick("side_rest", DEFAULT_REST_S["side_rest"])),
        rest_ms=to_ms(pick("rest", DEFAULT_REST_S["rest"])),
        countdown=pick("countdown", 3),
        countdown_style=pick("countdown_style", "ticks"),
        announce=tuple(dict.fromkeys(announcements)),
        count_reps=pick("count_reps", True),
    )


def _tempo_exercise(doc: ExerciseDoc, index: int, source: SourceMap, pick: Any, written_name: Any, name: str,
                    tempo: tuple[tuple[str, float], ...]) -> Exercise:
    """An exercise of moving reps: each rep goes through the tempo's phases; a set is its reps back to back."""
    path: YamlPath = ("exercises", index)
    for held in ("hold", "cue", "announce"):
        if held in doc.model_fields_set:
            raise source.error(path + (held,), f"a tempo exercise has no {held}: its reps last their phases, and "
                                               "each phase has its cue; remove it, or remove tempo")
    phases = tuple(Phase(phase_name, to_ms(seconds)) for phase_name, seconds in tempo)
    reps = pick("reps", 1)
    rep_ms = sum(phase.ms for phase in phases)
    id_name = next(iter(written_name.values())) if isinstance(written_name, dict) else name
    return Exercise(
        id=doc.id if doc.id is not None else slugify(id_name, fallback=f"exercise-{index + 1}"),
        name=name.strip(),
        index=index,
        hold_ms=reps * rep_ms,
        sides=tuple(pick("sides", [None])),
        sets=pick("sets", 1),
        reps=reps,
        instructions=pick("instructions"),
        release=pick("release"),
        set_rest_ms=to_ms(pick("set_rest", DEFAULT_REST_S["set_rest"])),
        side_rest_ms=to_ms(pick("side_rest", DEFAULT_REST_S["side_rest"])),
        rest_ms=to_ms(pick("rest", DEFAULT_REST_S["rest"])),
        countdown=pick("countdown", 3),
        countdown_style=pick("countdown_style", "ticks"),
        count_reps=False,
        tempo=phases,
        phase_cue=pick("phase_cue", "tone"),
        count_aloud=pick("count", "aloud") == "aloud",
    )


# ---------------------------------------------------------------- error messages

_EXAMPLES = {
    "title": "title: Morning mobility",
    "description": "description: Ten gentle minutes for a stiff knee",
    "intro": "intro: Sit on the floor with your legs straight.",
    "outro": "outro: Well done.",
    "prepare": "prepare: 5s",
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
    "music": "music: music/",
    "music_rest": "music_rest: calm.mp3",
    "music_seed": "music_seed: 7",
    "music_gain_db": "music_gain_db: -14",
    "duck_db": "duck_db: -12",
    "duck_attack": "duck_attack: 80ms",
    "duck_release": "duck_release: 400ms",
    "crossfade": "crossfade: 3s",
}
# Exercise fields that cannot be left blank (``cue:`` with nothing after it just means no cue).
_NEEDS_VALUE = {"name", "hold", "sets", "reps", "rep_rest", "set_rest", "side_rest", "rest", "countdown",
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


def _validate(model: type[BaseModel], data: dict, path: YamlPath, source: SourceMap) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        # The earliest line first; on one line an unknown key before a missing one,
        # since "titel:" makes both and the typo is the real mistake.
        errors = error.errors()
        # A missing key next to an unknown one is most likely the same key, misspelt ("exercise:").
        unknown_in = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "extra_forbidden"}
        errors = [e for e in errors if e["type"] != "missing" or tuple(e["loc"][:-1]) not in unknown_in]
        first = min(errors, key=lambda e: (source.line_of(path + tuple(e["loc"])) or 0,
                                           e["type"] != "extra_forbidden"))
        loc = path + tuple(first["loc"])
        raise _routine_error(first, loc, model, source) from None


def _routine_error(error: Mapping[str, Any], loc: YamlPath, model: type[BaseModel], source: SourceMap) -> RoutineError:
    kind = error["type"]
    value = error.get("input")
    field_name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    example = _EXAMPLES.get(field_name)
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
    if kind == "literal_error" and field_name == "engine":
        return source.error(loc, f"{show_value(value)} is not a speech engine; write `engine: pyttsx3` (espeak-ng, "
                                 "the default) or `engine: piper` (a natural neural voice)")
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


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "plain text"
    return f"a single value ({show_value(value)})"
