"""The one loader: a routine file (or text) read, validated with every variant, and the files it names found."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .attachments import with_files_found
from .merge import Merger, check_variant_name
from .model import ProgramDay, Routine
from .read import read_routine_source
from .resolve import resolve_routine
from .settings import Setting, labels_for
from .slug import slugify
from .yamlsource import SourceMap, load_yaml_text

BASE = "base"  # the routine without a variant, in `batch --variant base`


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
                name_parts: Sequence[str] | None = None, day: ProgramDay | None = None) -> Routine:
        """The routine with ``variant`` and then each setting merged over it, validated and resolved.

        ``name_parts`` defaults to the variant's name and one label per setting; ``day`` makes it a program's
        session (its title is the week and day).
        """
        if variant is None and not settings:
            return dataclasses.replace(self.base, day=day) if day else self.base
        merger = Merger(self.data, self.source, self.exercise_ids)
        if variant is not None:
            merger.apply_variant(variant)
        for setting in settings:
            merger.apply_setting(setting)
        routine = with_files_found(resolve_routine(merger.data, merger.source(), self.base.language), self.folder)
        if name_parts is None:
            name_parts = ((variant,) if variant else ()) + labels_for(settings)
        return dataclasses.replace(_with_name_parts(routine, tuple(name_parts)), day=day)

    def check_variant_name(self, name: str, flag: str = "{@variant}") -> None:
        check_variant_name(name, self.variant_names, self.source.file, flag)


def _with_name_parts(routine: Routine, name_parts: tuple[str, ...]) -> Routine:
    return dataclasses.replace(routine, name_parts=name_parts)


def load_routine_file(path: str | Path, display_name: str | None = None, check_variants: bool = True) -> RoutineFile:
    """Read the routine at ``path``, validate its base and every variant (a file with a broken variant is
    refused whichever session is built, as ``validate`` refuses it; ``check_variants=False`` leaves each
    variant to be checked when it is made). The files it names are found beside it."""
    data, source = read_routine_source(path, display_name)
    return routine_file_of(data, source, Path(path).resolve().parent, check_variants)


def load_routine_text(text: str, display_name: str = "<routine>", folder: Path = Path(".")) -> RoutineFile:
    """A routine from YAML text, as the one loader reads a file: the files it names are found in ``folder``."""
    data, source = load_yaml_text(text, display_name)
    return routine_file_of(data, source, folder.resolve())


def is_program_file(data: Any) -> bool:
    """A program file names its routine (``routine: knee.yaml``) and has no exercises of its own."""
    return isinstance(data, dict) and "routine" in data and "exercises" not in data


def routine_file_of(data: Any, source: SourceMap, folder: Path, check_variants: bool = True) -> RoutineFile:
    if is_program_file(data):
        raise source.error(("routine",), "this is a program file (it names its routine, and has no exercises of "
                                         "its own); build its days with `voicecoach batch {@program} FILE`, or "
                                         "build the routine it names")
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
