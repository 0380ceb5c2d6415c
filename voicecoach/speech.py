"""Stage 3: speech. Each distinct phrase is synthesized once, cached on disk, reused forever.

The engines (espeak-ng through pyttsx3, piper) live in ``voicecoach.engines``
and each turns text into a ``Clip``; here every clip is trimmed of the silence
around it and peak-limited the same way, whatever spoke it, and kept in the
cache under a key naming the engine, its version, the voice (a model file's
SHA-256), the rate, the volume and the words as spoken.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs

from .engines.base import SILENCE_THRESHOLD
from .engines import DEFAULT_ENGINE, ENGINE_NAMES, Clip, Engine, SpeechSettings, VoiceInfo, VoiceSource, make_engine
from .errors import MissingPartError, RoutineError, SpeechError
from .files import PendingFile
from .loudness import SoundStats, sound_stats
from .store import RemoteStore

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    from .routine import Voice

__all__ = ["Clip", "SpeechSettings", "VoiceInfo", "VoiceSource", "PhraseCache", "SpeechService", "finish_clip",
           "voices_for_language", "installed_voices", "describe_voice", "EngineVoices", "default_cache_dir"]

CACHE_FORMAT = 4  # 3: clips are peak-limited when synthesized; 4: entries carry their BS.1770 statistics
KEEP_BEFORE_S = 0.005            # kept before the first audible sample
PEAK_CEILING = 10 ** (-6 / 20)   # speech peaks are limited to -6 dBFS when synthesized
KEEP_AFTER_S = 0.020             # kept after the last one, so word endings are not clipped


def default_cache_dir() -> Path:
    return Path(os.environ.get("VOICECOACH_CACHE_DIR") or platformdirs.user_cache_dir("voicecoach"))


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
    for name in ENGINE_NAMES:
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


CLIP_MAGIC = b"VCCLIP4\n"


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

    With ``url`` (``s3://bucket/prefix``, the cluster extra) the entries live
    in that shared store instead, created by conditional PUTs: the first
    stored wins there too (see ``voicecoach.store``). ``root`` then only keeps
    what the client measures for itself (music).
    """

    def __init__(self, root: Path | None = None, url: str | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()
        self.url = url
        self.remote = RemoteStore(url, "cache_dir") if url else None
        self.notices: list[str] = []

    @property
    def entries_dir(self) -> Path:
        return self.root / f"clips-v{CACHE_FORMAT}"

    def key(self, settings: SpeechSettings, text: str) -> str:
        identity = json.dumps({"format": CACHE_FORMAT, **_settings_dict(settings), "text": text},
                              sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(identity.encode()).hexdigest()

    def relative_for(self, settings: SpeechSettings, text: str) -> str:
        """Where an entry is below the cache's top, in a folder or a store: ``clips-v4/ab/abcd....clip``."""
        key = self.key(settings, text)
        return f"{self.entries_dir.name}/{key[:2]}/{key}.clip"

    def path_for(self, settings: SpeechSettings, text: str) -> Path:
        return self.root / self.relative_for(settings, text)

    def has(self, settings: SpeechSettings, text: str) -> bool:
        """Whether an entry is there (not whether it is whole: ``load`` checks that)."""
        if self.remote is not None:
            return self.remote.exists(self.relative_for(settings, text))
        return self.path_for(settings, text).is_file()

    def load(self, settings: SpeechSettings, text: str) -> Clip | None:
        if self.remote is not None:
            return self._load_remote(self.relative_for(settings, text))
        return self.load_entry(self.path_for(settings, text))

    def _load_remote(self, relative: str) -> Clip | None:
        remote = self.remote
        assert remote is not None
        data = remote.read_bytes(relative)
        return None if data is None else self._decoded(data, lambda: remote.remove(relative))

    def load_entry(self, path: Path) -> Clip | None:
        """The clip stored at ``path``; None when there is none or it is damaged (then it is removed)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise SpeechError(f"the speech cache cannot be read ({error.strerror}); choose another with "
                              "{@cache_dir}, or run `voicecoach cache clear`", file=str(path)) from None
        def discard() -> None:
            with contextlib.suppress(OSError):
                path.unlink()

        return self._decoded(data, discard)

    def _decoded(self, data: bytes, discard: Callable[[], object]) -> Clip | None:
        """An entry's clip; a damaged one is discarded (so it is made again), noted, and None."""
        try:
            return decode_entry(data)[1]
        except ValueError as problem:
            discard()
            self.notices.append(f"a damaged speech cache entry ({problem}) was thrown away and made again")
            return None

    def take_notices(self) -> tuple[str, ...]:
        notices, self.notices = tuple(self.notices), []
        return notices

    def make(self, settings: SpeechSettings, text: str, engine: Engine) -> Clip:
        """Synthesize ``text`` with ``engine``, trim and limit it, and store it (unless another build did first)."""
        path = self.path_for(settings, text)
        if self.remote is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise SpeechError(f"the speech cache {self.root} cannot be written ({error.strerror}); "
                                  "choose another with {@cache_dir}", file=None) from None
        clip = finish_clip(engine.synthesize(text, settings), text, engine.label)
        return self._publish(path, settings, text, clip)

    def _publish(self, path: Path, settings: SpeechSettings, text: str, clip: Clip) -> Clip:
        """Put a fresh entry in place unless another build got there first; then use theirs.

        espeak-ng gives the same samples for the same phrase every time (each is
        spoken by a fresh espeak-ng), but piper does not (it samples its prosody
        anew each time), so two builds sharing the cache must agree on one entry:
        the first one linked in (or, in a store, created by a conditional PUT) wins,
        and nobody ever replaces an entry in use.
        """
        if self.remote is not None:
            relative = self.relative_for(settings, text)
            if self.remote.create(relative, encode_entry(settings, text, clip)):
                return clip
            return self._load_remote(relative) or clip  # another worker stored it first: use theirs
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
                                  "choose another with {@cache_dir}", file=None) from None
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
    identity = {"engine": settings.engine, "engine_version": settings.engine_version, "voice": settings.voice_id,
                "rate": settings.rate_wpm, "volume": round(settings.volume, 4)}
    if settings.voice_sha256 is not None:  # a voice that is a model file is known by its contents
        identity["voice_sha256"] = settings.voice_sha256
    return identity


def encode_entry(settings: SpeechSettings, text: str, clip: Clip) -> bytes:
    """An entry: the magic line, a JSON header line, then the clip's loudness statistics and its samples."""
    stats = clip.stats if clip.stats is not None else clip_stats(clip.samples, clip.sample_rate_hz)
    body = stats.cumulative_energy.astype("<f8").tobytes() + clip.samples
    header = {**_settings_dict(settings), "text": text, "sample_rate_hz": clip.sample_rate_hz,
              "samples": clip.frames, "stats": {"energy": len(stats.cumulative_energy), "frames": stats.frames,
                                                "true_peak": stats.true_peak},
              "sha256": hashlib.sha256(body).hexdigest()}
    return CLIP_MAGIC + json.dumps(header, ensure_ascii=False).encode() + b"\n" + body


def decode_entry(data: bytes) -> tuple[dict, Clip]:
    """The header and clip of a cache entry; ValueError says what is wrong with a damaged one."""
    if not data.startswith(CLIP_MAGIC):
        raise ValueError("not a voicecoach clip")
    header_line, newline, body = data[len(CLIP_MAGIC):].partition(b"\n")
    try:
        header = json.loads(header_line) if newline else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    stats = header.get("stats") if isinstance(header, dict) else None
    if not isinstance(header, dict) or not isinstance(header.get("samples"), int) or not isinstance(stats, dict) \
            or not isinstance(stats.get("energy"), int):
        raise ValueError("unreadable header")
    energy_bytes = 8 * stats["energy"]
    samples = body[energy_bytes:]
    if len(samples) != 2 * header["samples"]:
        raise ValueError(f"{max(0, len(samples)) // 2} of {header['samples']} samples")
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise ValueError("checksum mismatch")
    energy = np.frombuffer(body[:energy_bytes], dtype="<f8")
    return header, Clip(samples, int(header["sample_rate_hz"]),
                        SoundStats(energy, float(stats["true_peak"]), int(stats["frames"])))


def clip_stats(samples: bytes, rate_hz: int) -> SoundStats:
    """A clip's BS.1770 statistics at full level (the mix scales them by its gain)."""
    return sound_stats(np.frombuffer(samples, dtype="<i2").astype(np.float64) / 32768, rate_hz)


def finish_clip(raw: Clip, text: str, engine_label: str = "the speech engine") -> Clip:
    """An engine's clip, checked to be plausible speech, trimmed of its silence and peak-limited."""
    rate_hz = raw.sample_rate_hz
    samples = np.frombuffer(raw.samples, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if len(samples) < rate_hz * 0.05 or loud.size == 0:
        raise SpeechError(f'{engine_label} produced no audible speech for "{text}"')
    words = max(1, len(text.split()))
    if len(samples) > rate_hz * (2 + words * 2):
        raise SpeechError(f'{engine_label} produced {len(samples) / rate_hz:.1f} s of audio for "{text}"; '
                          "that is implausibly long")
    first = max(0, loud[0] - int(KEEP_BEFORE_S * rate_hz))
    last = min(len(samples), loud[-1] + 1 + int(KEEP_AFTER_S * rate_hz))
    finished = limit_peaks(samples[first:last], rate_hz).tobytes()
    return Clip(finished, rate_hz, clip_stats(finished, rate_hz))


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


PARALLEL_MIN_PHRASES = 6  # fewer missing phrases than this are not worth starting processes for
STOP_WAIT_S = 10  # on Ctrl-C, how long a synthesis worker may take to finish its phrase


class SpeechService:
    """The engines (each made only when a phrase of it is missing from the cache) plus the cache.

    ``engines`` may hand in ready engines by name (tests wrap the real ones);
    any other is made on first use from ``voice.engine``. On a cold cache the
    missing phrases are synthesized by a pool of ``workers`` engine processes
    (default: one per core; spawned, one engine each), in the order they are
    heard; an engine handed in always speaks here, in this process.
    """

    def __init__(self, cache: PhraseCache, engines: dict[str, Engine] | None = None,
                 workers: int | None = None) -> None:
        self.cache = cache
        self._engines: dict[str, Engine] = dict(engines or {})
        self._handed_in = frozenset(self._engines)
        self.workers = workers if workers is not None else (os.cpu_count() or 1)

    def engine_for(self, name: str) -> Engine:
        if name not in self._engines:
            self._engines[name] = make_engine(name)
        return self._engines[name]

    @property
    def engine(self) -> Engine:
        """The default engine (pyttsx3)."""
        return self.engine_for(DEFAULT_ENGINE)

    def settings_for(self, voice: Voice, language: str,
                     where: VoiceSource = (None, None, "voice.name")) -> SpeechSettings:
        """The engine settings for ``voice``; ``where`` (file, line, field) locates an unknown voice."""
        return self.engine_for(voice.engine).settings_for(voice, language, where)

    def clips(self, texts: Iterable[str], settings: SpeechSettings,
              on_progress: Callable[[int, int], None] | None = None,
              on_clip: Callable[[str, Clip], None] | None = None,
              spoken: Callable[[str], str] = str) -> dict[str, Clip]:
        """Every phrase's clip, from the cache or freshly synthesized into it, handed on in the order given.

        ``spoken(text)`` is what the engine says for the written ``text`` (the
        routine's lexicon); the result is keyed by the written text.
        ``on_clip(text, clip)`` hears of each clip as soon as it and those before it exist.
        """
        texts = list(dict.fromkeys(texts))
        cached = {text: self.cache.load(settings, spoken(text)) for text in texts}
        missing = [text for text in texts if cached[text] is None]
        parallel = (self.workers > 1 and len(missing) >= PARALLEL_MIN_PHRASES
                    and settings.engine not in self._handed_in and self.engine_for(settings.engine).processes)
        pool = _SynthesisPool(min(self.workers, len(missing)), self.cache) if parallel else None
        try:
            pending = pool.submit_all(settings, {text: spoken(text) for text in missing}) if pool else {}
            found: dict[str, Clip] = {}
            for done, text in enumerate(texts, start=1):
                clip = cached[text]
                if clip is None:
                    clip = pending[text].result() if pool else \
                        self.cache.make(settings, spoken(text), self.engine_for(settings.engine))
                found[text] = clip
                if on_clip:
                    on_clip(text, clip)
                if on_progress:
                    on_progress(done, len(texts))
        except BaseException:
            if pool:
                pool.stop()
            raise
        if pool:
            pool.close()
        return found


class _SynthesisPool:
    """Engine processes that synthesize phrases into the shared cache and hand back each clip.

    Spawned (a process with threads is not safe to fork), one engine
    each, made on its first phrase. Ctrl-C is the parent's: workers ignore it and
    are terminated; an entry is linked into the cache only when complete, so a
    worker stopped mid-phrase leaves nothing behind.
    """

    def __init__(self, workers: int, cache: PhraseCache) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_start, initargs=(str(cache.root), cache.url))

    def submit_all(self, settings: SpeechSettings, spoken: dict[str, str]) -> dict:
        """A future per written text. The workers start here, with Ctrl-C held until they ignore it
        (a child gets the signal mask of its parent), so a Ctrl-C now never prints a worker's traceback."""
        import signal

        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return {text: self.executor.submit(_worker_synthesize, settings, said) for text, said in spoken.items()}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def stop(self) -> None:
        """Cancel what has not started; let each worker finish its phrase (under a second) and exit.

        A worker is not terminated mid-phrase: one killed while it sends its result leaves
        the pool's result pipe with half a message, and the interpreter then hangs at exit
        waiting for the pool (seen here 1 time in 7). Only one that does not exit is killed.
        """
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=STOP_WAIT_S)
        stuck = [process for process in processes if process.is_alive()]
        for process in stuck:
            process.kill()
            process.join()
        if not stuck:
            self.executor.shutdown(wait=True)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


_worker_cache: PhraseCache | None = None
_engines: dict[str, Engine] = {}  # a synthesis process's engines (a pool worker's, a Dask worker's)


def _process_engine(name: str) -> Engine:
    """This process's engine ``name``, made on first use."""
    if name not in _engines:
        _engines[name] = make_engine(name)
    return _engines[name]


def _worker_start(cache_root: str, cache_url: str | None = None) -> None:
    import signal

    global _worker_cache
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held by the parent while it started us
    _worker_cache = PhraseCache(Path(cache_root), cache_url)


def _worker_synthesize(settings: SpeechSettings, text: str) -> Clip:
    assert _worker_cache is not None
    clip = _worker_cache.make(settings, text, _process_engine(settings.engine))
    _worker_cache.notices.clear()
    return clip


# ---------------------------------------------------------------- synthesis as a task (a Dask worker)

_engine_lock = threading.Lock()
_engine_thread: list = []  # the one thread of this process that speaks (a ThreadPoolExecutor of one)


def synthesize_task(settings: SpeechSettings, spoken: dict[str, str], cache_root: str,
                    cache_url: str | None) -> dict[str, Clip]:
    """Synthesize one voice's phrases (written text: words as spoken) into the cache; their clips by written text.

    Runs on a Dask worker, also for phrases the cache has: then it only reads them, and
    Dask can run it again elsewhere if the worker holding its result dies (a retried task,
    or another worker, may also have stored a phrase meanwhile). A worker may run tasks on
    several threads, but a process's engine speaks one phrase at a time (espeak-ng's
    speaker answers one request at a time; piper's runtime already uses every core): so
    every synthesis of this process runs on one thread of its own, one task after another.
    """
    from concurrent.futures import ThreadPoolExecutor

    with _engine_lock:
        if not _engine_thread:
            _engine_thread.append(ThreadPoolExecutor(1, thread_name_prefix="voicecoach-engine"))
    return _engine_thread[0].submit(_synthesize_here, settings, spoken, cache_root, cache_url).result()


def _synthesize_here(settings: SpeechSettings, spoken: dict[str, str], cache_root: str,
                     cache_url: str | None) -> dict[str, Clip]:
    cache = PhraseCache(Path(cache_root), cache_url)
    # the engine is made only when a phrase is missing
    return {written: cache.load(settings, said) or cache.make(settings, said, _process_engine(settings.engine))
            for written, said in spoken.items()}
