"""The bundled example routines and the starter template, and how a routine argument names one."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .load import RoutineFile, load_routine_file

EXAMPLE_NAME = "feet-for-a-happy-back.yaml"


def example_routine_path() -> Path:
    """The bundled example, shipped inside the package so it works after ``pip install``."""
    return Path(str(resources.files("voicecoach").joinpath("examples", EXAMPLE_NAME)))


def starter_text() -> str:
    """The commented starter routine that ``voicecoach init`` writes."""
    return resources.files("voicecoach").joinpath("templates", "starter.yaml").read_text(encoding="utf-8")


def open_routine(path: Path | None) -> RoutineFile:
    """The routine file at ``path``, or the bundled example when None.

    A bare name that is not a file here but names a bundled example (``legs-with-a-beat``) is that example.
    """
    if path is None:
        return load_routine_file(example_routine_path(), display_name=EXAMPLE_NAME)
    bundled = bundled_example(path)
    if bundled is not None:
        return load_routine_file(bundled, display_name=bundled.name)
    return load_routine_file(path)


def bundled_example(path: Path) -> Path | None:
    """The bundled example ``path`` names, when it is a bare name and no such file exists here."""
    if path.exists() or len(path.parts) != 1:
        return None
    name = path.name if path.suffix == ".yaml" else f"{path.name}.yaml"
    found = Path(str(resources.files("voicecoach").joinpath("examples", name)))
    return found if found.is_file() else None
