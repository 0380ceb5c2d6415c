"""Variants and settings merged over a routine's YAML data, the source map kept true, before validation (so a bad
value inside a variant is reported by the same checks, on its own line)."""

from __future__ import annotations

import copy
from typing import Any

from .._errors import RoutineError
from .durations import show_value
from .messages import choices
from .settings import Setting
from .yamlsource import Path as YamlPath
from .yamlsource import SourceMap, format_path


def check_variant_name(name: str, variant_names: tuple[str, ...], file: str, flag: str = "{@variant}") -> None:
    """That the routine has a variant ``name``; else one line with the closest name and the others."""
    if name not in variant_names:
        raise RoutineError(f'there is no variant "{name}"; {choices(name, variant_names, "variants")}',
                           file=file, field=flag)


class Merger:
    """Merges overrides into a copy of a routine file's data and keeps its source map true.

    ``exercise_ids`` maps each exercise's id to its place in the list (the base routine's).
    """

    def __init__(self, data: dict[str, Any], source: SourceMap, exercise_ids: dict[str, int]) -> None:
        self.file_source = source
        self.exercise_ids = exercise_ids
        self.data: dict[str, Any] = copy.deepcopy(data)
        self.lines = dict(source.lines)
        self.origins = dict(source.origins)
        self.written = dict(source.written)
        # An id is the slug of the name unless written; pin it, so that a variant that renames
        # an exercise keeps its id (the timeline and later overrides still find it).
        for exercise_id, index in exercise_ids.items():
            self.data["exercises"][index].setdefault("id", exercise_id)

    def source(self) -> SourceMap:
        return SourceMap(self.file_source.file, self.lines, self.origins, self.written)

    def error(self, origin: YamlPath, line: int | None, message: str) -> RoutineError:
        return RoutineError(message, file=self.file_source.file, line=line, field=format_path(origin))

    # -- variants: written in the file, so every value has a line

    def apply_variant(self, name: str) -> None:
        check_variant_name(name, tuple(self.data.get("variants") or ()), self.file_source.file)
        origin = ("variants", name)
        overrides = self.data["variants"][name]
        if "variants" in overrides:
            raise self.file_source.error(origin + ("variants",), "a variant cannot hold variants; "
                                                                  "write each variant at the top of `variants:`")
        if "program" in overrides:
            raise self.file_source.error(origin + ("program",), "a variant cannot hold a program; write the "
                                                                 "program once at the top, and build a variant of "
                                                                 "it with {@variant} NAME")
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
        source = self.file_source
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
        ids = self.exercise_ids
        if exercise_id not in ids:
            raise self.error(origin, line,
                             f'no exercise has the id "{exercise_id}"; {choices(exercise_id, list(ids), "ids")}')
        return ids[exercise_id]

    # -- settings: from the command line, so no value has a line

    def apply_setting(self, setting: Setting) -> None:
        parts = setting.parts
        flag_origin: YamlPath = (setting.origin,)
        if parts[0] == "variants":
            raise RoutineError("variants cannot be set from the command line; use {@variant} NAME",
                               file=self.file_source.file, field=setting.origin)
        if parts[0] == "program":
            raise RoutineError("the program cannot be set from the command line; change it in the file",
                               file=self.file_source.file, field=setting.origin)
        if parts[0] == "exercises":
            if len(parts) < 3:
                raise RoutineError(f"name an exercise and a field, e.g. `exercises.{next(iter(self.exercise_ids))}"
                                   f".hold=15s`", file=self.file_source.file, field=setting.origin)
            index = self.exercise_index(parts[1], flag_origin, None)
            if parts[2] == "id":
                raise RoutineError("an exercise's id cannot be changed by {@set}", file=self.file_source.file,
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
            following = path[depth + 1]
            if not (isinstance(child, list) and isinstance(following, int) and 0 <= following < len(child)
                    or isinstance(child, dict) and not isinstance(following, int)):
                # The base has a plain value, nothing, or a collection of the other kind where the override goes
                # deeper: make a mapping, so that validation reports the real problem at the right path.
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
            for known, line in self.file_source.lines.items():
                if known[: len(origin)] == origin:
                    self.lines[path + known[len(origin):]] = line
            for known, text in self.file_source.written.items():
                if known[: len(origin)] == origin:
                    self.written[path + known[len(origin):]] = text
        else:
            self.lines[path] = None
        self.origins[path] = origin
