"""Which sessions a catalog builds: the routine files it names, and each routine's variants times its matrix."""

from __future__ import annotations

import glob as globlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import RoutineError
from .._routine.load import BASE, RoutineFile
from .._routine.model import ProgramDay, Routine
from .._routine.settings import Setting, labels_for


@dataclass(frozen=True)
class SessionSpec:
    """One session of a batch: a variant (None for the base routine) and the settings over it; in a program, also
    the day it is and the values the program made for it (``made``: applied first, and not in its name)."""

    variant: str | None
    settings: tuple[Setting, ...] = ()
    made: tuple[Setting, ...] = ()
    day: ProgramDay | None = None

    @property
    def name_parts(self) -> tuple[str, ...]:
        return ((self.variant,) if self.variant else ()) + labels_for(self.settings)

    @property
    def overrides(self) -> dict[str, Any]:
        return {setting.path: setting.value for setting in self.settings}

    def routine(self, routine_file: RoutineFile) -> Routine:
        """This session's routine: the variant, the program's values, then the settings, validated."""
        return routine_file.session(self.variant, self.made + self.settings, self.name_parts, self.day)


def batch_specs(routine_file: RoutineFile, variants: Sequence[str] = (), all_variants: bool = False,
                settings: Sequence[Setting] = (), matrix: Sequence[Sequence[Setting]] = ()) -> tuple[SessionSpec, ...]:
    """Every session a batch builds: each chosen variant times each point of the matrix.

    ``variants`` may name ``base`` for the routine without a variant; ``all_variants``
    means the base and every variant. ``matrix`` holds one group of settings per
    path; their cross product is built. ``settings`` apply to every session first.
    """
    chosen: list[str | None]
    if all_variants:
        chosen = [None, *routine_file.variant_names]
    elif variants:
        chosen = []
        for name in variants:
            if name != BASE:
                routine_file.check_variant_name(name)
            chosen.append(None if name == BASE else name)
    else:
        chosen = [None]
    paths = [group[0].path for group in matrix if group]
    for path in paths:
        if paths.count(path) > 1:
            raise RoutineError(f"{path} is given twice; put all its values in one {{@matrix}} {path}=V1,V2,...",
                               file=routine_file.source.file, field="{@matrix}")
    specs = [SessionSpec(variant, tuple(settings) + point)
             for variant in dict.fromkeys(chosen)
             for point in itertools.product(*(tuple(group) for group in matrix))]
    return tuple(dict.fromkeys(specs))


def find_routines(paths: Sequence[Path]) -> list[Path]:
    """The routine files a catalog names: files as they are, every ``*.yaml`` below a folder (not hidden ones),
    and the files a glob matches (``routines/*.yaml``), each once, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(entry for entry in path.rglob("*.yaml")
                            if not any(part.startswith(".") for part in entry.relative_to(path).parts))
        elif not path.exists() and any(char in str(path) for char in "*?["):
            matches = sorted(Path(match) for match in globlib.glob(str(path), recursive=True))
            if not matches:
                raise RoutineError("matches no routine file; check the pattern", file=str(path))
            found += matches
        else:
            found.append(path)
    return list(dict.fromkeys(found))
