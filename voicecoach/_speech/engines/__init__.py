"""Speech engines, and the registry that finds them: voicecoach's plug-in point for voices.

An engine lists its voices, says its version, finds the voice a routine asks
for, and turns (text, settings) into a ``Clip`` in memory, in the spirit of
piper's ``synthesize()``. Everything else (trimming, peak limiting, the cache,
the timing) is the same for every engine and lives in ``voicecoach._speech``.

Engines are looked up by ``voice.engine``: ``pyttsx3`` (espeak-ng, the default)
and ``piper`` (the ``neural`` extra) are built in; a program adds one with
``register_engine(name, factory)``, and a separately installed package adds one
through the entry-point group ``voicecoach.engines`` (name: the engine's name,
value: its factory, usually the engine's class). A factory may also have
``check_voice_file(path) -> str | None``: then a routine's ``voice.model`` is a
voice file of that engine, checked when the routine is loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from ..._errors import MissingPartError, RoutineError
from .base import Clip, Engine, SpeechSettings, VoiceInfo, VoiceSource

__all__ = ["Clip", "Engine", "SpeechSettings", "VoiceInfo", "VoiceSource", "EngineFactory", "engine_names",
           "make_engine", "register_engine", "check_voice_file", "describe_engines", "portable", "is_engine",
           "NEURAL_INSTALL",
           "DEFAULT_ENGINE"]

NEURAL_INSTALL = "pip install 'voicecoach[neural]'"
DEFAULT_ENGINE = "pyttsx3"
ENTRY_POINTS = "voicecoach.engines"

EngineFactory = Callable[[], Engine]


class _BuiltIn:
    """An engine of voicecoach's own, imported only when it is made (piper's runtime is heavy)."""

    def __init__(self, module: str, cls: str, description: str, voice_files: tuple[str, str] | None = None) -> None:
        """``voice_files``: (the module's function that checks one, what a voice file of this engine is)."""
        self.module, self.cls, self.description, self.voice_files = module, cls, description, voice_files

    def __call__(self) -> Engine:
        return getattr(importlib.import_module(self.module, __name__), self.cls)()

    def check_voice_file(self, path: Path) -> str | None:
        assert self.voice_files is not None
        return getattr(importlib.import_module(self.module, __name__), self.voice_files[0])(path)

    @property
    def voice_file_kind(self) -> str | None:
        return self.voice_files[1] if self.voice_files else None


_factories: dict[str, EngineFactory] = {
    "pyttsx3": _BuiltIn(".pyttsx3_engine", "Pyttsx3Engine", "espeak-ng, the default"),
    "piper": _BuiltIn(".piper_engine", "PiperEngine", "a natural neural voice",
                      voice_files=("check_model_file", "a piper voice (.onnx, with its .onnx.json)")),
}
_plugins_loaded = False


def register_engine(name: str, factory: EngineFactory | None) -> EngineFactory | None:
    """Make ``voice.engine: name`` speak through ``factory()`` (a class, or any callable that makes an engine);
    None takes ``name`` away. Returns the factory it replaced, if any, so that it can be put back."""
    previous = _factory(name)
    if factory is None:
        _factories.pop(name, None)
    else:
        _factories[name] = factory
    return previous


def _factory(name: str) -> EngineFactory | None:
    """The factory of engine ``name``. Installed packages are looked through only for a name not known yet:
    reading every package's entry points takes a fifth of a second where many are installed."""
    if name not in _factories:
        _load_plugins()
    return _factories.get(name)


def _load_plugins() -> None:
    """The engines installed packages offer (entry points ``voicecoach.engines``), once; a program's own
    ``register_engine`` wins over them, and they never replace a built-in engine."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINTS):
        if entry.name not in _factories:
            _factories[entry.name] = _Plugin(entry)


class _Plugin:
    """An engine from an installed package, loaded when it is first made or asked about."""

    def __init__(self, entry: metadata.EntryPoint) -> None:
        self.entry = entry

    def _loaded(self) -> EngineFactory:
        try:
            return self.entry.load()
        except Exception as error:  # noqa: BLE001 - any import error of somebody else's package
            raise MissingPartError(f'the speech engine "{self.entry.name}" ({self.entry.value}) cannot be loaded '
                                   f"({type(error).__name__}: {error}); reinstall the package that provides it") \
                from None

    def __call__(self) -> Engine:
        return self._loaded()()

    @property
    def check_voice_file(self) -> Callable[[Path], str | None] | None:
        return getattr(self._loaded(), "check_voice_file", None)

    @property
    def voice_file_kind(self) -> str | None:
        return getattr(self._loaded(), "voice_file_kind", None)


def portable(name: str) -> bool:
    """Whether another process makes the same engine by its name: a built-in engine or an installed package's,
    but not one a program registered for itself (that one speaks in the program's own process)."""
    return isinstance(_factory(name), (_BuiltIn, _Plugin))


def is_engine(name: str) -> bool:
    return _factory(name) is not None


def engine_names() -> tuple[str, ...]:
    """Every engine a routine may name: the built-in ones first, then those registered or installed."""
    _load_plugins()
    return tuple(_factories)


def describe_engines(written_as: str = "engine: ") -> str:
    """``engine: pyttsx3`` (espeak-ng, the default), ``engine: piper`` (...) or ``engine: NAME``: for messages.
    ``written_as`` is how a choice is written where the mistake was (a flag: ``"{@engine} "``)."""
    _load_plugins()
    parts = [f"`{written_as}{name}`" + (f" ({factory.description})" if isinstance(factory, _BuiltIn) else "")
             for name, factory in _factories.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def make_engine(name: str) -> Engine:
    """A new engine by its ``voice.engine`` name; raises MissingPartError when its extra is not installed."""
    factory = _factory(name)
    if factory is None:
        raise RoutineError(f'"{name}" is not a speech engine; use one of {", ".join(_factories)}',
                           field="voice.engine")
    return factory()


def voice_file_kind(engine: str) -> str | None:
    """What a voice file of ``engine`` is ("a piper voice (.onnx, ...)"), or None when it takes none: an engine
    takes voice files when its factory has ``check_voice_file`` (and may say what they are, ``voice_file_kind``)."""
    factory = _factory(engine)
    if isinstance(factory, _BuiltIn):
        return factory.voice_file_kind
    if getattr(factory, "check_voice_file", None) is None:
        return None
    return getattr(factory, "voice_file_kind", None) or f"a voice file of {engine}"


def check_voice_file(engine: str, path: Path) -> str | None:
    """What is wrong with ``path`` as a voice file of ``engine`` (which takes them), in words; None when it
    looks usable."""
    factory = _factory(engine)
    assert factory is not None, engine
    return factory.check_voice_file(path)  # type: ignore[attr-defined]


def engine_missing(name: str) -> MissingPartError:
    return MissingPartError(f"the {name} voice needs the neural extra; install it with `{NEURAL_INSTALL}`")
