"""The voices of every installed engine, for ``voicecoach voices`` and for messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import MissingPartError, RoutineError
from .engines import SpeechSettings, VoiceInfo, engine_names, make_engine

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    pass


def voices_for_language(voices: list[VoiceInfo], language: str | None) -> list[VoiceInfo]:
    """The voices for ``language`` ("en" also finds en-us, en-gb-scotland...); all when None."""
    if not language:
        return voices
    wanted = language.strip().lower()
    return [voice for voice in voices
            if any(code.lower() == wanted or code.lower().startswith(wanted + "-") for code in voice.languages)]


@dataclass(frozen=True)
class EngineVoices:
    """One engine's voices for a language; ``missing`` says how to install an engine that is not there."""

    engine: str
    version: str
    voices: tuple[VoiceInfo, ...] = ()
    missing: str | None = None


def installed_voices(language: str | None = None) -> list[EngineVoices]:
    """The voices of every engine (for ``language`` when given); an engine not installed says how to get it."""
    found = []
    for name in engine_names():
        try:
            engine = make_engine(name)
        except MissingPartError as error:
            found.append(EngineVoices(name, "", missing=error.message))
            continue
        found.append(EngineVoices(name, engine.version, tuple(voices_for_language(engine.voices(), language))))
    if language and not any(engine.voices for engine in found):
        raise RoutineError(f'no voice for language "{language}"; run `voicecoach voices` to see them all',
                           field="{@language}")
    return found


def describe_voice(settings: SpeechSettings) -> str:
    """``pyttsx3 (espeak-ng 1.51), voice gmw/de, 160 wpm``: who speaks a session, for ``voicecoach script``."""
    return f"{settings.engine} ({settings.engine_version}), voice {settings.voice_id}, {settings.rate_wpm} wpm"
