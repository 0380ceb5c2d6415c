"""Stage 1, continued: variants and command-line overrides merged over a routine (docs/routine-format.md,
section 8).

A variant is a partial routine: mappings merge key by key, scalars and lists
replace, and its ``exercises`` is a mapping from exercise id to the fields that
change. ``--set PATH=VALUE`` is the same merge for one dotted path. The merge
happens on the raw YAML data, before validation, so a bad value inside a
variant is reported by the same checks as the base file, and the source map
remembers where each merged value was written (``variants.quick.hold`` on its
line, or the ``--set`` flag) so the error names that place.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .cover import MAX_COVER_BYTES, image_mime
from .durations import show_value
from .errors import RoutineError
from .phrases import SUPPORTED_LANGUAGES, phrases_for
from .routine import Routine, read_routine_source, resolve_routine
from .slug import slugify
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap, format_path

BASE = "base"  # the routine without a variant, in `batch --variant base`


@dataclass(frozen=True)
class Setting:
    """One ``--set PATH=VALUE``: a dotted path and its value, parsed as YAML."""

    path: str
    value: Any
    text: str
    flag: str = "{@set}"

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def origin(self) -> str:
        """How the setting is named in an error: ``--set voice.rate``, or a flag that is short for one."""
        return self.flag if self.flag in SHORT_FLAGS else f"{self.flag} {self.path}"


def parse_setting(text: str, flag: str = "{@set}") -> Setting:
    """``"voice.rate=140"`` -> Setting("voice.rate", 140)."""
    path, equals, value_text = text.partition("=")
    path = path.strip()
    if not equals or not path or not value_text.strip():
        raise RoutineError(f'"{text}" is not PATH=VALUE; write e.g. `{flag} exercises.ankle-circles.hold=15s` '
                           f"or `{flag} voice.rate=140`", field=flag)
    if any(not part for part in path.split(".")):
        raise RoutineError(f'"{path}" is not a dotted path; write e.g. `defaults.rest=30s`', field=flag)
    return Setting(path, _yaml_value(value_text, f"{flag} {path}"), value_text.strip(), flag)


def parse_matrix(text: str) -> tuple[Setting, ...]:
    """``"voice.rate=140,180"`` -> one Setting per value (commas inside [..] or {..} do not split)."""
    path, equals, values_text = text.partition("=")
    if not equals or not path.strip() or not values_text.strip():
        raise RoutineError(f'"{text}" is not PATH=V1,V2,...; write e.g. '
                           "`{@matrix} exercises.calf-raises.hold=6s,10s`", field="{@matrix}")
    values = _split_values(values_text)
    if any(not value.strip() for value in values):
        raise RoutineError(f'"{text}" has an empty value; separate values with single commas', field="{@matrix}")
    return tuple(parse_setting(f"{path.strip()}={value}", flag="{@matrix}") for value in values)


def time_scale_setting(factor: float) -> Setting:
    return Setting("time_scale", factor, f"{factor:g}", flag="{@time_scale}")


def engine_setting(name: str) -> Setting:
    """``--engine piper``: short for ``--set voice.engine=piper``."""
    return Setting("voice.engine", name, name, flag="{@engine}")


def music_settings(music: Path | None, no_music: bool) -> tuple[Setting, ...]:
    """``--music PATH`` (a path from where the command runs, not from the routine) or ``--no-music``."""
    if music is not None and no_music:
        raise RoutineError("give either a music file or folder, or no music, not both", field="{@no_music}")
    if no_music:
        return (Setting("music", None, "none", flag="{@no_music}"), Setting("music_rest", None, "none",
                                                                             flag="{@no_music}"))
    if music is not None:  # instead of all the routine's music, the rests' too
        return (Setting("music", str(music.resolve()), music.stem or music.name, flag="{@music}"),
                Setting("music_rest", None, "none", flag="{@music}"))
    return ()


SHORT_FLAGS = ("{@time_scale}", "{@engine}", "{@music}", "{@no_music}")  # flags that each set one field


def _split_values(text: str) -> list[str]:
    values, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    values.append(current)
    return values


def _yaml_value(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "is not a valid value"
        raise RoutineError(f'"{text}" cannot be read: {problem}; quote text, e.g. "\'Rest now\'"',
                           field=origin) from None


def labels_for(settings: Sequence[Setting]) -> tuple[str, ...]:
    """Readable name parts: ``rate 140``, ``hold 6s``; more of the path where two settings share a key.

    A language is named in itself (``Deutsch``), so a session's title is in its own language.
    """
    last_keys = [setting.parts[-1] for setting in settings]
    labels = []
    for setting, key in zip(settings, last_keys):
        if setting.flag == "{@music}" and setting.path == "music_rest":
            continue  # --music names itself once ("music calm")
        if setting.flag == "{@no_music}":
            if "no music" not in labels:
                labels.append("no music")
            continue
        code = setting.value.strip().lower() if isinstance(setting.value, str) else None
        if setting.parts == ("language",) and code in SUPPORTED_LANGUAGES:
            labels.append(phrases_for(code).name)
            continue
        words = setting.parts[-2:] if last_keys.count(key) > 1 and len(setting.parts) > 1 else setting.parts[-1:]
        labels.append(" ".join(word.replace("_", " ") for word in words) + f" {setting.text}")
    return tuple(labels)


# ---------------------------------------------------------------- the routine file


@dataclass(frozen=True)
class RoutineFile:
    """A routine file as written: its base routine, plus everything needed to make its variants."""

    data: dict[str, Any]
    source: SourceMap
    base: Routine
    folder: Path = Path(".")  # where the routine file is: a relative `cover:` is found there

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(self.data.get("variants") or ())

    @property
    def exercise_ids(self) -> dict[str, int]:
        return {exercise.id: exercise.index for exercise in self.base.exercises}

    def session(self, variant: str | None = None, settings: Sequence[Setting] = (),
                name_parts: Sequence[str] | None = None) -> Routine:
        """The routine with ``variant`` and then each setting merged over it, validated and resolved.

        ``name_parts`` defaults to the variant's name and one label per setting.
        """
        if variant is None and not settings:
            return self.base
        merger = _Merger(self)
        if variant is not None:
            merger.apply_variant(variant)
        for setting in settings:
            merger.apply_setting(setting)
        routine = with_files_found(resolve_routine(merger.data, merger.source()), self.folder)
        if name_parts is None:
            name_parts = ((variant,) if variant else ()) + labels_for(settings)
        return _with_name_parts(routine, tuple(name_parts))

    def check_variant_name(self, name: str, flag: str = "{@variant}") -> None:
        if name not in self.variant_names:
            raise RoutineError(f'there is no variant "{name}"; {_choices(name, self.variant_names, "variants")}',
                               file=self.source.file, field=flag)


def _with_name_parts(routine: Routine, name_parts: tuple[str, ...]) -> Routine:
    return dataclasses.replace(routine, name_parts=name_parts)


def load_routine_file(path: str | Path, display_name: str | None = None, check_variants: bool = True) -> RoutineFile:
    """Read the routine at ``path``, validate its base and every variant (a file with a broken variant is
    refused whichever session is built, as ``validate`` refuses it; ``check_variants=False`` leaves each
    variant to be checked when it is made)."""
    data, source = read_routine_source(path, display_name)
    folder = Path(path).resolve().parent
    base = with_files_found(resolve_routine(data, source), folder)
    seen: dict[str, str] = {}
    for name in data.get("variants") or ():
        where = ("variants", name)
        if name.strip().lower() == BASE:
            raise source.error(where, f'"{name}" names the routine without a variant; give the variant another name')
        slug = slugify(name, fallback="")
        if not slug:
            raise source.error(where, f'"{name}" cannot be part of a file name; use letters or digits, e.g. quick')
        if slug in seen:
            raise source.error(where, f'"{name}" and "{seen[slug]}" make the same file name; rename one')
        seen[slug] = name
    routine_file = RoutineFile(data, source, base, folder)
    if check_variants:
        for name in routine_file.variant_names:
            routine_file.session(name)
    return routine_file


def with_files_found(routine: Routine, folder: Path) -> Routine:
    """The routine with the files it names (``cover:``, ``voice.model``) found next to the routine file and
    checked to be usable."""
    return _with_music(_with_cover(_with_model(routine, folder), folder), folder)


def _with_music(routine: Routine, folder: Path) -> Routine:
    """``music:`` and ``music_rest:`` found next to the routine file: a file, or a folder's files shuffled by
    ``music_seed`` (the same order on every build). Whether each file is audio is found when it is first
    measured (``music.measure_tracks``), before anything is written."""
    music = routine.music
    if music is None:
        return routine
    bed, bed_tracks = _music_files(routine, ("music",), music.bed, folder, music.seed)
    rest, rest_tracks = _music_files(routine, ("music_rest",), music.rest, folder, music.seed) \
        if music.rest is not None else (None, ())
    return dataclasses.replace(routine, music=dataclasses.replace(
        music, bed=bed, rest=rest, bed_tracks=bed_tracks, rest_tracks=rest_tracks))


def _music_files(routine: Routine, field: YamlPath, written: Path, folder: Path,
                 seed: int) -> tuple[Path, tuple[Path, ...]]:
    path = written if written.is_absolute() else folder / written
    if path.is_dir():
        try:
            files = sorted(entry for entry in path.iterdir() if entry.is_file() and not entry.name.startswith("."))
        except OSError as error:
            raise routine.source.error(field, f'the folder "{written}" cannot be read ({error.strerror}); check its '
                                              "permissions") from None
        if not files:
            raise routine.source.error(field, f'the folder "{written}" has no files; put music files in it (mp3, '
                                              "m4a, ogg, flac or wav), or give the path of one file")
        random.Random(seed).shuffle(files)
        return path, tuple(files)
    if not path.is_file():
        where = "" if written.is_absolute() else ", relative to the routine file"
        raise routine.source.error(field, f'"{written}" cannot be read (there is no such file or folder); give the '
                                          f"path of a music file or folder{where}")
    return path, (path,)


def _with_model(routine: Routine, folder: Path) -> Routine:
    """A piper voice file, relative to the routine file: there, a model, with its config beside it."""
    if routine.voice.model is None:
        return routine
    from .engines.piper_engine import check_model_file

    written = str(routine.voice.model)
    path = routine.voice.model if routine.voice.model.is_absolute() else folder / routine.voice.model
    problem = check_model_file(path)
    if problem is not None:
        raise routine.source.error(("voice", "model"), f'"{written}" cannot be used ({problem}); give the path of a '
                                                       "piper voice (.onnx, with its .onnx.json), relative to the "
                                                       "routine file")
    return dataclasses.replace(routine, voice=dataclasses.replace(routine.voice, model=path))


def _with_cover(routine: Routine, folder: Path) -> Routine:
    """The routine with its ``cover:`` found next to the routine file and checked to be a usable image."""
    if routine.cover is None:
        return routine
    written = str(routine.cover)
    path = routine.cover if routine.cover.is_absolute() else folder / routine.cover
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
        size = path.stat().st_size
    except OSError as error:
        reason = "there is no such file" if isinstance(error, FileNotFoundError) else error.strerror
        raise routine.source.error(("cover",), f'"{written}" cannot be read ({reason}); give the path of a PNG or '
                                               "JPEG image, relative to the routine file") from None
    if image_mime(head) is None:
        raise routine.source.error(("cover",), f'"{written}" is not a PNG or JPEG image; phones show only those, '
                                               "so save it as .png or .jpg")
    if size > MAX_COVER_BYTES:
        raise routine.source.error(("cover",), f'"{written}" is {size / 1e6:.1f} MB; a cover is at most '
                                               f"{MAX_COVER_BYTES // 1_000_000} MB (3000 x 3000 px is plenty)")
    return dataclasses.replace(routine, cover=path)


def _choices(name: str, known: Sequence[str], what: str) -> str:
    if not known:
        return f"the routine has no {what}"
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listed = ", ".join(known)
    return f'did you mean "{guess[0]}"? ({what}: {listed})' if guess else f"{what}: {listed}"


class _Merger:
    """Merges overrides into a copy of the file's data and keeps its source map true."""

    def __init__(self, routine_file: RoutineFile) -> None:
        self.file = routine_file
        self.data: dict[str, Any] = copy.deepcopy(routine_file.data)
        self.lines = dict(routine_file.source.lines)
        self.origins = dict(routine_file.source.origins)
        self.written = dict(routine_file.source.written)
        # An id is the slug of the name unless written; pin it, so that a variant that renames
        # an exercise keeps its id (the timeline and later overrides still find it).
        for exercise in routine_file.base.exercises:
            self.data["exercises"][exercise.index].setdefault("id", exercise.id)

    def source(self) -> SourceMap:
        return SourceMap(self.file.source.file, self.lines, self.origins, self.written)

    def error(self, origin: YamlPath, line: int | None, message: str) -> RoutineError:
        return RoutineError(message, file=self.file.source.file, line=line, field=format_path(origin))

    # -- variants: written in the file, so every value has a line

    def apply_variant(self, name: str) -> None:
        self.file.check_variant_name(name)
        origin = ("variants", name)
        overrides = self.data["variants"][name]
        if "variants" in overrides:
            raise self.file.source.error(origin + ("variants",), "a variant cannot hold variants; "
                                                                  "write each variant at the top of `variants:`")
        self.merge_mapping((), overrides, origin)

    def merge_mapping(self, path: YamlPath, overrides: dict[str, Any], origin: YamlPath) -> None:
        for key, value in overrides.items():
            if path == () and key == "exercises":
                self.merge_exercises(value, origin + (key,))
                continue
            current = self.value_at(path + (key,))
            if isinstance(current, dict) and isinstance(value, dict):
                self.merge_mapping(path + (key,), value, origin + (key,))
            else:
                self.replace(path + (key,), value, origin + (key,), from_file=True)

    def merge_exercises(self, overrides: Any, origin: YamlPath) -> None:
        source = self.file.source
        if not isinstance(overrides, dict):
            raise source.error(origin, "in a variant, exercises is a mapping from exercise id to the fields that "
                                       "change, e.g. `ankle-circles: {hold: 15s}`")
        for exercise_id, fields in overrides.items():
            where = origin + (exercise_id,)
            index = self.exercise_index(str(exercise_id), where, source.line_of(where))
            if not isinstance(fields, dict):
                what = "has no value" if fields is None else f"{show_value(fields)} should be a mapping"
                raise source.error(where, f"{what}; write the fields that change, e.g. `{exercise_id}: {{hold: 15s}}`")
            if "id" in fields:
                raise source.error(where + ("id",), "an exercise's id cannot change in a variant; it is how the "
                                                    "variant finds the exercise")
            self.merge_mapping(("exercises", index), fields, where)

    def exercise_index(self, exercise_id: str, origin: YamlPath, line: int | None) -> int:
        ids = self.file.exercise_ids
        if exercise_id not in ids:
            raise self.error(origin, line,
                             f'no exercise has the id "{exercise_id}"; {_choices(exercise_id, list(ids), "ids")}')
        return ids[exercise_id]

    # -- settings: from the command line, so no value has a line

    def apply_setting(self, setting: Setting) -> None:
        parts = setting.parts
        flag_origin: YamlPath = (setting.origin,)
        if parts[0] == "variants":
            raise RoutineError("variants cannot be set from the command line; use {@variant} NAME",
                               file=self.file.source.file, field=setting.origin)
        if parts[0] == "exercises":
            if len(parts) < 3:
                raise RoutineError(f"name an exercise and a field, e.g. `exercises.{next(iter(self.file.exercise_ids))}"
                                   f".hold=15s`", file=self.file.source.file, field=setting.origin)
            index = self.exercise_index(parts[1], flag_origin, None)
            if parts[2] == "id":
                raise RoutineError("an exercise's id cannot be changed by {@set}", file=self.file.source.file,
                                   field=setting.origin)
            path: YamlPath = ("exercises", index, *parts[2:])
        else:
            path = parts
        current = self.value_at(path)
        if isinstance(current, dict) and isinstance(setting.value, dict):
            for key, value in setting.value.items():
                self.replace(path + (key,), value, (f"{setting.origin}.{key}",), from_file=False)
        else:
            self.replace(path, setting.value, flag_origin, from_file=False)

    # -- the data and its lines

    def value_at(self, path: YamlPath) -> Any:
        node: Any = self.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def replace(self, path: YamlPath, value: Any, origin: YamlPath, from_file: bool) -> None:
        parent: Any = self.data
        for depth, part in enumerate(path[:-1]):
            child = parent[part] if isinstance(parent, list) and isinstance(part, int) else parent.get(part)
            if not isinstance(child, (dict, list)):
                # The base has a plain value (or nothing) where the override goes deeper: make a mapping
                # so that validation reports the real problem at the right path.
                child = {}
                parent[part] = child
                self.lines[path[: depth + 1]] = None if not from_file else self.lines.get(path[: depth + 1])
            parent = child
        parent[path[-1]] = copy.deepcopy(value)
        for known in [known for known in self.lines if known[: len(path)] == path]:
            del self.lines[known]
        for known in [known for known in self.written if known[: len(path)] == path]:
            del self.written[known]
        if from_file:
            for known, line in self.file.source.lines.items():
                if known[: len(origin)] == origin:
                    self.lines[path + known[len(origin):]] = line
            for known, text in self.file.source.written.items():
                if known[: len(origin)] == origin:
                    self.written[path + known[len(origin):]] = text
        else:
            self.lines[path] = None
        self.origins[path] = origin
