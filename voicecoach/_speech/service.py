"""The speech service: every phrase a build needs, from the cache or synthesized into it, in the order heard.

On a cold cache the missing phrases are synthesized by a pool of engine
processes (one per core, spawned; see ``voicecoach._workers``) for an engine
that speaks on one core, or here for one that uses every core already.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .. import _workers
from .cache import PhraseCache
from .engines import DEFAULT_ENGINE, Clip, Engine, SpeechSettings, VoiceSource, make_engine, portable

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    from .._routine.model import Voice


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
        parallel = (self.workers > 1 and len(missing) >= PARALLEL_MIN_PHRASES and settings.engine not in
                    self._handed_in and portable(settings.engine) and self.engine_for(settings.engine).processes)
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
                                            initializer=_workers.start_synthesis, initargs=(cache,))

    def submit_all(self, settings: SpeechSettings, spoken: dict[str, str]) -> dict:
        """A future per written text. The workers start here, with Ctrl-C held until they ignore it
        (a child gets the signal mask of its parent), so a Ctrl-C now never prints a worker's traceback."""
        import signal

        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            with _workers.main_kept_out():
                return {text: self.executor.submit(_workers.synthesize, settings, said)
                        for text, said in spoken.items()}
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
