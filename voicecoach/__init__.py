"""voicecoach: turn a routine written in YAML into a narrated, exactly timed MP3 session.

    import voicecoach as vc

    routine = vc.load_routine("knee.yaml", settings={"exercises.heel-slides.hold": "8s"})
    result = vc.build(routine, "output")
    print(result.mp3_path, result.timeline.duration_ms)

This is the whole public surface (``__all__``); every module below it is private.
docs/api.md describes each name, docs/architecture.md the stages behind them.
"""

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. They are imported on first use (PEP 562), so that `import voicecoach` stays
# cheap, and the processes voicecoach starts (the espeak-ng speaker, pool workers) load only what they use.
_HOMES = {
    "._api": ("Chunk", "Script", "Session", "build", "build_catalog", "load_routine", "parse_routine", "render",
              "script"),
    "._audio.timeline": ("Chapter", "Timeline"),
    "._catalog.model": ("BatchResult", "CatalogResult", "SessionOutcome"),
    "._errors": ("ClusterError", "LayoutError", "MissingPartError", "OutputError", "RoutineError", "SpeechError",
                 "VoicecoachError"),
    "._pipeline.build": ("BuildResult",),
    "._routine.model": ("Routine",),
    "._speech.engines": ("Clip", "Engine", "SpeechSettings", "VoiceInfo", "engine_names", "register_engine"),
    "._stores": ("FileInfo", "Staging", "Store", "open_store", "register_store"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:
    from ._api import Chunk, Script, Session, build, build_catalog, load_routine, parse_routine, render, script
    from ._audio.timeline import Chapter, Timeline
    from ._catalog.model import BatchResult, CatalogResult, SessionOutcome
    from ._errors import (
        ClusterError,
        LayoutError,
        MissingPartError,
        OutputError,
        RoutineError,
        SpeechError,
        VoicecoachError,
    )
    from ._pipeline.build import BuildResult
    from ._routine.model import Routine
    from ._speech.engines import Clip, Engine, SpeechSettings, VoiceInfo, engine_names, register_engine
    from ._stores import FileInfo, Staging, Store, open_store, register_store


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module 'voicecoach' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME_OF[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    # load, override, look at
    "load_routine", "parse_routine", "Routine", "script", "Script",
    # build and render
    "build", "BuildResult", "build_catalog", "CatalogResult", "BatchResult", "SessionOutcome",
    "render", "Session", "Chunk",
    # where every sound is
    "Timeline", "Chapter",
    # what goes wrong, in one line each
    "VoicecoachError", "RoutineError", "LayoutError", "OutputError", "MissingPartError", "SpeechError",
    "ClusterError",
    # plug-in points: engines and stores
    "Engine", "Clip", "SpeechSettings", "VoiceInfo", "register_engine", "engine_names",
    "Store", "Staging", "FileInfo", "open_store", "register_store",
    "__version__",
]
