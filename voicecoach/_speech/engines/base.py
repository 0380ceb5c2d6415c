"""What every engine speaks in: settings in, a ``Clip`` out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the routine's models (pydantic) are not imported where only a voice is spoken, and the
    # espeak-ng speaker, which imports this package, starts without numpy
    from ..._loudness import SoundStats
    from ..._routine.model import Voice

SILENCE_THRESHOLD = 200  # of 32767: below this a sample counts as silence (an empty WAV, the trim around speech)

# Where a voice was asked for, to locate an error about it: (file, line, field).
VoiceSource = tuple[str | None, int | None, str]


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None = None


@dataclass(frozen=True)
class SpeechSettings:
    """Everything that changes how a phrase sounds; what the cache key is made of.

    ``voice_sha256`` is the identity of a voice that is a model file (the file's
    SHA-256); ``model_path`` is where that file is, which is not part of the key,
    so a moved or copied model keeps its cache.
    """

    engine: str
    engine_version: str
    voice_id: str
    rate_wpm: int
    volume: float
    voice_sha256: str | None = None
    model_path: str | None = None


@dataclass(frozen=True)
class Clip:
    """Mono 16-bit speech in memory; ``stats``: its BS.1770 statistics at full level, once it is finished."""

    samples: bytes
    sample_rate_hz: int
    stats: SoundStats | None = field(default=None, compare=False, repr=False)

    @property
    def frames(self) -> int:
        return len(self.samples) // 2

    @property
    def length_ms(self) -> int:
        return math.ceil(self.frames * 1000 / self.sample_rate_hz)


class Engine(Protocol):
    """A speech engine. ``name`` is what ``voice.engine`` says; ``label`` names it in messages.

    ``processes`` says whether a pool of processes, one engine each, synthesizes
    faster than one: true for an engine that speaks on one core (espeak-ng),
    false for one that already uses every core (piper's ONNX runtime).
    """

    name: str
    label: str
    processes: bool

    @property
    def version(self) -> str:
        """What the cache key names: the engine and its version (``espeak-ng 1.51``)."""
        ...

    def voices(self) -> list[VoiceInfo]:
        """Every voice this engine has here."""
        ...

    def settings_for(self, voice: Voice, language: str, where: VoiceSource) -> SpeechSettings:
        """The settings that speak as ``voice`` in ``language``; a RoutineError located at ``where`` if none can."""
        ...

    def synthesize(self, text: str, settings: SpeechSettings) -> Clip:
        """``text`` spoken; silence around it is fine (it is trimmed), an empty clip is not."""
        ...
