"""Where a program is written: a routine's ``program:`` section, or a program file that names its routine
(``routine: knee.yaml``, found beside the program file)."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from .._errors import RoutineError
from .._routine.examples import bundled_example
from .._routine.load import RoutineFile, is_program_file, routine_file_of
from .._routine.read import read_routine_source
from .._routine.yamlsource import SourceMap
from .model import Program, _show, read_program

EXAMPLE_PROGRAM = "run-walk.yaml"  # the bundled example program (`voicecoach batch --program`)


def open_program(path: Path | None) -> tuple[RoutineFile, Program]:
    """The routine and program ``path`` names: a routine with a ``program:`` section, or a program file; None (or
    a bundled example's bare name, ``run-walk``) is a bundled one."""
    bundled = bundled_example(path or Path(EXAMPLE_PROGRAM))
    where = bundled or path
    assert where is not None
    data, source = read_routine_source(where, bundled.name if bundled else None)
    if is_program_file(data):
        name = data["routine"]
        if not isinstance(name, str) or not name.strip():
            raise source.error(("routine",), "is not a file name; write the routine's file, e.g. "
                                             "`routine: knee.yaml` (found beside this file)")
        name = name.strip()
        routine_path = Path(where).resolve().parent / name
        _check_routine_path(routine_path, Path(where), name, source)
        routine_data, routine_source = read_routine_source(routine_path, display_name=name)
        if is_program_file(routine_data):
            raise source.error(("routine",), f"{_show(name)} is a program file too; name the routine it builds "
                                             "(the file with its title and exercises), e.g. `routine: knee.yaml`")
        routine_file = routine_file_of(routine_data, routine_source, routine_path.resolve().parent)
        if routine_file.data.get("program") is not None:
            raise source.error(("routine",), f"{_show(name)} has a program of its own; build it with its own "
                                             "program, or remove that one")
        return routine_file, read_program(data, source, at=())
    routine_file = routine_file_of(data, source, Path(where).resolve().parent)
    if routine_file.data.get("program") is None:
        raise RoutineError("has no program; add a `program:` section (weeks, days, progression), or give a program "
                           "file that names this routine (`routine: " + Path(where).name + "`)", file=source.file)
    program = read_program(routine_file.data["program"], source)
    return _without_program(routine_file), program


def _check_routine_path(routine_path: Path, program_path: Path, name: str, source: SourceMap) -> None:
    """That the routine a program file names is a file there is, other than the program file itself: else one line
    on the ``routine:`` line."""
    def refuse(what: str) -> RoutineError:
        return source.error(("routine",), f"{_show(name)} {what}; name the routine file by its path from this "
                                          "file's folder, e.g. `routine: knee.yaml`")
    try:
        status = routine_path.stat()
        same = routine_path.samefile(program_path)
    except FileNotFoundError:
        raise refuse("is not a file beside this one") from None
    except (OSError, ValueError) as problem:  # a name too long, a character the system refuses, a loop of links
        reason = problem.strerror if isinstance(problem, OSError) and problem.strerror else \
            "a file name cannot hold a NUL character"
        raise refuse(f"cannot be opened ({reason})") from None
    if stat.S_ISDIR(status.st_mode):
        raise refuse("is a folder, not a routine file")
    if not stat.S_ISREG(status.st_mode):
        raise refuse("is not a regular file (a pipe, a device or a socket)")
    if same:
        raise source.error(("routine",), f"{_show(name)} is this program file itself; name the routine it builds "
                                         "(the file with its title and exercises), e.g. `routine: knee.yaml`")


def _without_program(routine_file: RoutineFile) -> RoutineFile:
    """The routine without its ``program:`` section: each day's session is made from it, and merging a day's values
    into a copy of a long program (its lists of a value a week, and their lines) again for every day was slow."""
    def kept(path: tuple) -> bool:
        return path[:1] != ("program",)

    source = routine_file.source
    return dataclasses.replace(
        routine_file, data={key: value for key, value in routine_file.data.items() if key != "program"},
        source=SourceMap(source.file, {path: line for path, line in source.lines.items() if kept(path)},
                         {path: origin for path, origin in source.origins.items() if kept(path)},
                         {path: text for path, text in source.written.items() if kept(path)}))
