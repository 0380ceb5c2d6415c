"""The default engine: pyttsx3 over espeak-ng.

pyttsx3's espeak driver (2.99) has traps that this module steps around, all in here:

- several ``save_to_file`` calls before one ``runAndWait`` write only the last
  file, so every phrase gets its own ``runAndWait``;
- a property change between phrases is lost while espeak is still busy, and
  ``runAndWait`` can return on a late end-of-message of the phrase before
  (an empty WAV, about 1 phrase in 300 here), so we ``espeak_Synchronize``
  before setting properties and after each phrase, read the properties back,
  and speak a phrase again if its WAV is empty or unreadable;
- a missing folder fails silently and nothing reports a failed synthesis, so
  every WAV is opened and checked;
- every save prints "Audio saved to ..." on stdout, which we swallow;
- an unknown voice name is ignored without error, so voices are validated
  against the engine's own list;
- two threads segfault, so the engine stays on the thread that made it;
- a process forked after espeak was initialised hangs (use spawn for pools).
"""

from __future__ import annotations

import contextlib
import io
import signal
import tempfile
import threading
import wave
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import RoutineError, SpeechError
from ..files import PendingFile
from ..parts import prepare_espeak
from .base import SILENCE_THRESHOLD, Clip, SpeechSettings, VoiceInfo, VoiceSource

if TYPE_CHECKING:  # the routine's models (pydantic) are not imported where only a voice is spoken
    from ..routine import Voice

SYNTHESIS_ATTEMPTS = 3  # a phrase that comes back empty or unreadable is spoken again


class Pyttsx3Engine:
    """pyttsx3 over espeak-ng, used from one thread only."""

    name = "pyttsx3"
    label = "espeak-ng"
    processes = True  # espeak-ng speaks on one core

    def __init__(self) -> None:
        prepare_espeak()
        import pyttsx3
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver

        self._espeak = _espeak
        # Properties are set on the driver directly: the engine's own setProperty is
        # queued and only applied inside the next runAndWait, where it can be lost.
        self._driver = EspeakDriver
        # espeak-ng starts its own thread here; it inherits the signal mask, so with SIGINT
        # blocked now Ctrl-C only ever reaches our thread, never espeak's mid-phrase.
        with interrupts_deferred(), contextlib.redirect_stdout(io.StringIO()):
            self._engine = pyttsx3.init("espeak")
        self._finished = threading.Event()
        self._engine.connect("finished-utterance", lambda name, completed: self._finished.set())
        self._thread = threading.get_ident()
        try:
            self.version = "espeak-ng " + (_espeak.Info(None) or b"?").decode()
        except Exception:  # noqa: BLE001 - the version only feeds the cache key
            self.version = "espeak-ng"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(voice.id, voice.name, tuple(voice.languages or ()), voice.gender)
                for voice in self._engine.getProperty("voices")]

    def settings_for(self, voice: Voice, language: str, where: VoiceSource) -> SpeechSettings:
        info = resolve_voice(voice, language, self.voices(), where, self.label)
        return SpeechSettings(self.name, self.version, info.id, voice.rate_wpm, voice.volume)

    def synthesize(self, text: str, settings: SpeechSettings) -> Clip:
        """Speak ``text`` into an unnamed scratch WAV and read it back; again if it came back empty."""
        with PendingFile(Path(tempfile.gettempdir()) / "voicecoach-phrase.wav") as wav:
            for attempt in range(1, SYNTHESIS_ATTEMPTS + 1):
                self._speak_into(text, settings, wav.path)
                try:
                    return _read_wav(wav.path)
                except (wave.Error, EOFError, SpeechError) as error:
                    if attempt == SYNTHESIS_ATTEMPTS:
                        if isinstance(error, SpeechError):
                            raise SpeechError(f'espeak-ng produced no audible speech for "{text}"; '
                                              "check that espeak-ng works (`espeak-ng hello`)") from None
                        raise SpeechError(f'espeak-ng wrote an unreadable WAV for "{text}"; '
                                          "check that espeak-ng works (`espeak-ng hello`)") from None
        raise AssertionError("unreachable")

    def _speak_into(self, text: str, settings: SpeechSettings, wav_path: Path) -> None:
        if threading.get_ident() != self._thread:
            raise RuntimeError("the espeak engine must stay on the thread that created it")
        # espeak runs in its own thread and pyttsx3 only polls it. Measured here:
        # about 1 phrase in 300 came back empty (runAndWait returned on a late "message
        # terminated" of the phrase before), and right after setProperty the old rate
        # still reads back 9 times in 10. Synchronize() returns once espeak has worked
        # through everything queued, so it comes before and after setting the
        # properties (then they read back true) and again after the phrase.
        wanted = (settings.voice_id, settings.rate_wpm)
        for _ in range(2):
            self._espeak.Synchronize()
            for name, value in (("voice", settings.voice_id), ("rate", settings.rate_wpm),
                                ("volume", settings.volume)):
                self._driver.setProperty(name, value)
            self._espeak.Synchronize()
            taken = (self._driver.getProperty("voice"), self._driver.getProperty("rate"))
            if taken == wanted:
                break
        else:
            raise SpeechError(f'espeak-ng did not take voice "{settings.voice_id}" at {settings.rate_wpm} '
                              f'wpm (it has "{taken[0]}" at {taken[1]} wpm)')
        with interrupts_deferred(), contextlib.redirect_stdout(io.StringIO()):
            self._finished.clear()
            self._engine.save_to_file(text, str(wav_path))
            self._engine.runAndWait()
            self._finished.wait(timeout=10)
            self._espeak.Synchronize()


def _read_wav(path: Path) -> Clip:
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise SpeechError(f"{path} is not mono 16-bit audio")
        rate_hz = wav.getframerate()
        data = wav.readframes(wav.getnframes())
    samples = np.frombuffer(data, dtype="<i2")
    if len(samples) < rate_hz * 0.05 or not np.any(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD):
        raise SpeechError("empty")
    return Clip(data, rate_hz)


@contextlib.contextmanager
def interrupts_deferred():
    """Hold Ctrl-C until the phrase is done; it is raised as KeyboardInterrupt right after.

    Interrupting pyttsx3's loop mid-phrase leaves espeak finishing that phrase
    on its own thread, which later writes a WAV nobody waits for. SIGINT is
    blocked (not merely handled) while espeak works; unblocking delivers it.
    """
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def resolve_voice(voice: Voice, language: str, voices: list[VoiceInfo],
                  where: VoiceSource = (None, None, "voice.name"), engine_label: str = "espeak-ng") -> VoiceInfo:
    """Find the voice a routine asks for: an engine voice id, a voice name, or a language code."""
    wanted = (voice.name or language).strip().lower()
    for match in (
        lambda v: v.id.lower() == wanted,
        lambda v: v.name.lower() == wanted,
        lambda v: wanted in (code.lower() for code in v.languages),
        lambda v: v.id.lower().rsplit("/", 1)[-1] == wanted,
        lambda v: any(code.lower().startswith(wanted + "-") for code in v.languages),
    ):
        found = [v for v in voices if match(v)]
        if found:
            return found[0]
    prefixes = (wanted.split("-")[0], language)
    similar = sorted({code for v in voices for code in v.languages if code.lower().startswith(prefixes)})
    suggestion = ", ".join(similar[:8]) if similar else ", ".join(sorted({v.languages[0] for v in voices
                                                                          if v.languages})[:12]) + ", ..."
    file, line, field = where
    raise RoutineError(f'"{voice.name or language}" is not a voice of {engine_label}; try one of {suggestion} '
                       "(all: `voicecoach voices`)", file=file, line=line, field=field)
