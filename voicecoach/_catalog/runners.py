"""Runners: what renders and encodes a catalog's sessions. One protocol; here, in a process pool, or on Dask.

A runner is handed each voice's phrases (``clips``: the clips at hand, and
those still coming), then each session's job (``submit``). It reports every
session once, built or failed, to ``on_done(session, timeline or error)``;
``finish`` waits for all, ``stop`` abandons all (Ctrl-C) with nothing
half-written left behind.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from .. import _workers
from .._audio.timeline import Timeline
from .._errors import VoicecoachError
from .._pipeline.job import SessionJob
from .._pipeline.session import write_session
from .._speech.engines.base import Clip, SpeechSettings
from .._speech.service import SpeechService
from .model import CatalogProgress, PlannedSession

SessionDone = Callable[[PlannedSession, Timeline | VoicecoachError], None]
Coming = tuple[frozenset[str], Any]  # the phrases a pending synthesis makes, and its handle


class Runner(Protocol):
    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[Coming]]:
        """One voice's clips: those at hand, and those still coming."""
        ...

    def submit(self, session: PlannedSession, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        """Render ``job``; ``coming`` are the pending syntheses whose clips it still needs."""
        ...

    def poll(self) -> None:
        """Take note of finished work without waiting."""
        ...

    def finish(self) -> None:
        """Wait for everything submitted."""
        ...

    def stop(self) -> None:
        """Abandon everything (Ctrl-C): nothing half-written may stay behind."""
        ...


class InlineRunner:
    """One session at a time, in this process: for -j 1 or a batch of one. Speech comes from this process and
    its pool of engines."""

    def __init__(self, report: CatalogProgress, on_done: SessionDone) -> None:
        self.report, self.on_done = report, on_done

    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[Coming]]:
        return speech.clips(texts, settings, on_progress=on_progress, spoken=spoken), []

    def submit(self, session: PlannedSession, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        try:
            result: Timeline | VoicecoachError = write_session(
                job, on_chunk=lambda done, chunks: self.report("encode", done, chunks, session.name))
        except VoicecoachError as error:
            result = error
        self.on_done(session, result)

    def poll(self) -> None:
        pass

    def finish(self) -> None:
        pass

    def stop(self) -> None:
        pass


class PoolRunner(InlineRunner):
    """Sessions rendered by spawned worker processes (``_workers.render``), their progress sent back through a
    queue."""

    def __init__(self, workers: int, report: CatalogProgress, on_done: SessionDone) -> None:
        super().__init__(report, on_done)
        context = multiprocessing.get_context("spawn")  # a process with threads is not safe to fork
        self.queue = context.Queue()
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_workers.start_render,
                                        initargs=(self.queue,))
        self.futures: dict[Future, PlannedSession] = {}

    def submit(self, session: PlannedSession, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        with _workers.main_kept_out():  # the pool starts its workers as sessions are submitted
            self.futures[self.pool.submit(_workers.render, session.name, job)] = session

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
                self.on_done(session, error)
            elif isinstance(error, BrokenProcessPool):
                self.on_done(session, VoicecoachError("its worker process stopped unexpectedly; build it again"))
            elif error is not None:
                self.on_done(session, VoicecoachError(f"failed: {error!r}"))
            else:
                self.on_done(session, future.result())

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
