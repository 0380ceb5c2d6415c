"""Worker processes: how each one starts, and the work it is handed. Shared by every pool voicecoach runs.

- **Synthesis workers** (``SpeechService``'s pool; spawned): ``start_synthesis``, then ``synthesize`` one
  phrase at a time into the speech cache.
- **Render workers** (a batch's pool; spawned): ``start_render``, then ``render`` one session at a time,
  reporting its chunks through a queue.
- **Dask workers**: ``synthesize_task`` (a voice's phrases) and ``render_task`` (a session) run as tasks.

Every worker ignores Ctrl-C: the terminal sends it to the whole process group, and the parent decides (it
stops the pool, and a render worker it terminates unwinds like an interrupt, so nothing is left half-written).
A process has one engine of each kind, made when it first speaks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._speech.cache import PhraseCache
from ._speech.engines import Clip, Engine, SpeechSettings, make_engine

if TYPE_CHECKING:  # a synthesis worker needs no session writing (nor pydantic)
    from ._audio.timeline import Timeline
    from ._pipeline.job import SessionJob

_engines: dict[str, Engine] = {}  # this process's engines
_cache: PhraseCache | None = None  # a synthesis worker's speech cache
_progress: Any = None  # a render worker's queue: (session name, chunks done, chunks in all)
_rendering = False  # a render worker is writing a session (SIGTERM then unwinds it)
_parent_gone = False  # a render worker's batch died: it ends once the session it writes is unwound


@contextlib.contextmanager
def main_kept_out() -> Iterator[None]:
    """Start worker processes (spawned) without running the caller's main script again in them.

    A spawned child imports the parent's ``__main__`` from its file, so a plain script that calls
    ``voicecoach.build`` without an ``if __name__ == "__main__":`` guard would run again in every worker.
    Workers only run voicecoach's own functions, so while they start, the script's file is not named.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not hasattr(main, "__file__"):
        yield  # `python -m ...`: multiprocessing leaves a package's __main__ alone; or no file at all
        return
    path = main.__file__
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def process_engine(name: str) -> Engine:
    """This process's engine ``name``, made on first use."""
    if name not in _engines:
        _engines[name] = make_engine(name)
    return _engines[name]


def _die_with_parent(signum: int) -> None:
    """Have the kernel send ``signum`` to this worker when the process that started it dies, however it dies
    (kill -9 included), so that no worker outlives its build (Linux; elsewhere a worker ends when its pipe
    from the parent closes). If the parent is already gone, end now."""
    import ctypes
    import multiprocessing

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid != os.getppid():
        os._exit(1)


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held by a parent while it started us


# ---------------------------------------------------------------- synthesis workers


def start_synthesis(cache: PhraseCache) -> None:
    global _cache
    _die_with_parent(signal.SIGKILL)  # mid-phrase is fine: an entry is linked in only when whole
    _ignore_ctrl_c()
    _cache = cache


def synthesize(settings: SpeechSettings, text: str) -> Clip:
    """One phrase into the cache (the parent hears of damaged entries itself, when it reads them)."""
    assert _cache is not None
    clip = _cache.make(settings, text, process_engine(settings.engine))
    _cache.notices.clear()
    return clip


# ---------------------------------------------------------------- render workers


def start_render(progress: Any) -> None:
    """Report progress through ``progress``; on SIGTERM, unwind a session being written (its files and ffmpeg
    go), or exit at once when idle."""
    global _progress
    _progress = progress
    _ignore_ctrl_c()
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _orphaned)
    _die_with_parent(signal.SIGHUP)


def _terminated(signum: int, frame: Any) -> None:
    if _rendering:
        raise KeyboardInterrupt
    os._exit(128 + signum)


def _orphaned(signum: int, frame: Any) -> None:
    """The batch that started this worker died (kill -9 too): unwind the session being written (its ffmpeg is
    stopped, its unnamed files vanish), then end, as nobody is left to hand another one."""
    global _parent_gone
    _parent_gone = True
    _terminated(signum, frame)


def render(name: str, job: SessionJob) -> Timeline:
    from ._pipeline.session import write_session

    global _rendering
    _rendering = True
    try:
        return write_session(job, on_chunk=lambda done, chunks: _progress.put((name, done, chunks)))
    finally:
        _rendering = False
        if _parent_gone:
            os._exit(128 + signal.SIGHUP)


# ---------------------------------------------------------------- Dask workers

_engine_lock = threading.Lock()
_engine_thread: list = []  # the one thread of this process that speaks (a ThreadPoolExecutor of one)


def synthesize_task(settings: SpeechSettings, spoken: dict[str, str], cache: PhraseCache) -> dict[str, Clip]:
    """One voice's phrases (written text: words as spoken) from the cache or synthesized into it; their clips by
    written text.

    Runs also for phrases the cache has: then it only reads them, and Dask can run it again elsewhere if the
    worker holding its result dies (a retried task, or another worker, may also have stored a phrase
    meanwhile). A worker may run tasks on several threads, but a process's engine speaks one phrase at a time
    (espeak-ng's speaker answers one request at a time; piper's runtime already uses every core): so every
    synthesis of this process runs on one thread of its own, one task after another.
    """
    from concurrent.futures import ThreadPoolExecutor

    with _engine_lock:
        if not _engine_thread:
            _engine_thread.append(ThreadPoolExecutor(1, thread_name_prefix="voicecoach-engine"))
    return _engine_thread[0].submit(_synthesize_here, settings, spoken, cache).result()


def _synthesize_here(settings: SpeechSettings, spoken: dict[str, str], cache: PhraseCache) -> dict[str, Clip]:
    # the engine is made only when a phrase is missing
    return {written: cache.load(settings, said) or cache.make(settings, said, process_engine(settings.engine))
            for written, said in spoken.items()}


def render_task(job: SessionJob, *made: Mapping[str, Clip]) -> Timeline:
    """One session: the clips it was given plus those its voice's synthesis tasks made (``made``, which Dask
    hands over from wherever they ran); its files appear whole or not at all."""
    import dataclasses

    from ._pipeline.session import write_session

    phrases = set(job.plan.phrases())
    clips = {**job.clips, **{text: clip for batch in made for text, clip in batch.items() if text in phrases}}
    return write_session(dataclasses.replace(job, clips=clips))
