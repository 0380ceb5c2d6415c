"""Stage 3: speech. Each distinct phrase is synthesized once, cached on disk, reused forever.

pyttsx3's espeak driver (2.99) has traps that this module steps around:

- several ``save_to_file`` calls before one ``runAndWait`` write only the last
  file, so every phrase gets its own ``runAndWait``;
- a property change between phrases is lost while espeak is still busy, and
  ``runAndWait`` can return on a late end-of-message of the phrase before
  (an empty WAV, about 1 phrase in 300 here), so we ``espeak_Synchronize``
  before setting properties and after each phrase, read the properties back,
  and speak a phrase again if its WAV is empty or unreadable;
- a missing folder fails silently and nothing reports a failed synthesis, so
  every WAV is opened and checked for a plausible length;
- every save prints "Audio saved to ..." on stdout, which we swallow;
- an unknown voice name is ignored without error, so voices are validated
  against the engine's own list;
- two threads segfault, so the engine stays on the thread that made it;
- a process forked after espeak was initialised hangs (use spawn for pools).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import signal
import threading
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from .errors import RoutineError, SpeechError
from .files import PendingFile
from .parts import prepare_espeak
from .routine import Voice

CACHE_FORMAT = 3  # 3: clips are peak-limited when synthesized
SYNTHESIS_ATTEMPTS = 3           # a phrase that comes back empty or unreadable is spoken again
SILENCE_THRESHOLD = 200          # of 32767: below this a sample counts as silence when trimming
KEEP_BEFORE_S = 0.005            # kept before the first audible sample
PEAK_CEILING = 10 ** (-6 / 20)   # speech peaks are limited to -6 dBFS when synthesized
KEEP_AFTER_S = 0.020             # kept after the last one, so word endings are not clipped


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
    """Everything that changes how a phrase sounds; part of its cache key."""

    engine: str
    engine_version: str
    voice_id: str
    rate_wpm: int
    volume: float


@dataclass(frozen=True)
class Clip:
    """Mono 16-bit speech, trimmed of the silence the engine adds around it."""

    samples: bytes
    sample_rate_hz: int

    @property
    def frames(self) -> int:
        return len(self.samples) // 2

    @property
    def length_ms(self) -> int:
        return math.ceil(self.frames * 1000 / self.sample_rate_hz)


def default_cache_dir() -> Path:
    return Path(os.environ.get("VOICECOACH_CACHE_DIR") or platformdirs.user_cache_dir("voicecoach"))


class Pyttsx3Engine:
    """pyttsx3 over espeak-ng, used from one thread only."""

    name = "pyttsx3"

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
        with _interrupts_deferred(), contextlib.redirect_stdout(io.StringIO()):
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

    def synthesize(self, text: str, settings: SpeechSettings, wav_path: Path) -> None:
        """Speak ``text`` into ``wav_path`` (which must be in an existing folder)."""
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
        with _interrupts_deferred(), contextlib.redirect_stdout(io.StringIO()):
            self._finished.clear()
            self._engine.save_to_file(text, str(wav_path))
            self._engine.runAndWait()
            self._finished.wait(timeout=10)
            self._espeak.Synchronize()


def voices_for_language(voices: list[VoiceInfo], language: str | None) -> list[VoiceInfo]:
    """The voices for ``language`` ("en" also finds en-us, en-gb-scotland...); all when None."""
    if not language:
        return voices
    wanted = language.strip().lower()
    found = [voice for voice in voices
             if any(code.lower() == wanted or code.lower().startswith(wanted + "-") for code in voice.languages)]
    if not found:
        raise RoutineError(f'no voice for language "{language}"; run `voicecoach voices` to see them all',
                           field="--language")
    return found


@contextlib.contextmanager
def _interrupts_deferred():
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
                  where: VoiceSource = (None, None, "voice.name")) -> VoiceInfo:
    """Find the voice a routine asks for: an engine voice id, a voice name, or a language code."""
    wanted = (voice.name or language).strip().lower()
    for match in (
        lambda v: v.id.lower() == wanted,
        lambda v: v.name.lower() == wanted,
        lambda v: wanted in (code.lower() for code in v.languages),
        lambda v: v.id.lower().rsplit("/", 1)[-1] == wanted,
    ):
        found = [v for v in voices if match(v)]
        if found:
            return found[0]
    prefixes = (wanted.split("-")[0], language)
    similar = sorted({code for v in voices for code in v.languages if code.lower().startswith(prefixes)})
    suggestion = ", ".join(similar[:8]) if similar else ", ".join(sorted({v.languages[0] for v in voices
                                                                          if v.languages})[:12]) + ", ..."
    file, line, field = where
    raise RoutineError(f'"{voice.name or language}" is not a voice of espeak-ng; try one of {suggestion} '
                       "(all: `voicecoach voices`)", file=file, line=line, field=field)


CLIP_MAGIC = b"VCCLIP2\n"


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    entries: int
    size_bytes: int
    voices: int
    damaged: int
    leftovers: int
    old_format: int = 0  # entries an earlier voicecoach wrote; unused now


@dataclass(frozen=True)
class Cleared:
    root: Path
    entries: int
    size_bytes: int


class PhraseCache:
    """One file per (engine, version, voice, rate, volume, text): the trimmed clip, checked when read.

    An entry is a line ``VCCLIP2``, a JSON line (what was said, how, and the
    samples' count and SHA-256), then the samples. It is written as an unnamed
    file and linked in only when complete, so a reader sees a whole entry or
    none, and two builds may share the folder: the first entry linked in wins.
    A truncated or altered entry is noticed when read, thrown away and made
    again, and ``notices`` says so.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()
        self.notices: list[str] = []

    @property
    def entries_dir(self) -> Path:
        return self.root / f"clips-v{CACHE_FORMAT}"

    def key(self, settings: SpeechSettings, text: str) -> str:
        identity = json.dumps({"format": CACHE_FORMAT, **_settings_dict(settings), "text": text},
                              sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(identity.encode()).hexdigest()

    def path_for(self, settings: SpeechSettings, text: str) -> Path:
        key = self.key(settings, text)
        return self.entries_dir / key[:2] / f"{key}.clip"

    def load(self, settings: SpeechSettings, text: str) -> Clip | None:
        return self.load_entry(self.path_for(settings, text))

    def load_entry(self, path: Path) -> Clip | None:
        """The clip stored at ``path``; None when there is none or it is damaged (then it is removed)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise SpeechError(f"the speech cache cannot be read ({error.strerror}); choose another with "
                              "--cache-dir, or run `voicecoach cache clear`", file=str(path)) from None
        try:
            return decode_entry(data)[1]
        except ValueError as problem:
            with contextlib.suppress(OSError):
                path.unlink()
            self.notices.append(f"a damaged speech cache entry ({problem}) was thrown away and made again")
            return None

    def take_notices(self) -> tuple[str, ...]:
        notices, self.notices = tuple(self.notices), []
        return notices

    def make(self, settings: SpeechSettings, text: str, engine: Pyttsx3Engine) -> Clip:
        path = self.path_for(settings, text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SpeechError(f"the speech cache {self.root} cannot be written ({error.strerror}); "
                              "choose another with --cache-dir", file=None) from None
        with PendingFile(path.with_suffix(".wav")) as wav:  # espeak's raw output; never given a name
            for attempt in range(1, SYNTHESIS_ATTEMPTS + 1):
                engine.synthesize(text, settings, wav.path)
                try:
                    clip = read_clip(wav.path, text)
                    break
                except (wave.Error, EOFError, SpeechError) as error:
                    if attempt == SYNTHESIS_ATTEMPTS:
                        if isinstance(error, SpeechError):
                            raise
                        raise SpeechError(f'espeak-ng wrote an unreadable WAV for "{text}"; '
                                          "check that espeak-ng works (`espeak-ng hello`)") from None
        return self._publish(path, settings, text, clip)

    def _publish(self, path: Path, settings: SpeechSettings, text: str, clip: Clip) -> Clip:
        """Put a fresh entry in place unless another build got there first; then use theirs.

        espeak-ng is not bit-for-bit repeatable (the same phrase comes out a few ms
        longer or shorter), so two builds sharing the cache must agree on one entry:
        the first one linked in wins, and nobody ever replaces an entry in use.
        """
        for _ in range(3):
            entry = PendingFile(path)
            try:
                with open(entry.path, "wb") as handle:
                    handle.write(encode_entry(settings, text, clip))
                if entry.publish_if_absent():
                    return clip
            except FileNotFoundError:  # `voicecoach cache clear` removed the folder meanwhile
                entry.discard()
                path.parent.mkdir(parents=True, exist_ok=True)
                continue
            except OSError as error:
                entry.discard()
                raise SpeechError(f"the speech cache {self.root} cannot be written ({error.strerror}); "
                                  "choose another with --cache-dir", file=None) from None
            existing = self.load_entry(path)
            if existing is not None:
                return existing
        return clip  # the cache keeps losing it; use the fresh clip and let a later build store it

    def info(self) -> CacheInfo:
        """What the cache holds, every entry checked."""
        entries = size = damaged = leftovers = old_format = 0
        voices = set()
        for path in self._files():
            if path.name.endswith(".part"):
                leftovers += 1
                continue
            if self.entries_dir not in path.parents:
                old_format += 1
                continue
            entries += 1
            size += path.stat().st_size
            try:
                header, _ = decode_entry(path.read_bytes())
                voices.add((header["engine"], header["voice"], header["rate"], header["volume"]))
            except (ValueError, KeyError, OSError):
                damaged += 1
        return CacheInfo(self.root, entries, size, len(voices), damaged, leftovers, old_format)

    def clear(self) -> Cleared:
        """Remove every entry (of this and older formats) and any leftover; says how many entries and bytes."""
        files = self._files()
        cleared = Cleared(self.root, sum(not path.name.endswith(".part") for path in files),
                          sum(path.stat().st_size for path in files))
        for folder in self._entry_dirs():
            shutil.rmtree(folder, ignore_errors=True)
        return cleared

    def _entry_dirs(self) -> list[Path]:
        # this format's folder and those of older ones ("phrases" was format 1)
        return [self.root / "phrases", *sorted(self.root.glob("clips-v*"))]

    def _files(self) -> list[Path]:
        return [path for folder in self._entry_dirs() for path in folder.rglob("*") if path.is_file()]


def _settings_dict(settings: SpeechSettings) -> dict:
    return {"engine": settings.engine, "engine_version": settings.engine_version, "voice": settings.voice_id,
            "rate": settings.rate_wpm, "volume": round(settings.volume, 4)}


def encode_entry(settings: SpeechSettings, text: str, clip: Clip) -> bytes:
    header = {**_settings_dict(settings), "text": text, "sample_rate_hz": clip.sample_rate_hz,
              "samples": clip.frames, "sha256": hashlib.sha256(clip.samples).hexdigest()}
    return CLIP_MAGIC + json.dumps(header, ensure_ascii=False).encode() + b"\n" + clip.samples


def decode_entry(data: bytes) -> tuple[dict, Clip]:
    """The header and clip of a cache entry; ValueError says what is wrong with a damaged one."""
    if not data.startswith(CLIP_MAGIC):
        raise ValueError("not a voicecoach clip")
    header_line, newline, samples = data[len(CLIP_MAGIC):].partition(b"\n")
    try:
        header = json.loads(header_line) if newline else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("samples"), int):
        raise ValueError("unreadable header")
    if len(samples) != 2 * header["samples"]:
        raise ValueError(f"{len(samples) // 2} of {header['samples']} samples")
    if hashlib.sha256(samples).hexdigest() != header.get("sha256"):
        raise ValueError("checksum mismatch")
    return header, Clip(samples, int(header["sample_rate_hz"]))


def read_clip(path: Path, text: str | None = None) -> Clip:
    """Read a cached or fresh WAV, check it is plausible speech, and trim its silence."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise SpeechError(f"{path} is not mono 16-bit audio")
        rate_hz = wav.getframerate()
        data = wav.readframes(wav.getnframes())
    samples = np.frombuffer(data, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if len(samples) < rate_hz * 0.05 or loud.size == 0:
        what = f'"{text}"' if text is not None else path.name
        raise SpeechError(f"espeak-ng produced no audible speech for {what}; "
                          "check that espeak-ng works (`espeak-ng hello`)")
    if text is not None:
        words = max(1, len(text.split()))
        if len(samples) > rate_hz * (2 + words * 2):
            raise SpeechError(f'espeak-ng produced {len(samples) / rate_hz:.1f} s of audio for "{text}"; '
                              "that is implausibly long")
    first = max(0, loud[0] - int(KEEP_BEFORE_S * rate_hz))
    last = min(len(samples), loud[-1] + 1 + int(KEEP_AFTER_S * rate_hz))
    return Clip(limit_peaks(samples[first:last], rate_hz).tobytes(), rate_hz)


def limit_peaks(samples: np.ndarray, rate_hz: int, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Turn down the rare speech peaks above ``ceiling`` (of full scale), smoothly, inside the clip only.

    espeak-ng's speech peaks some 19 dB above its loudness; a session brought to
    the spoken-word norm would then peak over -1 dBTP. Limiting each phrase once,
    when it is synthesized (and so cached limited), leaves the mix a single gain
    away from the norm, and never touches a tone: tone onsets stay exact.
    The gain is the needed reduction's minimum over a 2 ms window, then averaged
    over the same window, so it is never above what a sample needs and has no clicks.
    """
    level = samples.astype(np.float64) / 32768
    magnitude = np.abs(level)
    if magnitude.max(initial=0.0) <= ceiling:
        return samples
    window = max(3, int(0.002 * rate_hz) | 1)
    need = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-9))
    padded = np.pad(need, window // 2, mode="edge")
    smallest = np.lib.stride_tricks.sliding_window_view(padded, window).min(axis=1)
    smooth = np.convolve(np.pad(smallest, window // 2, mode="edge"), np.ones(window) / window, mode="valid")
    return np.rint(level * smooth * 32768).clip(-32768, 32767).astype("<i2")


class SpeechService:
    """The engine (made only when a phrase is missing from the cache) plus the cache."""

    def __init__(self, cache: PhraseCache, engine_factory: Callable[[], Pyttsx3Engine] = Pyttsx3Engine) -> None:
        self.cache = cache
        self._engine_factory = engine_factory
        self._engine: Pyttsx3Engine | None = None

    @property
    def engine(self) -> Pyttsx3Engine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def settings_for(self, voice: Voice, language: str,
                     where: VoiceSource = (None, None, "voice.name")) -> SpeechSettings:
        """The engine settings for ``voice``; ``where`` (file, line, field) locates an unknown voice."""
        info = resolve_voice(voice, language, self.engine.voices(), where)
        return SpeechSettings(self.engine.name, self.engine.version, info.id, voice.rate_wpm, voice.volume)

    def clips(self, texts: Iterable[str], settings: SpeechSettings,
              on_progress: Callable[[int, int], None] | None = None,
              on_clip: Callable[[str, Clip], None] | None = None) -> dict[str, Clip]:
        """Every phrase's clip, from the cache or freshly synthesized into it, in the order given.

        ``on_clip(text, clip)`` hears of each clip as soon as it exists.
        """
        texts = list(dict.fromkeys(texts))
        found: dict[str, Clip] = {}
        for done, text in enumerate(texts, start=1):
            clip = self.cache.load(settings, text)
            found[text] = clip if clip is not None else self.cache.make(settings, text, self.engine)
            if on_clip:
                on_clip(text, found[text])
            if on_progress:
                on_progress(done, len(texts))
        return found
