"""Where a program is written: a routine's ``program:`` section, or a program file that names its routine
(``routine: knee.yaml``, found beside the program file)."""

from __future__ import annotations

from pathlib import Path

from .._errors import RoutineError
from .._routine.examples import bundled_example
from .._routine.load import RoutineFile, load_routine_file, routine_file_of
from .._routine.read import read_routine_source
from .model import Program, read_program

EXAMPLE_PROGRAM = "run-walk.yaml"  # the bundled example program (`voicecoach batch --program`)


def open_program(path: Path | None) -> tuple[RoutineFile, Program]:
    """The routine and program ``path`` names: a routine with a ``program:`` section, or a program file; None (or
    a bundled example's bare name, ``run-walk``) is a bundled one."""
    bundled = bundled_example(path or Path(EXAMPLE_PROGRAM))
    where = bundled or path
    assert where is not None
    data, source = read_routine_source(where, bundled.name if bundled else None)
    if isinstance(data, dict) and "routine" in data and "exercises" not in data:
        name = data["routine"]
        if not isinstance(name, str) or not name.strip():
            raise source.error(("routine",), "is not a file name; write the routine's file, e.g. "
                                             "`routine: knee.yaml` (found beside this file)")
        routine_path = Path(where).resolve().parent / name.strip()
        if not routine_path.is_file():
            raise source.error(("routine",), f'"{name.strip()}" is not a file beside this one; name the routine '
                                             "file by its path from this file's folder, e.g. `routine: knee.yaml`")
        routine_file = load_routine_file(routine_path, display_name=name.strip())
        if routine_file.data.get("program") is not None:
            raise source.error(("routine",), f"{name} has a program of its own; build it with its own program, "
                                             "or remove that one")
        return routine_file, read_program(data, source, at=())
    routine_file = routine_file_of(data, source, Path(where).resolve().parent)
    if routine_file.data.get("program") is None:
        raise RoutineError("has no program; add a `program:` section (weeks, days, progression), or give a program "
                           "file that names this routine (`routine: " + Path(where).name + "`)", file=source.file)
    return routine_file, read_program(routine_file.data["program"], source)
