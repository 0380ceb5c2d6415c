"""The default engine: pyttsx3 over espeak-ng.

Every phrase is spoken by a fresh copy of espeak-ng, in a child that the
speaker process (``_espeak_speaker``) forks for it: libespeak-ng carries state
from one utterance to the next (its pitch flutter), so a phrase spoken again in
the same process comes out a few ms longer or shorter. Spoken fresh each time,
the same phrase with the same settings gives the same samples in any process,
on any worker, cold or warm: a build is a function of its inputs. This process
never starts espeak-ng, which also keeps it free to fork and safe from a crash
of espeak-ng on some input (that ends one child and is a ``SpeechError``).

pyttsx3's espeak driver (2.99) has traps that the speaker steps around:

- several ``save_to_file`` calls before one ``runAndWait`` write only the last
  file, so every phrase gets its own ``runAndWait`` (and its own child);
- the engine's ``setProperty`` is only applied inside the next ``runAndWait``,
  so properties are set on the driver and read back;
- a missing folder fails silently and nothing reports a failed synthesis, so
  every WAV is opened and checked, and a phrase whose WAV is empty is spoken again;
- every save prints "Audio saved to ..." on stdout, which goes nowhere;
- an unknown voice name is ignored without error, so voices are validated
  against the engine's own list;
- a process forked after espeak was initialised hangs: the speaker never
  initializes it, only its children do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs

from ..._errors import RoutineError, SpeechError
from ..._parts import ESPEAK_INSTALL_HINT, prepare_espeak
from ..._stores.atomic import write_all
from . import _espeak_speaker
from .base import SILENCE_THRESHOLD, Clip, SpeechSettings, VoiceInfo, VoiceSource

if TYPE_CHECKING:  # the routine's models (pydantic) are not imported where only a voice is spoken
    from ..._routine.model import Voice

SYNTHESIS_ATTEMPTS = 3  # a phrase that comes back empty is spoken again


class Pyttsx3Engine:
    """pyttsx3 over espeak-ng; every phrase spoken by a fresh espeak-ng. Safe to share between threads."""

    name = "pyttsx3"
    label = "espeak-ng"
    processes = True  # espeak-ng speaks on one core

    def __init__(self) -> None:
        prepare_espeak()  # a missing espeak-ng is said here, at once (MissingPartError)
        self._speaker = _Speaker()
        self._about: tuple[str, list[VoiceInfo]] | None = None

    def _described(self) -> tuple[str, list[VoiceInfo]]:
        """espeak-ng's version and voices: asked once of the speaker, then kept on disk for this library, so that
        a build whose phrases are all cached never starts the speaker (a tenth of a second)."""
        if self._about is None:
            kept = _kept_about()
            if kept is not None and kept.is_file():
                try:
                    data = json.loads(kept.read_text(encoding="utf-8"))
                    self._about = str(data["version"]), [VoiceInfo(voice[0], voice[1], tuple(voice[2]), voice[3])
                                                         for voice in data["voices"]]
                except (OSError, ValueError, KeyError, TypeError, IndexError):
                    self._about = None  # damaged: asked again, and kept again
            if self._about is None:
                _, version, voices = self._speaker.ask(("about",), "list its voices")
                self._about = version, [VoiceInfo(*voice) for voice in voices]
                if kept is not None:
                    with contextlib.suppress(OSError):
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        write_all({kept: json.dumps({"version": version, "voices": voices})})
        return self._about

    @property
    def version(self) -> str:
        return self._described()[0]

    def voices(self) -> list[VoiceInfo]:
        return list(self._described()[1])

    def settings_for(self, voice: Voice, language: str, where: VoiceSource) -> SpeechSettings:
        info = resolve_voice(voice, language, self.voices(), where, self.label)
        return SpeechSettings(self.name, self.version, info.id, voice.rate_wpm, voice.volume)

    def synthesize(self, text: str, settings: SpeechSettings) -> Clip:
        """``text`` spoken by a fresh espeak-ng; again if it came back empty."""
        quoted = f'"{text}"' if len(text) <= 80 else f'"{text[:60]}..." ({len(text)} characters)'
        for _ in range(SYNTHESIS_ATTEMPTS):
            _, rate_hz, data = self._speaker.ask(("speak", text, settings.voice_id, settings.rate_wpm,
                                                  settings.volume), f"speak {quoted}")
            samples = np.frombuffer(data, dtype="<i2")
            if len(samples) >= rate_hz * 0.05 and np.any(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD):
                return Clip(data, rate_hz)
        raise SpeechError(f"espeak-ng produced no audible speech for {quoted}; "
                          "check that espeak-ng works (`espeak-ng hello`)")


def _kept_about() -> Path | None:
    """Where espeak-ng's answer about itself is kept: named by the library file in use (its path, size and
    time) and its data folder, so another espeak-ng is asked anew. None where the library cannot be found."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    library = next((line.split()[-1] for line in maps.splitlines() if "libespeak-ng" in line and "/" in line), None)
    if library is None:
        return None
    try:
        status = os.stat(library)
    except OSError:
        return None
    identity = f"{library}|{status.st_size}|{status.st_mtime_ns}|{os.environ.get('ESPEAK_DATA_PATH', '')}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return Path(platformdirs.user_cache_dir("voicecoach")) / "engines" / f"espeak-ng-{key}.json"


class _Speaker:
    """The speaker process of one engine, asked one thing at a time (a lock keeps threads in turn).

    It is started lazily and again if it ended; it ends when this object goes (its stdin closes), and with it
    any phrase it is speaking, so no process outlives a build.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def ask(self, request: tuple, doing: str) -> tuple:
        with self._lock:
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                _espeak_speaker.send(process.stdin, request)
                reply = _espeak_speaker.receive(process.stdout)
            except OSError:  # it ended (a broken pipe)
                reply = None
            except BaseException:  # Ctrl-C while it speaks: its answer would come to the next question
                self._stop()
                raise
            if reply is None:
                self._stop()
                raise SpeechError(f"espeak-ng stopped before it could {doing}; {ESPEAK_INSTALL_HINT}")
        if reply[0] != "ok":
            raise SpeechError(f"espeak-ng could not {doing}: {reply[1]}")
        return reply

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            # Its own session: a Ctrl-C in the terminal is ours to handle; we then close its stdin.
            self._process = subprocess.Popen([sys.executable, "-m", _espeak_speaker.__name__],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
            weakref.finalize(self, _end, self._process)
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            _end(self._process)
            self._process = None


def _end(process: subprocess.Popen) -> None:
    """Close the speaker's stdin (it then ends, stopping a phrase under way) and wait for it."""
    for stream in (process.stdin, process.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
