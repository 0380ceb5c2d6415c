"""TODO"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue as queue_module
import signal
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any


from .._errors import VoicecoachError
from .._publish.files import SessionFiles
from .._audio.timeline import Timeline
from .._audio.session import SessionJob, write_session
from .._speech.engines.base import Clip, SpeechSettings
from .._speech.service import SpeechService
from .._stores.remote import RemoteStore
from .model import BatchProgress, _Session


# ---------------------------------------------------------------- rendering: here, or in a process pool


def render_session(job: SessionJob, store: RemoteStore | None = None,
                   on_chunk: Callable[[int, int], None] | None = None) -> Timeline:
    """Write one session: into its folder, or, for a shared store, into a scratch folder here and then into the
    store, one whole object per file, the MP3 last (so a session whose MP3 is there has all its files)."""
    if store is None:
        return write_session(job, on_chunk=on_chunk)
    with tempfile.TemporaryDirectory(prefix="voicecoach-") as scratch:
        here = SessionFiles(Path(scratch) / job.files.mp3, tuple(Path(scratch) / path for path in job.files.subtitles))
        here.mp3.parent.mkdir(parents=True, exist_ok=True)
        timeline = write_session(dataclasses.replace(job, files=here), on_chunk=on_chunk)
        for local, relative in ((here.timeline, job.files.timeline), (here.lrc, job.files.lrc),
                                *zip(here.subtitles, job.files.subtitles), (here.mp3, job.files.mp3)):
            store.put_file(local, relative)
    return timeline


class _Renderer:
    """Renders and encodes sessions handed to it; records each one's error, reports each one finished."""

    def __init__(self, report: BatchProgress, session_finished: Callable[[], None],
                 store: RemoteStore | None = None) -> None:
        self.report = report
        self.finished = session_finished  # called once per session, built or failed
        self.store = store  # the shared store the sessions go to, if not a local folder

    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[tuple[frozenset[str], Any]]]:
        """One voice's clips: those at hand, and those still coming (the texts a pending synthesis makes).
        Here every clip is at hand: synthesized by this process and its pool of engines."""
        return speech.clips(texts, settings, on_progress=on_progress, spoken=spoken), []

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        """Render ``job``; ``coming`` are the pending syntheses whose clips it still needs."""
        raise NotImplementedError

    def poll(self) -> None:
        """Take note of finished work without waiting."""

    def finish(self) -> None:
        """Wait for everything submitted."""

    def stop(self) -> None:
        """Abandon everything (Ctrl-C): nothing half-written may stay behind."""


class _InlineRenderer(_Renderer):
    """One session at a time, in this process: for -j 1 or a batch of one."""

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        try:
            session.timeline = render_session(
                job, self.store, on_chunk=lambda done, chunks: self.report("encode", done, chunks, session.name))
        except VoicecoachError as error:
            session.error = error
        self.finished()


_progress_queue: Any = None
_busy = False


def _worker_start(progress_queue: Any) -> None:
    """In each worker: report progress through the queue; stop cleanly on SIGTERM.

    Ctrl-C in a terminal reaches every process of the group; workers ignore it and
    the parent, which decides, sends them SIGTERM. A busy worker then unwinds like
    an interrupt, so its temporary files are removed and ffmpeg is stopped.
    """
    global _progress_queue
    _progress_queue = progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)


def _worker_terminated(signum: int, frame: Any) -> None:
    if _busy:
        raise KeyboardInterrupt
    os._exit(128 + signum)


def _worker_render(name: str, job: SessionJob, store: RemoteStore | None) -> Timeline:
    global _busy
    _busy = True
    try:
        return render_session(job, store, on_chunk=lambda done, chunks: _progress_queue.put((name, done, chunks)))
    finally:
        _busy = False


class _PoolRenderer(_Renderer):
    """Sessions rendered by worker processes (spawned: see the module's docstring)."""

    def __init__(self, workers: int, report: BatchProgress, session_finished: Callable[[], None],
                 store: RemoteStore | None = None) -> None:
        super().__init__(report, session_finished, store)
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue()
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start,
                                        initargs=(self.queue,))
        self.futures: dict[Future, _Session] = {}

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        self.futures[self.pool.submit(_worker_render, session.name, job, self.store)] = session

    def poll(self, timeout_s: float = 0) -> None:
        if self.futures:
            finished, _ = wait(list(self.futures), timeout=timeout_s, return_when=FIRST_COMPLETED)
        else:
            finished = set()
        while True:
            try:
                name, done, chunks = self.queue.get_nowait()
            except (queue_module.Empty, OSError, ValueError):
                break
            self.report("encode", done, chunks, name)
        for future in finished:
            session = self.futures.pop(future)
            error = future.exception()
            if isinstance(error, VoicecoachError):
                session.error = error
            elif isinstance(error, BrokenProcessPool):
                session.error = VoicecoachError("its worker process stopped unexpectedly; build it again")
            elif error is not None:
                session.error = VoicecoachError(f"failed: {error!r}")
            else:
                session.timeline = future.result()
            self.finished()

    def finish(self) -> None:
        while self.futures:
            self.poll(timeout_s=0.1)
        self.pool.shutdown(wait=True)
        self.queue.close()

    def stop(self) -> None:
        """Cancel what has not started and make busy workers clean up and stop."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():  # an idle worker the pool left waiting; it holds nothing half-written
                process.kill()
                process.join()
        self.pool.shutdown(wait=True)
        self.queue.close()
