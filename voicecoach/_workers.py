"""TODO"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING


from ._speech.engines import Clip, Engine, SpeechSettings, make_engine
from ._speech.cache import PhraseCache

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    pass


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
