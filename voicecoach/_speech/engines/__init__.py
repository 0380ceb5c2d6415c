"""Speech engines: the one plug-in point of voicecoach.

An engine lists its voices, says its version, finds the voice a routine asks
for, and turns (text, settings) into a ``Clip`` in memory, in the spirit of
piper's ``synthesize()``. Everything else (trimming, peak limiting, the cache,
the timing) is the same for every engine and lives in ``voicecoach.speech``.

Engines are looked up by ``voice.engine``; ``pyttsx3`` (espeak-ng) is the
default. ``piper`` needs the ``neural`` extra; without it, asking for it is a
``MissingPartError`` (exit code 3) naming the install command.
"""

from __future__ import annotations

from collections.abc import Callable

from ..._errors import MissingPartError, RoutineError
from .base import Clip, Engine, SpeechSettings, VoiceInfo, VoiceSource

__all__ = ["Clip", "Engine", "SpeechSettings", "VoiceInfo", "VoiceSource", "ENGINE_NAMES", "make_engine",
           "NEURAL_INSTALL"]

NEURAL_INSTALL = "pip install 'voicecoach[neural]'"
DEFAULT_ENGINE = "pyttsx3"


def _pyttsx3() -> Engine:
    from .pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine()


def _piper() -> Engine:
    from .piper_engine import PiperEngine

    return PiperEngine()


_FACTORIES: dict[str, Callable[[], Engine]] = {"pyttsx3": _pyttsx3, "piper": _piper}
ENGINE_NAMES = tuple(_FACTORIES)


def make_engine(name: str) -> Engine:
    """A new engine by its ``voice.engine`` name; raises MissingPartError when its extra is not installed."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise RoutineError(f'"{name}" is not a speech engine; use one of {", ".join(ENGINE_NAMES)}',
                           field="voice.engine")
    return factory()


def engine_missing(name: str) -> MissingPartError:
    return MissingPartError(f"the {name} voice needs the neural extra; install it with `{NEURAL_INSTALL}`")
